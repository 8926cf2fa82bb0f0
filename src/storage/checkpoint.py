"""Checkpoints: everything needed to continue a run exactly, in one HDF5 file.

Written by rank 0 from the gathered chain states to <output>.ckpt.tmp, flushed to disk, then
renamed onto <output>.ckpt, so a checkpoint is either the previous one or the new one, never a
torn file. A SHA-256 over every dataset guards against damage, and the hash of the run's config
(without the keys that may change between sessions) against resuming a different run.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import h5py
import numpy as np

from src.config import Config

FORMAT = "spinml-checkpoint"
# keys a user may change when resuming: where the file goes is fixed by --resume itself, and the
# checkpoint interval and backend do not change the Markov chains
MUTABLE_KEYS = ("checkpoint", "backend")


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used; one-line message."""


def checkpoint_path(output: Path) -> Path:
    return output.with_name(output.name + ".ckpt")


def config_hash(config: Config) -> str:
    d = config.model_dump(mode="json")
    for k in MUTABLE_KEYS:
        d.pop(k, None)
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()


def _checksum(arrays: dict) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(str(a.dtype).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save(path: Path, config: Config, arrays: dict, meta: dict) -> None:
    """arrays: name -> numpy array; meta: JSON-able run position (measurement index, ...)."""
    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        for name, a in arrays.items():
            f.create_dataset(name, data=np.asarray(a))
        f.attrs.update(
            {
                "format": FORMAT,
                "config_hash": config_hash(config),
                "model": config.model.name,
                "meta": json.dumps(meta),
                "checksum": _checksum(arrays),
            }
        )
        f.flush()
        os.fsync(f.id.get_vfd_handle())
    os.replace(tmp, path)


def load(path: Path, config: Config) -> tuple[dict, dict]:
    """(arrays, meta) of a checkpoint that belongs to this config; CheckpointError otherwise."""
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise CheckpointError(f"checkpoint {path}: not readable as HDF5 (damaged?)") from None
    with f:
        if f.attrs.get("format") != FORMAT:
            raise CheckpointError(f"checkpoint {path}: not a {FORMAT} file")
        if f.attrs["model"] != config.model.name:
            raise CheckpointError(
                f"checkpoint {path}: holds the {f.attrs['model']} model, the config the "
                f"{config.model.name} model"
            )
        if f.attrs["config_hash"] != config_hash(config):
            raise CheckpointError(
                f"checkpoint {path}: written for a different config (only "
                f"{', '.join(MUTABLE_KEYS)} may change on --resume)"
            )
        arrays = {}
        f.visititems(
            lambda name, obj: arrays.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None
        )
        if _checksum(arrays) != f.attrs["checksum"]:
            raise CheckpointError(f"checkpoint {path}: checksum mismatch (damaged)")
        return arrays, json.loads(f.attrs["meta"])
