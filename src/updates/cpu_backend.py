"""The CPU backend: a batch of replicas updated by the numba kernels."""

from __future__ import annotations

import numpy as np

from src.graph.representations import Graph
from src.models.spec import ModelSpec
from src.updates import cpu_clusters, cpu_local, cpu_wolff
from src.updates.batch import BatchBackend
from src.updates.initial import initial_state
from src.updates.rng import seed_streams


class CpuBackend(BatchBackend):
    """State (R, N) on the host; one xoshiro stream per replica.

    `graph()` returns the Fortuin-Kasteleyn graph of the current configuration: after a
    Swendsen-Wang sweep the one that sweep built (nothing computes clusters twice), otherwise a
    graph drawn from the current spins with the Swendsen-Wang bond probabilities (the conditional
    distribution of the Edwards-Sokal measure, so it is as valid as the update's own graph).
    """

    xp = np

    def __init__(
        self,
        model: ModelSpec,
        update: str,
        betas,
        seed: int,
        replica_ids,
        overrelax: int = 0,
        metropolis_window: float = np.pi,
    ):
        super().__init__(model, update, replica_ids, overrelax, metropolis_window)
        self._betas = np.asarray(betas, dtype=np.float64).copy()
        R, n = len(self.ids), model.n_sites
        self.rng = np.concatenate([seed_streams(seed, 1, first=int(i)) for i in self.ids])
        self.state = initial_state(model, seed, self.ids)
        self.bonds = np.zeros((R, 2, n), dtype=np.uint8)
        self.labels = np.zeros((R, n), dtype=np.int32)
        self.axes = np.zeros(R)
        self._neighbours = cpu_clusters.neighbour_table(model.L)
        if not model.continuous:
            self._pair = np.ascontiguousarray(model.pair_table())

    @property
    def betas(self) -> np.ndarray:
        """Inverse temperatures (R,); assign to change them (replica exchange)."""
        return self._betas

    @betas.setter
    def betas(self, value):
        self._betas = np.asarray(value, dtype=np.float64).copy()
        self._graph_current = False  # a graph drawn at other temperatures estimates nothing here

    def _clusters(self, n_sweeps: int, apply: bool):
        m = self.model
        if m.continuous:
            cpu_clusters.sw_xy(
                self.state, self.betas, m.J, self.rng, self.bonds, self.labels, self.axes, n_sweeps, apply
            )
        else:
            cpu_clusters.sw_discrete(
                self.state,
                self.betas,
                m.potts_bond_coupling(),
                m.J,
                m.q,
                m.cluster_mode,
                self.rng,
                self.bonds,
                self.labels,
                self.axes,
                n_sweeps,
                apply,
            )

    def sweep(self, n_sweeps: int = 1, tune: bool = False):
        if n_sweeps <= 0:
            return
        # Without over-relaxation or Wolff tuning between sweeps, one kernel call does them all:
        # the per-call cost (dispatch, tables) matters on small lattices.
        together = self.overrelax == 0 and not (self.update == "wolff" and tune)
        for _ in range(1 if together else n_sweeps):
            self._update(n_sweeps if together else 1, tune)
            if self.overrelax:
                cpu_local.overrelax_xy(self.state, self.overrelax)
        self._graph_current = self.update == "sw" and self.overrelax == 0

    def _update(self, n_sweeps: int, tune: bool):
        m = self.model
        if self.update == "sw":
            self._clusters(n_sweeps, apply=True)
        elif self.update == "wolff":
            clusters = self.wolff.counts * n_sweeps
            if m.continuous:
                flipped = cpu_wolff.wolff_xy(
                    self.state, self._neighbours, self.betas, m.J, self.rng, clusters
                )
            else:
                flipped = cpu_wolff.wolff_discrete(
                    self.state,
                    self.betas,
                    m.potts_bond_coupling(),
                    m.J,
                    m.q,
                    m.cluster_mode,
                    self.rng,
                    clusters,
                )
            self.flipped += int(flipped.sum())
            if tune:
                self.wolff.update(flipped)
        elif m.continuous:
            self.accepted += cpu_local.metropolis_xy(
                self.state, self.betas, m.J, self.window, self.rng, n_sweeps
            )
        else:
            self.accepted += cpu_local.metropolis_discrete(
                self.state, self.betas, m.J, m.q, self._pair, m.name in ("ising", "potts"), self.rng, n_sweeps
            )

    def energies(self) -> np.ndarray:
        """Total energy of every replica (for replica exchange, where it is needed every sweep)."""
        if self.model.continuous:
            return cpu_local.total_energies_xy(self.state, self.model.J)
        return cpu_local.total_energies(self.state, self.model.J, self._pair)

    def chain_state(self) -> dict:
        """Everything that continues each chain exactly, as host arrays with a leading chain axis."""
        return {"state": self.state.copy(), "rng": self.rng.copy(), **self.wolff.state()}

    def load_chain_state(self, d: dict) -> None:
        self.state[...] = d["state"]
        self.rng[...] = d["rng"]
        self.wolff.load_state(d)
        self._graph_current = False

    def graph(self) -> Graph:
        if not self._graph_current:
            self._clusters(1, apply=False)
            self._graph_current = True
        R, L = self.state.shape[0], self.model.L
        return Graph(
            self.bonds.reshape(R, 2, L, L),
            self.labels.reshape(R, L, L),
            self.axes if self.model.vector else None,
        )

    def lattice_state(self):
        """The state as (R, L, L), a view."""
        return self.state.reshape(self.state.shape[0], self.model.L, self.model.L)
