"""Checkpoint files of sampling runs: named arrays and a JSON record of the run's position, in one
HDF5 file, written so that a checkpoint is either the previous one or the new one, never a torn file.

Written whole or not at all (src.storage.atomic: a temporary file, fsync, rename, fsync of the
folder). A SHA-256 over every dataset and every attribute (the record included) guards against
damage; the model's name and a hash of the run's config (computed by the driver,
src.sampling.driver.checkpointing) guard against resuming a different run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import h5py
import numpy as np

from src.storage.atomic import replacing

FORMAT = "spinml-checkpoint"


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used; one-line message."""


def _checksum(arrays: dict, attrs: dict) -> str:
    h = hashlib.sha256(json.dumps(attrs, sort_keys=True).encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(str(a.dtype).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save(path: Path, arrays: dict, meta: dict, *, model: str, config_hash: str) -> None:
    """arrays: name -> numpy array; meta: JSON-able record (the run's position, ...)."""
    with replacing(path) as tmp, h5py.File(tmp, "w") as f:
        for name, a in arrays.items():
            f.create_dataset(name, data=np.asarray(a))
        attrs = {"format": FORMAT, "config_hash": config_hash, "model": model, "meta": json.dumps(meta)}
        f.attrs.update({**attrs, "digest": _checksum(arrays, attrs)})


def load(path: Path, *, model: str, config_hash: str, mismatch: str) -> tuple[dict, dict]:
    """(arrays, meta) of a checkpoint of this model and config; CheckpointError otherwise, with
    `mismatch` saying what may differ when the config's hash does."""
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise CheckpointError(f"checkpoint {path}: not readable as HDF5 (damaged?)") from None
    with f:
        if f.attrs.get("format") != FORMAT:
            raise CheckpointError(f"checkpoint {path}: not a {FORMAT} file")
        attrs = {k: f.attrs.get(k) for k in ("format", "config_hash", "model", "meta")}
        if "digest" not in f.attrs or not all(isinstance(v, str) for v in attrs.values()):
            raise CheckpointError(f"checkpoint {path}: written by an older version or damaged; start again")
        arrays = {}
        f.visititems(
            lambda name, obj: arrays.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None
        )
        if _checksum(arrays, attrs) != f.attrs["digest"]:  # first: damage can fake any other answer
            raise CheckpointError(f"checkpoint {path}: checksum mismatch (damaged)")
        if f.attrs["model"] != model:
            raise CheckpointError(
                f"checkpoint {path}: holds the {f.attrs['model']} model, the config the {model} model"
            )
        if f.attrs["config_hash"] != config_hash:
            raise CheckpointError(f"checkpoint {path}: {mismatch}")
        return arrays, json.loads(f.attrs["meta"])
