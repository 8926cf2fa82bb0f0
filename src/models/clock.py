"""The q-state clock model: angles theta = 2 pi k / q, k in {0..q-1}, E = -J sum_bonds cos(theta_i - theta_j).

State: the labels k (int8), stored as they are in `spin`. A planar model (src.models.planar): the
order parameter is the planar magnetisation, the plain correlation cos(theta_i - theta_j). Clusters
are Wolff's embedded clusters about the q allowed axes phi_m = pi m / q - pi / 2, which map the
allowed angles onto themselves (k -> (m - k) mod q). Exact: enumeration and the transfer matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from src.models.planar import Planar
from src.models.tables import TableModel
from src.sampling.updates import array_kernels, cpu_clusters
from src.sampling.updates.array_clusters import EmbeddedClusters


@dataclass(frozen=True, kw_only=True)
class Clock(Planar, TableModel):
    q: int

    name: ClassVar = "clock"
    cluster_mode: ClassVar = cpu_clusters.REFLECT

    def angles(self, lattice, xp):
        return lattice.astype(xp.float64) * (2.0 * np.pi / self.q)

    def pair_table(self):
        k = np.arange(self.q)
        return np.cos(2 * np.pi * (k[:, None] - k[None, :]) / self.q)

    def site_vectors(self):
        angle = 2 * np.pi * np.arange(self.q) / self.q
        return np.stack([np.cos(angle), np.sin(angle)], axis=1)

    def axes_refusal(self, axes):
        # the allowed axes are pi/q apart: `axes` of them pi/axes apart exist when axes divides q
        return None if self.q % axes == 0 else f"must divide q = {self.q} (the clock's axes are pi/q apart)"

    def default_axes(self):
        # two orthogonal axes as for xy where q is even, else the fewest allowed axes pi/k apart
        return min(k for k in range(2, self.q + 1) if self.q % k == 0)

    def projections(self, lattice, axes, xp):
        # a spin perpendicular to an allowed axis has projection 0 exactly, as in the kernels
        p = super().projections(lattice, axes, xp)
        return xp.where(xp.abs(p) < cpu_clusters.ZERO_PROJECTION, 0.0, p)

    def stored_dtype(self, representation):
        # the embedded-cluster `improved` takes values in [0, 2]
        return np.dtype(np.float32) if representation == "improved" else super().stored_dtype(representation)

    def array_clusters(self, xp):
        return EmbeddedClusters(xp, self.J, ClockAxes(xp, self.q))


class ClockAxes:
    """The allowed axes m of the array kernels' embedded clusters: labels k project on
    cos(2 pi k / q - phi_m) and reflect to (m - k) mod q."""

    def __init__(self, xp, q: int):
        phis, projections = array_kernels.clock_axis_table(q)
        self.xp, self.q = xp, q
        self.phis, self.projections = xp.asarray(phis), xp.asarray(projections)

    def draw(self, rng, n_chains: int):
        return rng.integers(0, self.q, size=n_chains)

    def projection(self, lattice, axis):
        return self.projections[axis[:, None, None], lattice.astype(self.xp.intp)]

    def reflect(self, state, axis):
        return ((axis[:, None] - state.astype(self.xp.intp)) % self.q).astype(state.dtype)

    def values(self, axis):
        return self.phis[axis]
