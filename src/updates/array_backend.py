"""The GPU backend: a batch of replicas updated by whole-array operations (CuPy, or NumPy).

The same code runs on CuPy (`device=True`, backend kind `gpu`) and on NumPy (`device=False`,
kind `array`, which is how machines without a GPU exercise it). The batch of R replicas is one
set of arrays, so many small lattices run as one GPU workload. The interface is CpuBackend's.

Updates (kernels in src.updates.array_kernels):
- sw: Swendsen-Wang. Bonds are drawn for the whole batch (ising/potts: equal labels with
  p = 1 - exp(-beta K); clock: embedded clusters about a random allowed axis per replica; xy: a
  uniform random axis per replica), clusters are labelled by label propagation with pointer
  jumping, and every cluster takes a uniform new label (ising/potts) or is reflected with
  probability 1/2 (clock/xy).
- wolff: the Swendsen-Wang graph of the current configuration is drawn (same code, no flip), a
  uniform random seed site is picked per replica and only the seed's cluster flips: a new label
  uniform among the q - 1 others (ising/potts) or the reflection about the graph's axis
  (clock/xy). The seed's cluster in the full graph has the distribution of the Wolff cluster,
  so this is Wolff's update; it costs a whole-lattice graph per cluster, which is what the batch
  parallelism pays for. A sweep is a fixed number of clusters per replica, set during tune=True
  sweeps so that a sweep flips about N spins (as in CpuBackend), then held fixed.
- metropolis: checkerboard sweeps with the proposals of src.updates.cpu_local (L even), plus
  `overrelax` over-relaxation sweeps of the XY model after every sweep of any update.

Random numbers: one generator for the batch, seeded from SeedSequence(seed, spawn_key=(tag,
*replica_ids)). The initial state is drawn exactly as CpuBackend draws it, so both backends start
from the same configuration for a given seed and replica ids.
"""

from __future__ import annotations

import numpy as np

from src.graph.representations import Graph
from src.models.spec import ModelSpec
from src.observables import energy_per_site
from src.updates import array_kernels as ak
from src.updates.batch import BatchBackend
from src.updates.initial import initial_state

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


