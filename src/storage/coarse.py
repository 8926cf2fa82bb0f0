"""Coarse files: the block transform of a run file's snapshots (computed by src.learning.rg.runfile),
in HDF5, documented for users in docs/rg.md.

/                    attrs: format = "spinml-coarse", source (the run file), model, q, J, L (coarse),
                     L_fine, block_size, distance (the coarse r' of `improved`)
/temperatures        (n_T,)
/snapshots/<name>    (n_T, n_snapshots, ...) with the run file's dtypes: row [t, n] is the transform
                     of the run file's snapshot [t, n]

A coarse file is written as <target>.partial and renamed onto <target> when complete; an existing
target is never overwritten, and a failed transformation leaves no file.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

COARSE_FORMAT = "spinml-coarse"


def check_target(target) -> Path:
    """The target as a Path; FileExistsError when it exists (coarse files are never overwritten)."""
    target = Path(target)
    if target.exists():
        raise FileExistsError(f"{target} exists")
    return target


class CoarseWriter:
    """Writes one coarse file. Use as a context manager: the file is renamed onto `target` when the
    block ends normally and removed when it raises.

    >>> with CoarseWriter(target, attrs, temperatures) as out:   # attrs: source, model, q, J, L, ...
    ...     out.create("spin", (n_T, n_snapshots, L, L), np.int8, per_chunk=256)
    ...     out.write("spin", t, start, values)   # rows start ... start + len(values) - 1 at t
    """

    def __init__(self, target, attrs: dict, temperatures: np.ndarray):
        self.target = check_target(target)
        self.partial = self.target.with_name(self.target.name + ".partial")
        self.f = h5py.File(self.partial, "w")
        self.dataset = None  # the one being written: keeping no others open keeps the bytes of the file
        self.f.attrs.update({"format": COARSE_FORMAT, **attrs})
        self.f["temperatures"] = temperatures

    def __enter__(self):
        return self

    def __exit__(self, kind, *exc):
        self.f.close()
        if kind is None:
            self.partial.rename(self.target)
        else:
            self.partial.unlink(missing_ok=True)

    def create(self, name: str, shape: tuple, dtype, per_chunk: int) -> None:
        """/snapshots/<name> of `shape` (n_T, n_snapshots, ...), stored in chunks of `per_chunk`
        consecutive snapshots of one temperature (at most n_snapshots, at least one)."""
        chunks = (1, max(1, min(per_chunk, shape[1]))) + tuple(shape[2:])
        self.dataset = self.f.create_dataset(f"snapshots/{name}", shape=shape, dtype=dtype, chunks=chunks)

    def write(self, name: str, t: int, start: int, values: np.ndarray) -> None:
        """values (B, ...): the coarse snapshots start ... start + B - 1 at temperature row t."""
        if self.dataset.name != f"/snapshots/{name}":
            self.dataset = self.f["snapshots"][name]
        self.dataset[t, start : start + len(values)] = values
