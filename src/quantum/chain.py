"""One Markov chain of the loop algorithm: its configuration, the graph of its last update and the
estimators of src.quantum.estimators on it.

A chain keeps its configuration in imaginary time scaled by beta when replica exchange hands it
another temperature (the scaled weight of src.quantum.estimators is what the exchange accepts): kink
times are stored for the beta of the last update and rescaled when beta changes.
"""

from __future__ import annotations

import numpy as np

from src.quantum.estimators import OBSERVABLES, bond_spin_products, measurements, pair_overlaps
from src.quantum.lattice import Lattice, all_displacements, bond_axis, shifted_sites
from src.quantum.loop import loop_update
from src.updates.rng import seed_streams


def check_couplings(Jz: float, Jxy: float) -> None:
    if not abs(Jz) <= Jxy:
        raise ValueError(
            f"the loop algorithm needs |Jz| <= Jxy (no sign problem), got Jz = {Jz}, Jxy = {Jxy}"
        )


class LoopChain:
    """rng: this chain's (4,) xoshiro state, updated in place (a row of the backend's array)."""

    def __init__(self, lattice: Lattice, Jz: float, Jxy: float, rng: np.ndarray, spin0):
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
        self.kbond, self.ktime, self.kbeta = np.empty(0, np.int64), np.empty(0), 1.0
        self.graph = None  # (beta, offsets, seg_time, seg_label, seg_spin, n_loops) of the last update
        self.winding = np.zeros(len(lattice.dims))  # winding counts of the last update, per axis
        self.values = None  # its estimators, when it was asked to measure

    @property
    def n_kinks(self) -> int:
        return len(self.kbond)

    def times_at(self, beta: float) -> np.ndarray:
        """Kink times for beta (the configuration at the same fractions of the circle)."""
        return self.ktime if beta == self.kbeta else self.ktime * (beta / self.kbeta)

    def set_kinks(self, bonds, times, beta: float) -> None:
        """Kinks at the given times for inverse temperature beta (as kbond, ktime, kbeta hold them)."""
        self.kbond, self.ktime = np.asarray(bonds, np.int64).copy(), np.asarray(times, float).copy()
        self.kbeta, self.graph, self.values = float(beta), None, None

    def update(self, beta: float, flip: bool = True, measure: bool = False) -> None:
        """One loop update; with measure, the estimators of its result are computed on the way."""
        spin0, kbond, ktime, counts, offsets, seg_time, seg_label, seg_spin, n_loops, values = loop_update(
            self.rng,
            self.spin0,
            self.kbond,
            self.times_at(beta),
            self.bonds,
            beta,
            self.a,
            self.b,
            self.axis,
            self.nearest,
            self.Jz,
            flip,
            measure,
        )
        self.spin0, self.kbond, self.ktime, self.kbeta = spin0, kbond, ktime, beta
        self.graph = (beta, offsets, seg_time, seg_label, seg_spin, n_loops)
        self.winding = counts
        self.values = values if measure else None

    def diagonal_energy(self, beta: float) -> float:
        """The tau-averaged Jz sum_b S^z_i S^z_j of the configuration (no graph needed)."""
        if not self.Jz:
            return 0.0
        return self.Jz / 4 * bond_spin_products(self.spin0, self.kbond, self.times_at(beta), self.bonds, beta)

    def graph_at(self, beta: float):
        """The graph of the current configuration at beta: the last update's, or one built for it."""
        if self.graph is None or self.graph[0] != beta:
            self.update(beta, flip=False)
        return self.graph

    def overlaps(self, beta: float, partner) -> tuple[np.ndarray, np.ndarray]:
        """(same, zz) of every site with its partner, tau-averaged (module docstring of estimators)."""
        b, offsets, seg_time, seg_label, seg_spin, n_loops = self.graph_at(beta)
        return pair_overlaps(offsets, seg_time, seg_label, seg_spin, self.spin0, n_loops, partner, b)

    def estimators(self, beta: float) -> np.ndarray:
        """The OBSERVABLES of src.quantum.estimators for the current configuration and graph."""
        if self.values is not None and self.graph[0] == beta:
            return self.values
        b, offsets, seg_time, seg_label, seg_spin, n_loops = self.graph_at(beta)
        kinks = self.times_at(beta)
        return measurements(
            b,
            offsets,
            seg_time,
            seg_label,
            seg_spin,
            n_loops,
            self.spin0,
            self.kbond,
            kinks,
            self.bonds,
            self.nearest,
            self.winding,
            self.Jz,
        )


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
