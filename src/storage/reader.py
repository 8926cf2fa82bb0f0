"""The reader API for run files: the only place outside the writer that knows the layout. Readers get
numpy arrays and plain data, and SnapshotArray views for streaming reads of the snapshots, never
h5py objects."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import yaml

from src.models import Model, from_attributes
from src.storage.schema import FORMAT, FORMAT_VERSION


class RunFileError(ValueError):
    """A file that is not a usable run file for what was asked; one-line message."""


def is_hdf5(path) -> bool:
    """Whether path is an HDF5 file (by its signature; False for a missing file)."""
    return Path(path).is_file() and h5py.is_hdf5(path)


class SnapshotArray:
    """A read-only view of the (n_T, n_snapshots, ...) snapshots of one representation in an open
    run file: indexing reads from the file and returns numpy arrays, e.g. a[t], a[t, start:stop],
    a[rows, start:stop] (rows: increasing temperature indices). Valid while its RunFile is open."""

    def __init__(self, dataset):
        self._dataset = dataset

    @property
    def shape(self) -> tuple[int, ...]:
        return self._dataset.shape

    @property
    def dtype(self) -> np.dtype:
        return self._dataset.dtype

    @property
    def nbytes(self) -> int:
        return self._dataset.nbytes

    @property
    def stored_together(self) -> int:
        """How many consecutive snapshots of one temperature the file stores together (one HDF5
        chunk): reading any of them reads them all, so reads of whole blocks of them cost least."""
        chunks = self._dataset.chunks
        return chunks[1] if chunks else self.shape[1]

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index) -> np.ndarray:
        return np.asarray(self._dataset[index])


class RunFile:
    """A run file opened for reading. Use as a context manager or call close().

    >>> with RunFile("results/run.h5") as run:
    ...     e = run.observable("energy")              # (n_T, n_measurements)
    ...     x = run.snapshots("improved", 0)          # (n_snapshots, 2, L, L) at temperature 0
    """

    def __init__(self, path):
        self.path = Path(path)
        if not self.path.is_file():
            raise RunFileError(f"{self.path}: no such file")
        try:
            self.f = h5py.File(self.path, "r")
        except OSError:
            raise RunFileError(f"{self.path}: not an HDF5 file") from None
        if self.f.attrs.get("format") != FORMAT:
            self.f.close()
            raise RunFileError(f"{self.path}: not a {FORMAT} file")
        version = self.f.attrs.get("format_version", 1)
        if not isinstance(version, (int, np.integer)) or not 1 <= version <= FORMAT_VERSION:
            self.f.close()
            raise RunFileError(
                f"{self.path}: format version {version!r}; this release reads versions 1 to {FORMAT_VERSION}"
            )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.f.close()

    @property
    def attrs(self) -> dict:
        return dict(self.f.attrs)

    @property
    def config(self) -> dict:
        return yaml.safe_load(self.f.attrs["config"])

    @property
    def model(self) -> Model:
        return from_attributes(self.f.attrs)

    def require_model(self, name: str) -> None:
        if self.model.name != name:
            raise RunFileError(f"{self.path}: holds the {self.model.name} model, expected {name}")

    @property
    def temperatures(self) -> np.ndarray:
        return self.f["temperatures"][:]

    @property
    def observable_names(self) -> list[str]:
        return list(self.f["observables"])

    def observable(self, name: str) -> np.ndarray:
        if name not in self.f["observables"]:
            raise RunFileError(
                f"{self.path}: no observable {name!r} (has: {', '.join(self.observable_names)})"
            )
        return self.f["observables"][name][:]

    @property
    def representations(self) -> list[str]:
        return list(self.f["snapshots"])

    @property
    def distance(self) -> int:
        return int(self.f["snapshots"].attrs["distance"])

    def snapshot_array(self, name: str) -> SnapshotArray:
        """The (n_T, n_snapshots, ...) snapshots of representation `name`, read as they are indexed."""
        if name not in self.f["snapshots"]:
            have = ", ".join(self.representations) or "none"
            raise RunFileError(f"{self.path}: no representation {name!r} (has: {have})")
        return SnapshotArray(self.f["snapshots"][name])

    def snapshots(self, name: str, temperature_index: int | None = None) -> np.ndarray:
        d = self.snapshot_array(name)
        return d[:] if temperature_index is None else d[temperature_index]

    @property
    def summary(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        if "summary" not in self.f:
            return {}
        return {k: (v[:, 0], v[:, 1]) for k, v in self.f["summary"].items()}
