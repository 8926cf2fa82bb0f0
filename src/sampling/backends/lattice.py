"""What the CPU and array (GPU) backends of classical lattice models share: the checks of their
options, the bookkeeping of a batch of chains (counters, Wolff clusters per sweep, whether the
stored graph is current), and the measurements and snapshots the model computes from the state and
its graph. Both implement src.sampling.backends.protocol.Backend."""

from __future__ import annotations

from abc import abstractmethod

import numpy as np

from src.sampling.backends.protocol import Backend
from src.sampling.graph import Graph
from src.sampling.representations import REPRESENTATIONS
from src.sampling.updates.array_kernels import to_host
from src.sampling.updates.wolff_tuning import WolffClustersPerSweep

UPDATES = ("sw", "wolff", "metropolis")  # the updates these backends implement


class LatticeBackend(Backend):
    def __init__(self, model, update: str, replica_ids, overrelax: int, metropolis_window: float):
        if update not in UPDATES or update not in model.updates:
            raise ValueError(f"unknown update {update!r} (allowed: {', '.join(model.updates)})")
        if overrelax and not model.overrelaxation:
            raise ValueError(f"over-relaxation is not defined for the {model.name!r} model")
        if (update == "metropolis" or overrelax) and model.L % 2:
            raise ValueError(f"checkerboard updates need an even L, got L = {model.L}")
        self.model = model
        self.update = update
        self.overrelax = int(overrelax)
        self.window = float(metropolis_window)
        self.ids = np.asarray(replica_ids)
        self.flipped = 0  # spins flipped by Wolff clusters
        self.accepted = 0  # accepted Metropolis proposals
        self._graph_current = False
        # Wolff clusters per sweep (host array): set during thermalisation (tune=True) so that a
        # sweep flips about N spins, then held fixed while measuring.
        self.wolff = WolffClustersPerSweep(len(self.ids), model.n_sites)
        self._energies_now = None  # total energies of the current configurations, once computed

    def _temperatures_changed(self) -> None:
        self._graph_current = False  # a graph drawn at other temperatures estimates nothing here

    # -- what a backend implements ------------------------------------------------------------
    @abstractmethod
    def _sweep(self, n_sweeps: int, tune: bool) -> None: ...

    @abstractmethod
    def energies(self) -> np.ndarray:
        """Total energy of every chain, on the host."""

    @abstractmethod
    def graph(self) -> Graph:
        """The graph of the current configurations: after a Swendsen-Wang sweep the one that sweep
        built (nothing computes clusters twice), otherwise one drawn from the current spins with
        the Swendsen-Wang bond probabilities (the conditional distribution of the Edwards-Sokal
        measure, so it is as valid as the update's own graph)."""

    @abstractmethod
    def graph_at(self, axes) -> Graph:
        """A new embedded-cluster graph of the current spins about the given axes (one per chain,
        as the graph stores them), leaving the current graph as it is."""

    @abstractmethod
    def lattice_state(self):
        """The state as (R, L, L, ...), a view."""

    @abstractmethod
    def _load_state(self, d: dict) -> None: ...

    # -- the protocol -------------------------------------------------------------------------
    def sweep(self, n_sweeps: int = 1, tune: bool = False):
        """n_sweeps sweeps of every chain; tune=True (thermalisation only) lets the update adapt its
        parameters (Wolff clusters per sweep), which are then frozen while measuring."""
        if n_sweeps > 0:
            self._sweep(n_sweeps, tune)
        self._energies_now = None

    def _current_energies(self) -> np.ndarray:
        """Total energies of the current configurations, computed once for a measurement and the
        exchange that follows it (they cost as much as a fast sweep)."""
        if self._energies_now is None:
            self._energies_now = self.energies()
        return self._energies_now

    def exchange_weights(self) -> np.ndarray:
        """(R, 2) host array: the total energy of every chain and 0 (the expansion order of quantum
        chains), what replica exchange needs (src.sampling.driver.exchange)."""
        weights = np.zeros((len(self.ids), 2))  # (not np.stack: this runs every sweep)
        weights[:, 0] = self._current_energies()
        return weights

    def measure(self) -> dict[str, np.ndarray]:
        xp = self.xp
        energy = xp.asarray(self._current_energies() / self.model.n_sites)
        obs = self.model.measure(self.lattice_state(), self.graph(), xp, energy)
        return {k: to_host(v) for k, v in obs.items()}

    def snapshot(self, names, r: int, axes: int = 1) -> dict[str, np.ndarray]:
        needs_graph = any(n in REPRESENTATIONS and REPRESENTATIONS[n].from_graph for n in names)
        graph = self.graph() if needs_graph else None
        # the improved configuration of `axes` embeddings: the current graph and graphs of the
        # same spins about the other axes of the model's set
        more = []
        if axes > 1 and "improved" in names:
            more = [self.graph_at(a) for a in self.model.estimator_axes(graph.axes, axes, self.xp)[1:]]
        reps = self.model.snapshot(self.lattice_state(), graph, names, r, self.xp, more)
        return {k: to_host(v) for k, v in reps.items()}

    def load_chain_state(self, d: dict) -> None:
        self._load_state(d)
        self.wolff.load_state(d)
        self._graph_current = False
        self._energies_now = None
