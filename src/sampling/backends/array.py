"""The array backend: a batch of chains of a classical lattice model updated by whole-array
operations, on CuPy (kind `gpu`, `device=True`) or on NumPy (kind `array`, which is how machines
without a GPU exercise the same code). The batch of R chains is one set of arrays, so many small
lattices run as one GPU workload.

Updates (the model binds its kernels, Model.array_moves, an ArrayMoves):
- sw: Swendsen-Wang. The model's cluster moves draw the bonds of the whole batch
  (src.sampling.updates.array_clusters), the clusters are labelled by label propagation with
  pointer jumping (src.sampling.graph.labelling), and every cluster moves (a uniform new label, or
  a reflection with probability 1/2).
- wolff: the Swendsen-Wang graph of the current configuration is drawn (same code, no move), a
  uniform random seed site is picked per chain and only the seed's cluster moves. The seed's
  cluster in the full graph has the distribution of the Wolff cluster, so this is Wolff's update;
  it costs a whole-lattice graph per cluster, which is what the batch parallelism pays for. A
  sweep is a fixed number of clusters per chain, set during tune=True sweeps so that a sweep
  flips about N spins (as in CpuBackend), then held fixed.
- metropolis: the model's checkerboard sweeps (L even), plus `overrelax` over-relaxation sweeps
  after every sweep of any update where the model has them.

Random numbers: one generator for the batch, seeded from SeedSequence(seed, spawn_key=(tag,
*replica_ids)). The initial state is drawn exactly as CpuBackend draws it, so both backends start
from the same configuration for a given seed and replica ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from src.sampling.backends.lattice import LatticeBackend
from src.sampling.graph import Graph
from src.sampling.graph.labelling import label_components, local_labels
from src.sampling.initial import initial_state
from src.sampling.updates import array_kernels as ak

# First entry of the spawn key of the batch generator. CpuBackend uses the keys (id,) for its
# streams and (id, 1) for the initial states; the tag keeps the batch stream apart from those.
_STREAM_TAG = 0x41525259


class BackendError(ImportError):
    """The requested backend cannot run on this machine; one-line message."""


def cupy_module():
    try:
        import cupy
    except ImportError:
        raise BackendError(
            "backend gpu needs CuPy (pip install -e '.[gpu]'); backend array runs the same code on NumPy"
        ) from None
    return cupy


def cuda_visible() -> bool:
    """Whether CuPy is installed and sees a CUDA device."""
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no CuPy, no driver or no device
        return False


def array_module(device: bool):
    return cupy_module() if device else np


@dataclass(frozen=True)
class ArrayMoves:
    """A model's array kernels, as the array backend calls them (arrays on the backend's xp)."""

    # draw(rng, lattice, betas) -> (bonds, axis), recluster, flip, axis_values
    # (src.sampling.updates.array_clusters)
    clusters: object
    # (rng, state, betas, window, boards) -> accepted proposals (a device scalar): one sweep
    metropolis: Callable
    # (state, boards, n_sweeps): energy-conserving sweeps, for models with over-relaxation
    overrelax: Callable | None = None


class ArrayBackend(LatticeBackend):
    """State (R, N, ...) as an xp array (device memory with CuPy); one generator for the batch.
    Graph labels hold, for every site, the smallest site index of its cluster (as in CpuBackend)."""

    def __init__(
        self,
        model,
        update: str,
        betas,
        seed: int,
        replica_ids,
        device: bool = False,
        overrelax: int = 0,
        metropolis_window: float = np.pi,
    ):
        super().__init__(model, update, replica_ids, overrelax, metropolis_window)
        xp = array_module(device)
        self.xp = xp
        self.device = bool(device)
        R, n, L = len(self.ids), model.n_sites, model.L
        self._R = R
        self._seed, self._ids, self._resumes = seed, tuple(map(int, self.ids)), 0
        self.betas = betas
        self.moves: ArrayMoves = model.array_moves(xp)
        self.state = xp.asarray(initial_state(model, seed, self.ids))
        self.rng = ak.make_generator(xp, np.random.SeedSequence(seed, spawn_key=(_STREAM_TAG, *self._ids)))
        self.bonds = xp.zeros((R, 2, L, L), dtype=xp.uint8)
        self.labels = xp.zeros((R, n), dtype=xp.int32)
        self.axes = None
        self._boards = ak.checkerboard(xp, L) if (update == "metropolis" or overrelax) else None

    # ----------------------------------------------------------------------------------------
    @property
    def betas(self):
        """Inverse temperatures (R,), an xp array; assign to change them (replica exchange)."""
        return self._betas

    @betas.setter
    def betas(self, value):
        if hasattr(value, "get") and self.xp is np:
            value = value.get()
        b = self.xp.array(value, dtype=self.xp.float64).reshape(-1)
        if b.shape[0] != self._R:
            raise ValueError(f"expected {self._R} inverse temperatures, got {b.shape[0]}")
        self._betas = b
        self._graph_current = False  # a graph drawn at other temperatures estimates nothing here

    def energies(self) -> np.ndarray:
        return ak.to_host(self.model.energy_per_site(self.lattice_state(), self.xp)) * self.model.n_sites

    def chain_state(self) -> dict:
        """The chains' states and Wolff tuning as host arrays. The batch generator is not part of
        it: a resumed run reseeds it (from the seed, the ids and the resume count), so it continues
        the same Markov chains with fresh random numbers instead of bit for bit."""
        resumes = np.full(self._R, self._resumes, dtype=np.int64)
        return {"state": ak.to_host(self.state), "resumes": resumes, **self.wolff.state()}

    def _load_state(self, d: dict) -> None:
        self.state = self.xp.asarray(d["state"])
        self._resumes = int(np.max(d["resumes"])) + 1
        key = (_STREAM_TAG + 1, self._resumes, *self._ids)  # a tag of its own: no initial key collides
        self.rng = ak.make_generator(self.xp, np.random.SeedSequence(self._seed, spawn_key=key))

    def lattice_state(self):
        return self.model.lattice(self.state)

    # ----------------------------------------------------------------------------------------
    def _draw(self, state, betas):
        """The Swendsen-Wang graph of a (sub)batch: bonds (R, 2, L, L) bool, global labels (R, N)
        and the embedding axis of every chain (None without embedding)."""
        bonds, axis = self.moves.clusters.draw(self.rng, self.model.lattice(state), betas)
        return bonds, label_components(self.xp, bonds), axis

    def _store_graph(self, bonds, labels, axis):
        xp = self.xp
        self.bonds = bonds.astype(xp.uint8)
        self.labels = local_labels(xp, labels)
        values = self.moves.clusters.axis_values(axis)
        if values is not None:
            self.axes = values.astype(xp.float64)
        self._graph_current = True

    def _swendsen_wang(self):
        bonds, labels, axis = self._draw(self.state, self.betas)
        self.state[...] = self.moves.clusters.recluster(self.rng, self.state, labels, axis)
        self._store_graph(bonds, labels, axis)

    def _wolff(self, tune: bool):
        xp = self.xp
        R, n = self.state.shape[:2]
        counts = self.wolff.counts
        flipped = xp.zeros(R, dtype=xp.int64)
        for step in range(int(counts.max())):
            active = np.flatnonzero(counts > step)
            whole = len(active) == R
            idx = None if whole else xp.asarray(active)
            state = self.state if whole else self.state[idx]
            betas = self.betas if whole else self.betas[idx]
            bonds, labels, axis = self._draw(state, betas)
            Ra = state.shape[0]
            seed = self.rng.integers(0, n, size=Ra) + xp.arange(Ra) * n
            member = labels == labels.reshape(-1)[seed][:, None]
            new_state = self.moves.clusters.flip(self.rng, state, member, seed, axis)
            size = member.sum(axis=1)
            if whole:
                self.state[...] = new_state
                flipped += size
            else:
                self.state[idx] = new_state
                flipped[idx] += size
        flipped = ak.to_host(flipped)
        self.flipped += int(flipped.sum())
        if tune:
            self.wolff.update(flipped)

    def _sweep(self, n_sweeps: int, tune: bool):
        accepted = 0
        for _ in range(n_sweeps):
            if self.update == "sw":
                self._swendsen_wang()
            elif self.update == "wolff":
                self._wolff(tune)
            else:
                accepted = accepted + self.moves.metropolis(
                    self.rng, self.state, self.betas, self.window, self._boards
                )
            if self.overrelax:
                self.moves.overrelax(self.state, self._boards, self.overrelax)
        if self.update == "metropolis":
            self.accepted += int(accepted)
        self._graph_current = self.update == "sw" and not self.overrelax

    def graph_at(self, axes) -> Graph:
        xp, R, L = self.xp, self.state.shape[0], self.model.L
        proj = self.model.projections(self.lattice_state(), axes, xp)
        bonds = ak.embedded_bonds(xp, self.rng, proj, 2.0 * self.model.J * self.betas)
        labels = local_labels(xp, label_components(xp, bonds))
        return Graph(bonds.astype(xp.uint8), labels.reshape(R, L, L), axes)

    def graph(self) -> Graph:
        if not self._graph_current:
            self._store_graph(*self._draw(self.state, self.betas))
        R, L = self.state.shape[0], self.model.L
        return Graph(self.bonds, self.labels.reshape(R, L, L), self.axes)
