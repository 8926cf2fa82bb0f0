"""A batch of Markov chains of one model at a set of temperatures, on one backend.

The sampler knows the model, the update and the backend; the run driver above it only sweeps,
measures and takes snapshots. Results come back as host (numpy) arrays with a leading replica axis.
"""

from __future__ import annotations

import numpy as np

from src.graph.representations import representations
from src.models.spec import ModelSpec
from src.observables import observables
from src.quantum.backend import LoopBackend
from src.updates.array_kernels import to_host
from src.updates.cpu_backend import CpuBackend


def make_backend(kind: str, model: ModelSpec, update: str, betas, seed: int, replica_ids, **options):
    """kind: cpu (numba), gpu (array kernels on CuPy), array (the same array kernels on NumPy).
    Quantum models have the loop algorithm on the CPU only."""
    if model.quantum:
        if kind != "cpu":
            raise ValueError(f"the loop algorithm runs on the cpu backend, not {kind!r}")
        return LoopBackend(model, update, betas, seed, replica_ids)
    if kind == "cpu":
        return CpuBackend(model, update, betas, seed, replica_ids, **options)
    from src.updates.array_backend import ArrayBackend

    return ArrayBackend(model, update, betas, seed, replica_ids, device=(kind == "gpu"), **options)


class Sampler:
    def __init__(
        self,
        model: ModelSpec,
        update: str,
        temperatures,
        seed: int,
        backend: str = "cpu",
        replica_ids=None,
        overrelax: int = 0,
        metropolis_window: float = np.pi,
    ):
        temperatures = np.asarray(temperatures, dtype=np.float64)
        if replica_ids is None:
            replica_ids = np.arange(len(temperatures))
        self.model = model
        self.backend = make_backend(
            backend,
            model,
            update,
            1.0 / temperatures,
            seed,
            replica_ids,
            overrelax=overrelax,
            metropolis_window=metropolis_window,
        )
        self._current_energies = None  # of the current configurations, once computed

    @property
    def temperatures(self) -> np.ndarray:
        return 1.0 / to_host(self.backend.betas)

    def set_temperatures(self, temperatures) -> None:
        """New temperatures for the chains (replica exchange moves temperatures, not spins)."""
        betas = 1.0 / np.asarray(temperatures, dtype=np.float64)
        self.backend.betas = self.backend.xp.asarray(betas) if self.backend.xp is not np else betas

    def exchange_weights(self) -> np.ndarray:
        """(R, 2) host array: what replica exchange needs of every chain (src.parallel.exchange):
        for classical chains the total energy and 0 (the expansion order of quantum chains)."""
        if self.model.quantum:
            return self.backend.exchange_weights()
        weights = np.zeros((len(self.backend.ids), 2))  # (not np.stack: this runs every sweep)
        weights[:, 0] = self._energies()
        return weights

    def _energies(self) -> np.ndarray:
        """Total energies of the current configurations, computed once for a measurement and the
        exchange that follows it (they cost as much as a fast sweep)."""
        if self._current_energies is None:
            self._current_energies = self.backend.energies()
        return self._current_energies

    def chain_state(self) -> dict:
        return self.backend.chain_state()

    def load_chain_state(self, d: dict) -> None:
        self.backend.load_chain_state(d)
        self._current_energies = None

    def sweep(self, n_sweeps: int = 1, tune: bool = False):
        """n_sweeps sweeps of every replica; tune=True (thermalisation only) lets the update adapt
        its parameters (Wolff clusters per sweep), which are then frozen while measuring."""
        self.backend.sweep(n_sweeps, tune=tune)
        self._current_energies = None

    def measure(self) -> dict[str, np.ndarray]:
        if self.model.quantum:
            return self.backend.measure()
        xp = self.backend.xp
        energy = xp.asarray(self._energies() / self.model.n_sites)
        obs = observables(self.model, self.backend.lattice_state(), self.backend.graph(), xp, energy)
        return {k: to_host(v) for k, v in obs.items()}

    def snapshot(self, names, distance: int) -> dict[str, np.ndarray]:
        if self.model.quantum:
            return self.backend.snapshot(names, distance)
        xp = self.backend.xp
        graph = self.backend.graph() if {"fk_bonds", "improved"} & set(names) else None
        reps = representations(self.model, self.backend.lattice_state(), graph, names, distance, xp)
        return {k: to_host(v) for k, v in reps.items()}

    @property
    def flipped_spins(self) -> int:
        return int(self.backend.flipped)
