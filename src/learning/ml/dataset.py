"""Snapshots as a torch Dataset: item i is snapshot `snapshot[i]` at temperature row
`temperature[i]` of file `file[i]`, read from the HDF5 file only when asked for.

Indexing with a list of positions returns a whole batch, read with one slice per run of nearby
snapshots (the files store consecutive snapshots of one temperature in one chunk), so a batch of
blocks costs a few reads rather than one per snapshot. Each process (a DataLoader worker, a rank)
opens the files itself the first time it reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from src.learning.ml.config import LabelsConfig
from src.learning.ml.encoding import encode
from src.learning.ml.errors import TrainError
from src.learning.ml.sources import Source
from src.storage.reader import RunFile, SnapshotArray

MAX_GAP = 16  # snapshots skipped inside one read rather than starting another


@dataclass(frozen=True)
class SnapshotIndex:
    """Parallel arrays, ordered by (file, temperature, snapshot)."""

    file: np.ndarray
    temperature: np.ndarray
    snapshot: np.ndarray
    label: np.ndarray

    def __len__(self) -> int:
        return len(self.file)

    def take(self, positions: np.ndarray) -> SnapshotIndex:
        return SnapshotIndex(
            *(a[positions] for a in (self.file, self.temperature, self.snapshot, self.label))
        )

    def run_starts(self, *keys: np.ndarray) -> np.ndarray:
        """The positions where (file, temperature), or one of `keys`, changes."""
        change = (np.diff(self.file) != 0) | (np.diff(self.temperature) != 0)
        for key in keys:
            change |= np.diff(key) != 0
        return np.flatnonzero(np.r_[True, change])


def snapshot_index(sources: list[Source], rows) -> SnapshotIndex:
    """Every snapshot of the given (file, temperature row, label) rows."""
    counts = [sources[f].n_snapshots for f, _, _ in rows]
    return SnapshotIndex(
        file=np.repeat([f for f, _, _ in rows], counts).astype(np.int32),
        temperature=np.repeat([t for _, t, _ in rows], counts).astype(np.int32),
        snapshot=np.concatenate([np.arange(n) for n in counts]).astype(np.int64),
        label=np.repeat([c for _, _, c in rows], counts).astype(np.int64),
    )


def labelled_index(sources: list[Source], labels: LabelsConfig) -> SnapshotIndex:
    """Every snapshot at a temperature inside one of the windows of `labels` (a LabelsConfig)."""
    rows = [
        (f, t, labels.classify(float(temp)))
        for f, s in enumerate(sources)
        for t, temp in enumerate(s.temperatures)
    ]
    rows = [r for r in rows if r[2] is not None]
    for i, w in enumerate(labels.windows):
        if not any(w.contains(float(sources[f].temperatures[t])) for f, t, _ in rows):
            raise TrainError(
                f"config key 'labels.windows.{i}': no temperature of the files in {w.describe()}"
            )
    return snapshot_index(sources, rows)


def split(index: SnapshotIndex, val_fraction: float, seed: int) -> tuple[SnapshotIndex, SnapshotIndex]:
    """(train, validation): the same fraction of the snapshots of every (file, temperature) is held
    out, chosen at random from the seed alone (so every rank and every resume draws the same)."""
    rng = np.random.default_rng([seed, 0x5E1])
    held = np.zeros(len(index), dtype=bool)
    starts = index.run_starts()
    for start, stop in zip(starts, np.r_[starts[1:], len(index)]):
        n_val = round(val_fraction * (stop - start))
        held[start + rng.choice(stop - start, n_val, replace=False)] = True
    if not held.any() or held.all():
        raise TrainError(
            f"config key 'training.val_fraction': {val_fraction} leaves "
            f"{'no validation' if not held.any() else 'no training'} snapshots"
        )
    return index.take(np.flatnonzero(~held)), index.take(np.flatnonzero(held))


class SnapshotDataset(torch.utils.data.Dataset):
    """dataset[i] -> (x, y) of one snapshot; dataset[[i, j, ...]] -> (x, y) of the batch, stacked, for
    positions of one lattice size. Here x is the float32 (C, L, L) encoding of src.learning.ml.encoding and y
    the class label; subclasses turn snapshots into other (input, target) pairs (`pairs`)."""

    def __init__(self, sources: list[Source], representation: str, index: SnapshotIndex, rescale=0.0):
        self.sources, self.representation, self.index = sources, representation, index
        self.rescale = rescale  # inputs times L^rescale (src.learning.ml.encoding)
        self._arrays, self._pid = {}, None

    def __len__(self) -> int:
        return len(self.index)

    def __getstate__(self):  # open files do not travel to spawned workers; each opens its own
        return {**self.__dict__, "_arrays": {}, "_pid": None}

    def _snapshots(self, f: int, representation: str) -> SnapshotArray:
        if self._pid != os.getpid():  # a forked worker: the parent's handles are not ours to use
            self._arrays, self._pid = {}, os.getpid()
        if (f, representation) not in self._arrays:
            run = RunFile(self.sources[f].path)  # kept with its array: closing it would close both
            self._arrays[f, representation] = (run, run.snapshot_array(representation))
        return self._arrays[f, representation][1]

    def read(self, f: int, t: int, snaps: np.ndarray, representation: str | None = None) -> np.ndarray:
        """Snapshots `snaps` (sorted, close together) of temperature row t of file f, in one read."""
        block = self._snapshots(f, representation or self.representation)[t, snaps[0] : snaps[-1] + 1]
        return block[snaps - snaps[0]]

    def pairs(self, stored: np.ndarray, source: Source, labels: np.ndarray):
        """(network input, target) tensors of snapshots as stored in one file, with their labels."""
        x = encode(stored, source.model, self.representation, self.rescale)
        return torch.from_numpy(x), torch.from_numpy(labels)

    def __getitem__(self, i):
        if np.ndim(i) == 0:
            x, y = self[[int(i)]]
            return x[0], y[0]
        positions = np.asarray(i, dtype=np.int64)
        order = np.argsort(positions, kind="stable")
        ix = self.index.take(positions[order])
        # runs of one (file, temperature) whose snapshots lie close together: one read each
        starts = ix.run_starts(np.cumsum(np.r_[0, np.diff(ix.snapshot) > MAX_GAP]))
        parts = []
        for start, stop in zip(starts, np.r_[starts[1:], len(ix)]):
            f, t, snaps = ix.file[start], ix.temperature[start], ix.snapshot[start:stop]
            parts.append(self.pairs(self.read(f, t, snaps), self.sources[f], ix.label[start:stop]))
        asked = torch.from_numpy(np.argsort(order))  # from sorted positions back to the order asked for
        x, y = (torch.cat(p)[asked] for p in zip(*parts))
        return x, y
