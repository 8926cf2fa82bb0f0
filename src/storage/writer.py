"""Writes a run file. The file is built as <output>.partial and renamed onto <output> only when the
run completes, so an existing file is never truncated and a failed run leaves it untouched."""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np

from src.storage.schema import FORMAT, FORMAT_VERSION, OBSERVABLE_DOCS, REPRESENTATION_DOCS, SUMMARY_DOCS


class OutputError(RuntimeError):
    """The output path cannot be used; the message is one line."""


def check_output(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise OutputError(
            f"output {path} exists; pass --overwrite to replace it (it is kept until the new run completes)"
        )
    parent = path.parent if str(path.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"output directory {parent}: {err.strerror}") from None
    if not os.access(parent, os.W_OK):
        raise OutputError(f"output directory {parent} is not writable")


class RunWriter:
    def __init__(
        self,
        path: Path,
        attrs: dict,
        temperatures,
        observable_names,
        n_measurements: int,
        snapshot_shapes: dict,
        n_snapshots: int,
        distance: int,
    ):
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        self.f = h5py.File(self.partial, "w")
        self.f.attrs.update({"format": FORMAT, "format_version": FORMAT_VERSION, "complete": False, **attrs})
        n_T = len(temperatures)
        t = self.f.create_dataset("temperatures", data=np.asarray(temperatures, dtype=np.float64))
        t.attrs["description"] = "temperature T = 1/beta of each row (k_B = 1, units of J)"
        obs = self.f.create_group("observables")
        for name in observable_names:
            d = obs.create_dataset(
                name, shape=(n_T, n_measurements), dtype=np.float64, chunks=(1, min(n_measurements, 16384))
            )
            text, unit = OBSERVABLE_DOCS[name]
            d.attrs.update({"description": text, "units": unit, "axes": "temperature, measurement"})
        snaps = self.f.create_group("snapshots")
        snaps.attrs["distance"] = distance
        for name, (shape, dtype) in snapshot_shapes.items():
            d = snaps.create_dataset(
                name,
                shape=(n_T, n_snapshots, *shape),
                dtype=dtype,
                chunks=(1, 1, *shape) if n_snapshots else None,
            )
            axes = "temperature, snapshot, " + ("channel, y, x" if len(shape) == 3 else "y, x")
            d.attrs.update({"description": REPRESENTATION_DOCS[name], "axes": axes, "distance": distance})

    def write_observables(self, start: int, block: dict):
        """block[name]: (n_T, k) values of measurements start .. start + k - 1."""
        for name, values in block.items():
            self.f["observables"][name][:, start : start + values.shape[1]] = values

    def write_snapshot(self, index: int, reps: dict):
        """reps[name]: (n_T, ...) one snapshot of every temperature."""
        for name, values in reps.items():
            self.f["snapshots"][name][:, index] = values

    def write_summary(self, summary: dict):
        g = self.f.create_group("summary")
        g.attrs["description"] = "per temperature: value and error (delete-one jackknife over bins)"
        for name, (value, err) in summary.items():
            d = g.create_dataset(name, data=np.stack([np.asarray(value, float), np.asarray(err, float)], -1))
            d.attrs["description"] = SUMMARY_DOCS.get(name, f"mean of observables/{name}")
            d.attrs["columns"] = "value, error"

    def finish(self, attrs: dict):
        self.f.attrs.update({**attrs, "complete": True})
        self.f.close()
        os.replace(self.partial, self.path)

    def abort(self):
        self.f.close()
        self.partial.unlink(missing_ok=True)
