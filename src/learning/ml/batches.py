"""Which snapshots make up each step, and which of them each rank reads."""

from __future__ import annotations

import numpy as np
from torch.utils.data.distributed import DistributedSampler

from src.learning.ml.dataset import SnapshotIndex
from src.learning.ml.errors import TrainError
from src.learning.ml.sources import Source

BLOCKS_PER_BATCH = 16  # a global batch draws on at least this many (file, temperature) blocks


def block_size(chunk: int, batch_size: int) -> int:
    """Snapshots per block: a power of two (so blocks tile the power-of-two chunks of the files),
    at most a chunk, and small enough that a batch mixes BLOCKS_PER_BATCH blocks."""
    return 1 << (min(chunk, max(1, batch_size // BLOCKS_PER_BATCH)).bit_length() - 1)


class BlockBatchSampler(DistributedSampler):
    """Yields this rank's share (a list of data set positions) of every global batch of an epoch.

    A global batch holds whole blocks of consecutive snapshots of one (file, temperature), so it is
    read in a few slices, and snapshots of one lattice size, so it stacks into one tensor. With
    shuffle, each epoch permutes the blocks of every size, cuts them into batches of batch_size
    (dropping the rest), and permutes the batches of all sizes together, from (seed, epoch) alone.
    Without (validation), blocks keep file order and the last short batch of each size is kept.

    Rank r of K takes the r-th of K equal slices of each batch. Together the ranks take exactly the
    batch that one process would, and DDP's mean of the slices' gradients is the gradient of the
    batch: the steps do not depend on the number of processes. It subclasses DistributedSampler
    for its interface (set_epoch, rank, seed), with this order in place of a per-snapshot shuffle.
    """

    def __init__(
        self,
        index: SnapshotIndex,
        sources: list[Source],
        batch_size: int,
        *,
        shuffle: bool,
        seed: int,
        num_replicas: int,
        rank: int,
    ):
        super().__init__(index, num_replicas=num_replicas, rank=rank, shuffle=shuffle, seed=seed)
        if shuffle and batch_size % num_replicas:
            raise TrainError(
                f"config key 'training.batch_size': {batch_size} does not split into "
                f"equal parts on {num_replicas} processes"
            )
        self.batch_size, self.start_step = batch_size, 0
        sizes = np.array([block_size(s.chunk, batch_size) for s in sources])
        starts = index.run_starts(index.snapshot // sizes[index.file])
        lattice = np.array([s.model.L for s in sources])[index.file[starts]]
        blocks = np.split(np.arange(len(index)), starts[1:])
        self.blocks = {int(L): [b for b, l in zip(blocks, lattice) if l == L] for L in np.unique(lattice)}
        if shuffle:
            for L, bs in self.blocks.items():
                n = sum(len(b) for b in bs)
                if n < batch_size:
                    raise TrainError(
                        f"config key 'training.batch_size': {batch_size} is more than the {n} "
                        f"training snapshots of L = {L}"
                    )

    def _batches(self) -> list[np.ndarray]:
        rng = np.random.default_rng([self.seed, self.epoch])
        batches = []
        for L in sorted(self.blocks):
            bs = self.blocks[L]
            order = rng.permutation(len(bs)) if self.shuffle else range(len(bs))
            flat, b = np.concatenate([bs[i] for i in order]), self.batch_size
            batches += [flat[i * b : (i + 1) * b] for i in range(self._n_batches(len(flat)))]
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def __iter__(self):
        for batch in self._batches()[self.start_step :]:
            share = np.array_split(batch, self.num_replicas)[self.rank]
            if len(share):
                yield share.tolist()

    def _n_batches(self, n_snapshots: int) -> int:
        return n_snapshots // self.batch_size if self.shuffle else -(-n_snapshots // self.batch_size)

    def __len__(self) -> int:
        """Global batches per epoch (the steps of training)."""
        return sum(self._n_batches(sum(len(b) for b in bs)) for bs in self.blocks.values())
