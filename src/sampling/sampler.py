"""A batch of Markov chains of one model at a set of temperatures, on one backend.

The model makes the backend (src.sampling.backends), which sweeps, measures and takes snapshots;
the sampler speaks temperatures. Results come back as host (numpy) arrays with a leading chain axis.
"""

from __future__ import annotations

import numpy as np

from src.sampling.updates.array_kernels import to_host


class Sampler:
    def __init__(
        self,
        model,
        update: str,
        temperatures,
        seed: int,
        backend: str = "cpu",
        replica_ids=None,
        overrelax: int = 0,
        metropolis_window: float = np.pi,
    ):
        """backend: cpu (numba), gpu (array kernels on CuPy), array (the same array kernels on NumPy);
        the model says which it runs on."""
        temperatures = np.asarray(temperatures, dtype=np.float64)
        if replica_ids is None:
            replica_ids = np.arange(len(temperatures))
        self.model = model
        self.backend = model.backend(
            backend,
            update,
            1.0 / temperatures,
            seed,
            replica_ids,
            overrelax=overrelax,
            metropolis_window=metropolis_window,
        )

    @property
    def temperatures(self) -> np.ndarray:
        return 1.0 / to_host(self.backend.betas)

    def set_temperatures(self, temperatures) -> None:
        """New temperatures for the chains (replica exchange moves temperatures, not spins)."""
        self.backend.betas = 1.0 / np.asarray(temperatures, dtype=np.float64)

    def exchange_weights(self) -> np.ndarray:
        """(R, 2) host array: what replica exchange needs of every chain (src.sampling.driver.exchange)."""
        return self.backend.exchange_weights()

    def chain_state(self) -> dict:
        return self.backend.chain_state()

    def load_chain_state(self, d: dict) -> None:
        self.backend.load_chain_state(d)

    def sweep(self, n_sweeps: int = 1, tune: bool = False):
        """n_sweeps sweeps of every chain; tune=True (thermalisation only) lets the update adapt
        its parameters (Wolff clusters per sweep), which are then frozen while measuring."""
        self.backend.sweep(n_sweeps, tune=tune)

    def measure(self) -> dict[str, np.ndarray]:
        return self.backend.measure()

    def snapshot(self, names, distance: int, axes: int = 1) -> dict[str, np.ndarray]:
        """The representations `names` of every chain; `improved` from `axes` embeddings."""
        return self.backend.snapshot(names, distance, axes)

    @property
    def flipped_spins(self) -> int:
        return int(self.backend.flipped)