class ArrayBackend(BatchBackend):
    """State (R, N) as an xp array (device memory with CuPy); one generator for the batch.

    `graph()` returns the Fortuin-Kasteleyn graph of the current configuration: after a
    Swendsen-Wang sweep the one that sweep built, otherwise one drawn from the current spins with
    the Swendsen-Wang bond probabilities. Labels hold, for every site, the smallest site index of
    its cluster (as in CpuBackend).
    """

    def __init__(
        self,
        model: ModelSpec,
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
        self.state = xp.asarray(initial_state(model, seed, self.ids))
        self.rng = ak.make_generator(xp, np.random.SeedSequence(seed, spawn_key=(_STREAM_TAG, *self._ids)))
        self.bonds = xp.zeros((R, 2, L, L), dtype=xp.uint8)
        self.labels = xp.zeros((R, n), dtype=xp.int32)
        self.axes = xp.zeros(R)
        self._boards = ak.checkerboard(xp, L) if (update == "metropolis" or overrelax) else None
        if not model.continuous:
            self._pair = xp.asarray(model.pair_table())
        if model.name == "clock":
            phis, proj = ak.clock_axis_table(model.q)
            self._clock_phis = xp.asarray(phis)
            self._clock_proj = xp.asarray(proj)

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
        """Total energy of every replica, on the host."""
        return ak.to_host(energy_per_site(self.model, self.lattice_state(), self.xp)) * self.model.n_sites

    def chain_state(self) -> dict:
        """The chains' states and Wolff tuning as host arrays. The batch generator is not part of
        it: a resumed run reseeds it (from the seed, the ids and the resume count), so it continues
        the same Markov chains with fresh random numbers instead of bit for bit."""
        resumes = np.full(self._R, self._resumes, dtype=np.int64)
        return {"state": ak.to_host(self.state), "resumes": resumes, **self.wolff.state()}

    def load_chain_state(self, d: dict) -> None:
        self.state = self.xp.asarray(d["state"])
        self.wolff.load_state(d)
        self._resumes = int(np.max(d["resumes"])) + 1
        key = (_STREAM_TAG + 1, self._resumes, *self._ids)  # a tag of its own: no initial key collides
        self.rng = ak.make_generator(self.xp, np.random.SeedSequence(self._seed, spawn_key=key))
        self._graph_current = False

    def lattice_state(self):
        """The state as (R, L, L), a view."""
        return self.state.reshape(self.state.shape[0], self.model.L, self.model.L)

    # ----------------------------------------------------------------------------------------
    def _draw(self, state, betas):
        """The Swendsen-Wang graph of a (sub)batch: bonds (R, 2, L, L) bool, global labels (R, N)
        and the axis parameter (clock: the axis index m (R,); xy: the angle phi (R,); else None)."""
        xp, m, rng = self.xp, self.model, self.rng
        R, L = state.shape[0], m.L
        lattice = state.reshape(R, L, L)
        if not m.vector:
            p_bond = -xp.expm1(-betas * m.potts_bond_coupling())
            bonds = ak.potts_bonds(xp, rng, lattice, p_bond)
            axis = None
        elif m.name == "clock":
            axis = rng.integers(0, m.q, size=R)
            proj = self._clock_proj[axis[:, None, None], lattice.astype(xp.intp)]
            bonds = ak.embedded_bonds(xp, rng, proj, 2.0 * m.J * betas)
        else:
            axis = ak.TWO_PI * rng.random(R)
            proj = xp.cos(lattice - axis[:, None, None])
            bonds = ak.embedded_bonds(xp, rng, proj, 2.0 * m.J * betas)
        return bonds, ak.label_components(xp, bonds), axis

    def _axis_angles(self, axis):
        return self._clock_phis[axis] if self.model.name == "clock" else axis

    def _store_graph(self, bonds, labels, axis):
        xp = self.xp
        self.bonds = bonds.astype(xp.uint8)
        self.labels = ak.local_labels(xp, labels)
        if self.model.vector:
            self.axes = self._axis_angles(axis).astype(xp.float64)
        self._graph_current = True

    def _reflect(self, state, axis):
        """Every spin of `state` (R, N) reflected about its replica's axis."""
        if self.model.name == "clock":
            return ((axis[:, None] - state.astype(self.xp.intp)) % self.model.q).astype(state.dtype)
        return ak.wrap_angle(self.xp, np.pi + 2.0 * axis[:, None] - state)

    def _swendsen_wang(self):
        xp, m = self.xp, self.model
        R, n = self.state.shape
        bonds, labels, axis = self._draw(self.state, self.betas)
        if not m.vector:
            new_label = self.rng.integers(0, m.q, size=R * n).astype(self.state.dtype)
            self.state[...] = new_label[labels]
        else:
            flip = self.rng.random(R * n) < 0.5
            self.state[...] = xp.where(flip[labels], self._reflect(self.state, axis), self.state)
        self._store_graph(bonds, labels, axis)

    def _wolff(self, tune: bool):
        xp, m = self.xp, self.model
        R, n = self.state.shape
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
            if not m.vector:
                old = state.reshape(-1)[seed].astype(xp.intp)
                if m.q == 2:
                    new = 1 - old
                else:
                    new = (old + 1 + self.rng.integers(0, m.q - 1, size=Ra)) % m.q
                new_state = xp.where(member, new[:, None].astype(state.dtype), state)
            else:
                new_state = xp.where(member, self._reflect(state, axis), state)
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

    def _metropolis(self):
        xp, m = self.xp, self.model
        if m.continuous:
            acc = ak.metropolis_xy(xp, self.rng, self.state, self.betas, m.J, self.window, self._boards)
        else:
            acc = ak.metropolis_discrete(
                xp, self.rng, self.state, self.betas, m.J, m.q, self._pair, self._boards
            )
        return acc

    def sweep(self, n_sweeps: int = 1, tune: bool = False):
        if n_sweeps <= 0:
            return
        accepted = 0
        for _ in range(n_sweeps):
            if self.update == "sw":
                self._swendsen_wang()
            elif self.update == "wolff":
                self._wolff(tune)
            else:
                accepted = accepted + self._metropolis()
            if self.overrelax:
                ak.overrelax_xy(self.xp, self.state, self._boards, self.overrelax)
        if self.update == "metropolis":
            self.accepted += int(accepted)
        self._graph_current = self.update == "sw" and not self.overrelax

    def graph(self) -> Graph:
        if not self._graph_current:
            self._store_graph(*self._draw(self.state, self.betas))
        R, L = self.state.shape[0], self.model.L
        return Graph(self.bonds, self.labels.reshape(R, L, L), self.axes if self.model.vector else None)
