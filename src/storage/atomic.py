"""Files that appear whole or not at all: every file the project writes goes through here.

A file is written under a temporary name in its own folder, fsynced, renamed over the target
(atomic on POSIX file systems, Lustre and GPFS included) and the folder fsynced, so that a crash,
a kill or a full disk at any moment leaves either the old file or the new one, never a truncated
mix; if writing fails the temporary file is removed and the target is untouched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def sync_folder(path: Path) -> None:
    """fsync the folder holding path, so that a rename into it survives a crash of the node."""
    fd = os.open(Path(path).parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def replacing(path) -> Iterator[Path]:
    """A temporary path beside `path` for a writer that needs a name (HDF5, matplotlib): when the
    block ends without an error the file there is fsynced and renamed over `path`; otherwise it is
    removed and `path` is untouched."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")  # one writer per file: the outputs are locked or owned
    try:
        yield tmp
        sync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sync_folder(path)


@contextmanager
def replaced(path, mode: str = "w", **open_args):
    """An open file (text by default) whose contents replace `path` when the block ends (replacing)."""
    with replacing(path) as tmp, open(tmp, mode, **open_args) as f:
        yield f


def write_text(path, text: str) -> None:
    with replaced(path, encoding="utf-8") as f:
        f.write(text)
