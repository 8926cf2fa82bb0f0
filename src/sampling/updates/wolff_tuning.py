"""How many Wolff clusters make a sweep, shared by the CPU and GPU backends."""

import numpy as np


class WolffClustersPerSweep:
    """Clusters per sweep for each replica, chosen so that a sweep flips about N spins.

    Tuned only while thermalising (the count is then frozen: stopping on a flipped-spin count
    would bias measurements). The mean cluster size is an exponential moving average over sweeps,
    so the first clusters grown from the random start are forgotten.
    """

    MEMORY = 0.1  # weight of the newest sweep in the average

    def __init__(self, n_replicas: int, n_sites: int):
        self.n_sites = n_sites
        self.counts = np.ones(n_replicas, dtype=np.int64)
        self._mean_size = None

    def update(self, flipped: np.ndarray) -> None:
        size = np.asarray(flipped, dtype=np.float64) / self.counts
        self._mean_size = (
            size if self._mean_size is None else (1 - self.MEMORY) * self._mean_size + (self.MEMORY * size)
        )
        self.counts = np.maximum(1, np.rint(self.n_sites / self._mean_size)).astype(np.int64)

    def state(self) -> dict:
        mean = np.full(len(self.counts), np.nan) if self._mean_size is None else self._mean_size
        return {"wolff_counts": self.counts.copy(), "wolff_mean_size": np.asarray(mean, dtype=np.float64)}

    def load_state(self, d: dict) -> None:
        self.counts = np.asarray(d["wolff_counts"], dtype=np.int64).copy()
        mean = np.asarray(d["wolff_mean_size"], dtype=np.float64)
        self._mean_size = None if np.isnan(mean).all() else mean.copy()
