"""What the CPU and GPU backends share: the checks of their options and the bookkeeping of a
batch of replicas (counters, Wolff clusters per sweep, whether the stored graph is current)."""

from __future__ import annotations

import numpy as np

from src.models.spec import ModelSpec
from src.updates.wolff_tuning import WolffClustersPerSweep

UPDATES = ("sw", "wolff", "metropolis")


class BatchBackend:
    def __init__(self, model: ModelSpec, update: str, replica_ids, overrelax: int, metropolis_window: float):
        if update not in UPDATES:
            raise ValueError(f"unknown update {update!r} (allowed: {', '.join(UPDATES)})")
        if overrelax and not model.continuous:
            raise ValueError(f"over-relaxation is defined for the xy model only, not {model.name!r}")
        if (update == "metropolis" or overrelax) and model.L % 2:
            raise ValueError(f"checkerboard updates need an even L, got L = {model.L}")
        self.model = model
        self.update = update
        self.overrelax = int(overrelax)
        self.window = float(metropolis_window)
        self.ids = np.asarray(replica_ids)
        self.flipped = 0  # spins flipped by Wolff clusters
        self.accepted = 0  # accepted Metropolis proposals
        self._graph_current = False
        # Wolff clusters per sweep (host array): set during thermalisation (tune=True) so that a
        # sweep flips about N spins, then held fixed while measuring.
        self.wolff = WolffClustersPerSweep(len(self.ids), model.n_sites)
