"""Sealed files: the first HEADER bytes of the file hold the SHA-256 of every byte after them, so
that a reader refuses a damaged file before any parser sees it. A checksum over the parsed contents
misses damage to the container's own structure (zip directories, HDF5 object headers), and HDF5
may crash the process on such damage instead of raising.

Two kinds of file are sealed: sampling checkpoints (HDF5 with a user block of HEADER bytes, which
HDF5 skips, so the file stays an ordinary HDF5 file) and network files (the header, then what
torch.save writes).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

HEADER = 512  # HDF5 user blocks are 512 bytes or a larger power of two
MAGIC = b"spinml-sealed sha256 "
CHUNK = 1 << 24


class SealError(ValueError):
    """A sealed file that is damaged, or a file that is not sealed; one-line message."""


def header(payload_digest: str) -> bytes:
    line = MAGIC + payload_digest.encode() + b"\n"
    return line + bytes(HEADER - len(line))


def _digest_from(f) -> str:
    h = hashlib.sha256()
    f.seek(HEADER)
    while chunk := f.read(CHUNK):
        h.update(chunk)
    return h.hexdigest()


def seal(path: Path) -> None:
    """Write the header of a file whose first HEADER bytes were left free for it."""
    with open(path, "r+b") as f:
        digest = _digest_from(f)
        f.seek(0)
        f.write(header(digest))


def sealed_bytes(payload: bytes) -> bytes:
    return header(hashlib.sha256(payload).hexdigest()) + payload


def is_sealed(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(len(MAGIC)) == MAGIC


def verify(path: Path, what: str) -> None:
    """SealError naming `what` unless the file is sealed and every byte after its header is intact."""
    with open(path, "rb") as f:
        head = f.read(HEADER)
        recorded = head[len(MAGIC) : len(MAGIC) + 64].decode("ascii", "replace")
        if len(head) < HEADER or not head.startswith(MAGIC):
            raise SealError(f"{what}: not sealed (written by an older version, or not such a file)")
        if head != header(recorded) or _digest_from(f) != recorded:
            raise SealError(f"{what}: damaged (its SHA-256 does not match its contents)")


def payload(path: Path, what: str) -> bytes:
    """The verified bytes after the header."""
    verify(path, what)
    with open(path, "rb") as f:
        f.seek(HEADER)
        return f.read()
