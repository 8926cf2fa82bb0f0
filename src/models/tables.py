"""Label models: a site holds a label k in {0..q-1} (int8), and the energy is E = -J sum_bonds g(k_i, k_j)
for a q x q pair table g (ising, potts, clock). The CPU kernels, the array kernels, exact enumeration
and the transfer matrix all take the table, so such a model is mostly its table.

Two kinds of cluster: Fortuin-Kasteleyn clusters (ising, potts: equal labels bond with
p = 1 - exp(-beta K), a cluster takes a new label) and embedded clusters (clock: reflections about
the allowed axes; src.models.planar).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np

from src.models.lattice import LatticeModel
from src.sampling.backends.array import ArrayMoves
from src.sampling.backends.cpu import CpuMoves
from src.sampling.graph.configurations import label_identity, pair_table_configuration
from src.sampling.updates import array_kernels, cpu_clusters, cpu_local, cpu_wolff
from src.sampling.updates.array_clusters import FortuinKasteleynClusters

MAX_Q = int(np.iinfo(np.int8).max) + 1  # labels 0 .. q - 1 in int8 states and snapshots


@dataclass(frozen=True)
class TableModel(LatticeModel):
    """A model of q labels per site; `q` is a class attribute (ising) or a parameter (potts, clock)."""

    # the mode of the CPU cluster kernels: RECOLOUR (Fortuin-Kasteleyn) or REFLECT (embedded)
    cluster_mode: ClassVar[int] = cpu_clusters.RECOLOUR
    # Metropolis tabulates its acceptance thresholds: for tables with integer entries only (the
    # kernel's integer path draws its random numbers differently, so this is part of the chain)
    integer_levels: ClassVar[bool] = False

    def __post_init__(self):
        super().__post_init__()
        if self.q < 2:
            raise ValueError(f"q must be at least 2 for the {self.name} model, got {self.q}")
        if self.q > MAX_Q:  # labels are stored as int8
            raise ValueError(f"q must be at most {MAX_Q} for the {self.name} model, got {self.q}")

    @classmethod
    def refusal(cls, key, value):
        if key == "q" and "q" in {f.name for f in fields(cls)}:  # q is this model's parameter
            return f"required for the {cls.name} model" if value is None else None
        return super().refusal(key, value)

    @abstractmethod
    def pair_table(self) -> np.ndarray:
        """g(a, b), shape (q, q): E = -J sum_bonds g."""

    def correlation_table(self) -> np.ndarray:
        """The order-parameter correlation of a pair of labels (the plain `correlation`)."""
        return self.pair_table()

    @abstractmethod
    def site_vectors(self) -> np.ndarray:
        """Order-parameter vector v(k) of one site, shape (q, components), with m^2 = |sum_i v|^2 / N^2
        and v(a).v(b) the correlation table (exact enumeration uses it)."""

    def bond_coupling(self) -> float:
        """K such that an equal-label bond is occupied with p = 1 - exp(-beta K)."""
        return self.J

    def random_state(self, generator, n_sites):
        return generator.integers(0, self.q, n_sites)

    # -- representations ----------------------------------------------------------------------
    def spin(self, lattice, xp):
        return lattice.astype(xp.int8)

    def spin_from_labels(self, labels):
        """The stored `spin` of label configurations (the sampler holds labels)."""
        return labels

    def labels_from_spin(self, spin):
        """The inverse of spin_from_labels."""
        return spin

    def correlation(self, lattice, r, xp):
        return pair_table_configuration(self.correlation_table(), lattice, r, xp)

    def improved(self, lattice, graph, r, xp):
        return label_identity(graph.labels, r, xp)

    def stored_dtype(self, representation):
        # the Fortuin-Kasteleyn `improved` is an indicator (0 or 1): one byte instead of four
        if representation == "spin":
            return np.dtype(np.int8)
        if representation in ("fk_bonds", "improved"):
            return np.dtype(np.uint8)
        return np.dtype(np.float32)

    # -- network encoding: labels one-hot (unordered labels, permuted by the symmetry) --------
    def spin_channels(self):
        return self.q

    def encode_spin(self, stored):
        return (stored[:, None] == np.arange(self.q, dtype=stored.dtype)[:, None, None]).astype(np.float32)

    def describe_spin(self):
        return f"spin: one-hot, {self.q} channels"

    def spin_picture(self, stored):
        return stored, "tab10" if self.q <= 10 else "tab20", -0.5, 9.5 if self.q <= 10 else 19.5

    # -- kernel bindings ----------------------------------------------------------------------
    def cpu_moves(self):
        K, J, q, mode = self.bond_coupling(), self.J, self.q, self.cluster_mode
        pair = np.ascontiguousarray(self.pair_table())
        integer = self.integer_levels
        return CpuMoves(
            swendsen_wang=lambda state, betas, rng, bonds, labels, axes, n, apply: cpu_clusters.sw_discrete(
                state, betas, K, J, q, mode, rng, bonds, labels, axes, n, apply
            ),
            wolff=lambda state, betas, rng, clusters: cpu_wolff.wolff_discrete(
                state, betas, K, J, q, mode, rng, clusters
            ),
            metropolis=lambda state, betas, rng, window, n: cpu_local.metropolis_discrete(
                state, betas, J, q, pair, integer, rng, n
            ),
            energies=lambda state: cpu_local.total_energies(state, J, pair),
            axis_shape=None if mode == cpu_clusters.RECOLOUR else (),
        )

    def array_clusters(self, xp):
        """The cluster moves on arrays (Fortuin-Kasteleyn unless a model embeds)."""
        return FortuinKasteleynClusters(xp, self.q, self.bond_coupling())

    def array_moves(self, xp):
        J, q, pair = self.J, self.q, xp.asarray(self.pair_table())
        return ArrayMoves(
            clusters=self.array_clusters(xp),
            metropolis=lambda rng, state, betas, window, boards: array_kernels.metropolis_discrete(
                xp, rng, state, betas, J, q, pair, boards
            ),
        )
