"""Checkpoint files of sampling runs: named arrays and a JSON record of the run's position, in one
HDF5 file, written so that a checkpoint is either the previous one or the new one, never a torn file.

Written whole or not at all (src.storage.atomic: a temporary file, fsync, rename, fsync of the
folder) and sealed (src.storage.sealed: a SHA-256 of every byte in the HDF5 user block, checked
before HDF5 reads the file); the model's name and a hash of the run's config (computed by the
driver, src.sampling.driver.checkpointing) guard against resuming a different run.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from src.storage import sealed
from src.storage.atomic import replacing

FORMAT = "spinml-checkpoint"


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used; one-line message."""


def save(path: Path, arrays: dict, meta: dict, *, model: str, config_hash: str) -> None:
    """arrays: name -> numpy array; meta: JSON-able record (the run's position, ...)."""
    with replacing(path) as tmp:
        with h5py.File(tmp, "w", userblock_size=sealed.HEADER) as f:
            for name, a in arrays.items():
                f.create_dataset(name, data=np.asarray(a))
            attrs = {"format": FORMAT, "config_hash": config_hash, "model": model, "meta": json.dumps(meta)}
            f.attrs.update(attrs)
        sealed.seal(tmp)


def load(path: Path, *, model: str, config_hash: str, mismatch: str) -> tuple[dict, dict]:
    """(arrays, meta) of a checkpoint of this model and config; CheckpointError otherwise, with
    `mismatch` saying what may differ when the config's hash does."""
    try:
        sealed.verify(path, f"checkpoint {path}")
    except sealed.SealError as err:
        raise CheckpointError(str(err)) from None
    except OSError as err:
        raise CheckpointError(f"checkpoint {path}: {err.strerror or err}") from None
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") != FORMAT:
            raise CheckpointError(f"checkpoint {path}: not a {FORMAT} file")
        arrays = {}
        f.visititems(
            lambda name, obj: arrays.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None
        )
        if f.attrs["model"] != model:
            raise CheckpointError(
                f"checkpoint {path}: holds the {f.attrs['model']} model, the config the {model} model"
            )
        if f.attrs["config_hash"] != config_hash:
            raise CheckpointError(f"checkpoint {path}: {mismatch}")
        return arrays, json.loads(f.attrs["meta"])
