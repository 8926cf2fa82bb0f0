"""The CPU backend: a batch of chains of a classical lattice model updated by numba kernels.

The model binds its kernels (Model.cpu_moves, a CpuMoves); this module runs them on the batch:
state (R, N, ...) on the host, one xoshiro stream per chain (src.sampling.streams).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from src.sampling.backends.lattice import LatticeBackend
from src.sampling.graph import Graph
from src.sampling.initial import initial_state
from src.sampling.streams import seed_streams
from src.sampling.updates import cpu_clusters


@dataclass(frozen=True)
class CpuMoves:
    """A model's numba kernels, as the CPU backend calls them. Arrays are the backend's: state
    (R, N, ...), betas (R,), rng (R, 4) streams; bonds (R, 2, N) uint8, labels (R, N) int32 and axes
    (R, *axis_shape) receive the graph."""

    # (state, betas, rng, bonds, labels, axes, n_sweeps, apply): sweeps, or with apply=False only
    # the graph of the current state
    swendsen_wang: Callable
    # (state, betas, rng, clusters per chain) -> spins flipped per chain
    wolff: Callable
    # (state, betas, rng, window, n_sweeps) -> accepted proposals
    metropolis: Callable
    # (state) -> total energy per chain
    energies: Callable
    # (state, n_sweeps): energy-conserving sweeps, for models with over-relaxation
    overrelax: Callable | None = None
    # the shape of one chain's embedding axis in the graph (() an angle); None: no embedding
    axis_shape: tuple[int, ...] | None = None


class CpuBackend(LatticeBackend):
    """State (R, N, ...) on the host; one xoshiro stream per chain."""

    xp = np

    def __init__(
        self, model, update: str, betas, seed: int, replica_ids, overrelax: int = 0, metropolis_window=np.pi
    ):
        super().__init__(model, update, replica_ids, overrelax, metropolis_window)
        self.moves: CpuMoves = model.cpu_moves()
        self.betas = betas
        R, n = len(self.ids), model.n_sites
        self.rng = np.concatenate([seed_streams(seed, 1, first=int(i)) for i in self.ids])
        self.state = initial_state(model, seed, self.ids)
        self.bonds = np.zeros((R, 2, n), dtype=np.uint8)
        self.labels = np.zeros((R, n), dtype=np.int32)
        self.axes = np.zeros((R, *(self.moves.axis_shape or ())))  # (written by the kernels in any case)

    def _clusters(self, n_sweeps: int, apply: bool):
        self.moves.swendsen_wang(
            self.state, self.betas, self.rng, self.bonds, self.labels, self.axes, n_sweeps, apply
        )

    def _sweep(self, n_sweeps: int, tune: bool):
        # Without over-relaxation or Wolff tuning between sweeps, one kernel call does them all:
        # the per-call cost (dispatch, tables) matters on small lattices.
        together = self.overrelax == 0 and not (self.update == "wolff" and tune)
        for _ in range(1 if together else n_sweeps):
            self._update(n_sweeps if together else 1, tune)
            if self.overrelax:
                self.moves.overrelax(self.state, self.overrelax)
        self._graph_current = self.update == "sw" and self.overrelax == 0

    def _update(self, n_sweeps: int, tune: bool):
        if self.update == "sw":
            self._clusters(n_sweeps, apply=True)
        elif self.update == "wolff":
            flipped = self.moves.wolff(self.state, self.betas, self.rng, self.wolff.counts * n_sweeps)
            self.flipped += int(flipped.sum())
            if tune:
                self.wolff.update(flipped)
        else:
            self.accepted += self.moves.metropolis(self.state, self.betas, self.rng, self.window, n_sweeps)

    def energies(self) -> np.ndarray:
        return self.moves.energies(self.state)

    def chain_state(self) -> dict:
        """Everything that continues each chain exactly, as host arrays with a leading chain axis."""
        return {"state": self.state.copy(), "rng": self.rng.copy(), **self.wolff.state()}

    def _load_state(self, d: dict) -> None:
        self.state[...] = d["state"]
        self.rng[...] = d["rng"]

    def graph(self) -> Graph:
        if not self._graph_current:
            self._clusters(1, apply=False)
            self._graph_current = True
        R, L = self.state.shape[0], self.model.L
        axes = self.axes if self.moves.axis_shape is not None else None
        return Graph(self.bonds.reshape(R, 2, L, L), self.labels.reshape(R, L, L), axes)

    def graph_at(self, axes) -> Graph:
        R, L = self.state.shape[0], self.model.L
        proj = np.ascontiguousarray(self.model.projections(self.lattice_state(), axes, np).reshape(R, -1))
        bonds, labels = np.zeros((R, 2, L * L), dtype=np.uint8), np.zeros((R, L * L), dtype=np.int32)
        cpu_clusters.graphs_of_projections(proj, self.betas, self.model.J, self.rng, bonds, labels)
        return Graph(bonds.reshape(R, 2, L, L), labels.reshape(R, L, L), axes)

    def lattice_state(self):
        return self.model.lattice(self.state)
