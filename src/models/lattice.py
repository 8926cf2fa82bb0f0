"""Classical models on the L x L periodic square lattice: what they share.

A state is one array per chain, flat over the sites n = y L + x (with `site_shape` trailing axes for
vector spins); a batch is (R, N, ...), and `lattice(state)` views it as (R, ..., L, L), x-hat the
last axis. Energies are E = -J sum over the 2N bonds (i, i + x-hat), (i, i + y-hat) of the
pair function g(s_i, s_j) whose bond average is the measured `corr_nn`.

Measurements and representations are written against an array module `xp` (numpy or cupy), so
the CPU and GPU backends share them; a model supplies the order parameter, the plain and the
improved correlation configurations, the stored `spin`, and the kernel bindings of its updates
(`cpu_moves`, `array_moves`, see src.sampling.backends).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from src.models.base import Model
from src.sampling.backends.array import ArrayBackend
from src.sampling.backends.cpu import CpuBackend
from src.sampling.backends.lattice import UPDATES
from src.sampling.graph import Graph
from src.sampling.graph.configurations import resolve_distance
from src.sampling.representations import REPRESENTATIONS, unknown

COMMON_OBSERVABLES = ("energy", "m2", "m4", "m_abs", "corr_nn", "improved_nn")


@dataclass(frozen=True)
class LatticeModel(Model):
    updates: ClassVar = UPDATES  # all that the lattice backends implement
    backends: ClassVar = ("cpu", "array", "gpu")
    representations: ClassVar = ("spin", "correlation", "fk_bonds", "improved")
    observable_names: ClassVar = COMMON_OBSERVABLES
    refused_keys: ClassVar = {"Jz": "only for the quantum models"}

    @classmethod
    def refusal(cls, key, value):
        reason = super().refusal(key, value)
        return f"{reason}, not {cls.name}" if key == "Jz" and reason else reason

    def backend(self, kind, update, betas, seed, replica_ids, **options):
        """kind: cpu (numba), gpu (array kernels on CuPy), array (the same array kernels on NumPy)."""
        if kind == "cpu":
            return CpuBackend(self, update, betas, seed, replica_ids, **options)
        return ArrayBackend(self, update, betas, seed, replica_ids, device=(kind == "gpu"), **options)

    def lattice(self, state):
        """A batch (R, N, ...) viewed as (R, ..., L, L): the components of vector spins before the
        lattice axes, which come last as in every configuration and representation."""
        R, L, k = state.shape[0], self.L, len(self.site_shape)
        return state.reshape(R, L, L, *self.site_shape).transpose(0, *range(3, 3 + k), 1, 2)

    # -- energy and observables ---------------------------------------------------------------
    def energy_from_corr_nn(self, corr_nn):
        """E/N from the bond-averaged plain correlation (E = -J sum g, 2N bonds)."""
        return -2.0 * self.J * corr_nn

    def corr_nn_from_energy(self, energy):
        """The inverse of energy_from_corr_nn."""
        return -energy / (2.0 * self.J)

    def energy_per_site(self, lattice, xp):
        """E/N of every chain of a batch (R, L, L, ...)."""
        corr = self.correlation(lattice, 1, xp).astype(xp.float64)
        return self.energy_from_corr_nn(corr.reshape(lattice.shape[0], -1).mean(axis=1))

    @abstractmethod
    def order_parameter(self, lattice, xp, measured: dict) -> dict:
        """m2 and the model's own observables of a batch (R, L, L, ...), given those measured
        already (energy, corr_nn)."""

    def measure(self, lattice, graph: Graph | None, xp, energy=None) -> dict:
        """The observables of a batch with its current graph; without a graph, all but improved_nn
        (which needs the clusters). energy: E/N of every chain where the caller has it already
        (replica exchange needs it too), else computed."""
        if energy is None:
            energy = self.energy_per_site(lattice, xp)
        out = {"energy": energy, "corr_nn": self.corr_nn_from_energy(energy)}
        if graph is not None:
            out["improved_nn"] = (
                self.improved(lattice, graph, 1, xp).reshape(lattice.shape[0], -1).mean(axis=1)
            )
        out.update(self.order_parameter(lattice, xp, out))
        m2 = out["m2"]
        out["m4"] = m2 * m2
        out["m_abs"] = xp.sqrt(m2)
        return out

    # -- representations ----------------------------------------------------------------------
    @abstractmethod
    def spin(self, lattice, xp):
        """The stored `spin` of a batch: (R, L, L) or, for vector spins, (R, components, L, L)."""

    @abstractmethod
    def correlation(self, lattice, r: int, xp):
        """(R, 2, L, L) float32: the order-parameter correlation of i and i + r x-hat, i + r y-hat."""

    @abstractmethod
    def improved(self, lattice, graph: Graph, r: int, xp):
        """(R, 2, L, L) float32: the improved estimator of `correlation` from the graph."""

    def snapshot(self, lattice, graph: Graph | None, names, r: int, xp, more_graphs=()) -> dict:
        """The requested representations of a batch, each with a leading chain axis; with
        more_graphs (graphs of the same spins about the other axes of estimator_axes), `improved`
        is the mean of the improved configurations of all the graphs."""
        out = {}
        for name in names:
            if name == "spin":
                out[name] = self.spin(lattice, xp)
            elif name == "correlation":
                out[name] = self.correlation(lattice, r, xp)
            elif name == "fk_bonds":
                out[name] = graph.bonds.astype(xp.uint8)
            elif name == "improved" and more_graphs:
                parts = [self.improved(lattice, g, r, xp) for g in (graph, *more_graphs)]
                out[name] = (sum(parts[1:], parts[0]) / len(parts)).astype(xp.float32)
            elif name == "improved":
                out[name] = self.improved(lattice, graph, r, xp)
            else:
                raise ValueError(unknown(name))
        return out

    def snapshot_shape(self, representation):
        if representation == "spin":
            return (*self.site_shape, self.L, self.L)
        return (2, self.L, self.L)

    def describe(self, representation: str) -> str:
        """The run file's description of a representation."""
        return REPRESENTATIONS[representation].description

    # -- the improved estimator of several embeddings (models with embedded clusters) -----------
    def estimator_axes(self, axis, count: int, xp):
        """`count` axes (as the graph stores them, one per chain) starting at `axis`, over which the
        embedded estimators of (r.s_i)(r.s_j) sum to a fixed multiple of s_i . s_j."""
        raise NotImplementedError

    def projections(self, lattice, axes, xp):
        """r.s of every spin of a batch (R, L, L) on its chain's axis."""
        raise NotImplementedError

    def resolve_distance(self, distance) -> int:
        return resolve_distance(distance, self.L)

    # -- kernel bindings ----------------------------------------------------------------------
    @abstractmethod
    def cpu_moves(self):
        """The numba kernels of this model's updates (src.sampling.backends.cpu)."""

    @abstractmethod
    def array_moves(self, xp):
        """The array kernels of this model's updates (src.sampling.backends.array)."""
