"""One Markov chain of the loop algorithm: its configuration, the graph of its last update and the
estimators of src.sampling.quantum.estimators on it.

A chain keeps its configuration in imaginary time scaled by beta when replica exchange hands it
another temperature (the scaled weight of src.sampling.quantum.estimators is what the exchange accepts): kink
times are held for `kbeta` and rescaled when beta changes.
"""

from __future__ import annotations

import numpy as np

from src.sampling.quantum.estimators import OBSERVABLES, bond_spin_products, pair_overlaps
from src.sampling.quantum.lattice import Lattice, all_displacements, bond_axis, shifted_sites
from src.sampling.quantum.loop import Workspace, expected_capacity, graph_segments, loop_update
from src.sampling.streams import seed_streams


def check_couplings(Jz: float, Jxy: float) -> None:
    if not abs(Jz) <= Jxy:
        raise ValueError(
            f"the loop algorithm needs |Jz| <= Jxy (no sign problem), got Jz = {Jz}, Jxy = {Jxy}"
        )


class LoopChain:
    """rng: this chain's (4,) xoshiro state, updated in place (a row of the backend's array);
    values: where the estimators go (a row of the backend's array, or a new one)."""

    def __init__(self, lattice: Lattice, Jz: float, Jxy: float, rng: np.ndarray, spin0, values=None):
        check_couplings(Jz, Jxy)
        self.lattice, self.Jz, self.rng = lattice, float(Jz), rng
        self.a, self.b = (Jxy - Jz) / 4, (Jxy + Jz) / 4
        self.bonds = lattice.bonds.astype(np.int64)
        self.axis = bond_axis(lattice)
        # nearest neighbour along each axis: the bonds of axis d are (i, nearest[d, i])
        self.nearest = np.stack(
            [shifted_sites(lattice.dims, e) for e in np.eye(len(lattice.dims), dtype=int)]
        )
        self.spin0 = np.asarray(spin0, dtype=np.int64).copy()
        self.work = Workspace(lattice.n_sites, 64)
        self.n_kinks, self.kbeta = 0, 1.0
        self.n_vertices = 0  # of the last update's graph, held in self.work
        self.graph_beta = None  # beta of that graph; None: no graph of the current configuration
        self.segments = None  # the graph as segments (graph_segments), made when first asked for
        self.winding = np.zeros(len(lattice.dims))  # winding counts of the last update, per axis
        self.values = np.empty(len(OBSERVABLES)) if values is None else values
        self.measured = False  # whether values belong to the current configuration and graph

    @property
    def kbond(self) -> np.ndarray:
        return self.work.kbond[: self.n_kinks]

    @property
    def ktime(self) -> np.ndarray:
        """Kink times for kbeta, sorted."""
        return self.work.ktime[: self.n_kinks]

    def _rescale(self, beta: float) -> None:
        """Hold the kinks for beta (the configuration at the same fractions of the circle)."""
        if beta != self.kbeta:
            self.work.ktime[: self.n_kinks] *= beta / self.kbeta
            self.kbeta = beta

    def set_kinks(self, bonds, times, beta: float) -> None:
        """Kinks at the given times for inverse temperature beta."""
        self.n_kinks = len(bonds)
        self.work.reserve(self.n_kinks, 0)
        self.work.kbond[: self.n_kinks], self.work.ktime[: self.n_kinks] = bonds, times
        self.kbeta, self.graph_beta, self.measured = float(beta), None, False

    def update(self, beta: float, flip: bool = True, measure: bool = False) -> None:
        """One loop update; with measure, the estimators of its result are computed on the way."""
        self._rescale(beta)
        w = self.work
        w.reserve(expected_capacity(self.n_kinks, len(self.bonds), beta, self.a, self.b), self.n_kinks)
        while True:
            n, m = loop_update(
                self.rng, self.spin0, w.kbond, w.ktime, self.n_kinks, self.bonds, self.axis, self.nearest,
                beta, self.a, self.b, self.Jz, flip, measure,
                w.vbond, w.vtime, w.vstate, w.node, w.flipped, w.loop_sums, w.sites,
                self.winding, self.values,
            )  # fmt: skip
            if n >= 0:
                break
            w.reserve(2 * w.capacity, self.n_kinks)  # a rare fluctuation: nothing was changed
        self.n_kinks, self.n_vertices, self.graph_beta = m, n, beta
        self.segments, self.measured = None, measure

    def diagonal_energy(self, beta: float) -> float:
        """The tau-averaged Jz sum_b S^z_i S^z_j of the configuration (no graph needed)."""
        if not self.Jz:
            return 0.0
        self._rescale(beta)
        return self.Jz / 4 * bond_spin_products(self.spin0, self.kbond, self.ktime, self.bonds, beta)

    def overlaps(self, beta: float, partner) -> tuple[np.ndarray, np.ndarray]:
        """(same, zz) of every site with its partner, tau-averaged (module docstring of estimators)."""
        if self.graph_beta != beta:
            self.update(beta, flip=False)
        if self.segments is None:
            w = self.work
            self.segments = graph_segments(
                len(self.spin0), self.bonds, self.n_vertices, w.vbond, w.vtime, w.vstate, w.node, w.flipped
            )
        return pair_overlaps(*self.segments, self.spin0, 2 * self.n_vertices, partner, beta)

    def estimators(self, beta: float) -> np.ndarray:
        """The OBSERVABLES of src.sampling.quantum.estimators for the current configuration (on a new graph of
        it when the last update did not measure)."""
        if not (self.measured and self.graph_beta == beta):
            self.update(beta, flip=False, measure=True)
        return self.values


def simulate(
    lattice: Lattice,
    beta: float,
    n_updates: int,
    n_thermal: int = 200,
    Jz: float = 0.0,
    Jxy: float = 1.0,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Time series of one chain, one entry per loop update: the estimators of LoopChain and, for every
    displacement r, czz(r) = C_zz(r) and gloop(r) = 4 C_xx(r) (the tau-averaged zz / 4 and same),
    shaped (n_updates, *dims)."""
    chain = LoopChain(lattice, Jz, Jxy, seed_streams(seed, 1)[0], np.arange(lattice.n_sites) % 2)
    perm = all_displacements(lattice.dims)
    series = {}
    for step in range(n_thermal + n_updates):
        chain.update(beta, measure=step >= n_thermal)
        if step < n_thermal:
            continue
        values = dict(zip(OBSERVABLES, chain.estimators(beta)))
        pairs = [chain.overlaps(beta, p) for p in perm]
        values["czz"] = np.array([zz.mean() / 4 for _, zz in pairs]).reshape(lattice.dims)
        values["gloop"] = np.array([same.mean() for same, _ in pairs]).reshape(lattice.dims)
        for key, value in values.items():
            series.setdefault(key, []).append(value)
    return {key: np.array(value) for key, value in series.items()}
