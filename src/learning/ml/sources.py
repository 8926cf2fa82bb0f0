"""The run files a training run reads: what each holds, where it came from, and whether they fit
together. Files are only opened here to read their metadata; the data set reads the snapshots."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from src.learning.ml.encoding import channels
from src.learning.ml.errors import TrainError
from src.models import Model
from src.storage.reader import RunFile, RunFileError

# run-file attributes that identify the run that wrote a file (see docs/format.md)
IDENTIFYING_ATTRS = ("seed", "git_commit", "started", "finished", "update", "format_version")


@dataclass(frozen=True)
class Source:
    path: str
    model: Model
    temperatures: np.ndarray
    n_snapshots: int  # per temperature
    chunk: int  # consecutive snapshots of one temperature stored together (SnapshotArray.stored_together)
    distance: int
    provenance: dict  # plain data, for the metadata of a trained network


def _plain(value):
    """HDF5 attributes come back as numpy scalars; model files hold plain python data only."""
    return value.item() if isinstance(value, np.generic) else value


def read_source(path: str, representation: str) -> Source:
    with RunFile(path) as run:
        if not run.attrs.get("complete"):
            raise RunFileError(f"{path}: the run is not complete")
        snapshots = run.snapshot_array(representation)
        model, attrs = run.model, run.attrs
        provenance = {
            "path": str(Path(path).resolve()),
            "bytes": Path(path).stat().st_size,
            **model.attributes(),
            "representation": representation,
            "distance": run.distance,
            **{k: _plain(attrs[k]) for k in IDENTIFYING_ATTRS if k in attrs},
        }
        return Source(
            path=path,
            model=model,
            temperatures=run.temperatures,
            n_snapshots=snapshots.shape[1],
            chunk=snapshots.stored_together,
            distance=run.distance,
            provenance=provenance,
        )


def read_sources(paths, representation: str, mixed_models: bool) -> list[Source]:
    """The files' metadata; TrainError when they cannot be trained on together."""
    sources = [read_source(p, representation) for p in paths]
    first = sources[0]
    for s in sources:
        if s.n_snapshots == 0:
            raise TrainError(f"{s.path}: holds no snapshots")
        if not (s.model == replace(first.model, L=s.model.L) or mixed_models):
            raise TrainError(
                f"{s.path}: holds the {_model_name(s.model)} model, {first.path} the "
                f"{_model_name(first.model)} model (set data.mixed_models to train on both)"
            )
        if channels(s.model, representation) != channels(first.model, representation):
            raise TrainError(
                f"{s.path}: its {representation} encoding has {channels(s.model, representation)} channels, "
                f"that of {first.path} {channels(first.model, representation)}"
            )
    return sources


def _model_name(model: Model) -> str:
    """e.g. 'xy', 'clock q=6', 'ising J=0.5'."""
    return model.label + (f" J={model.J:g}" if model.J != 1 else "")
