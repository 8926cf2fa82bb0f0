"""The classical XY model: angles theta in [0, 2 pi), E = -J sum_bonds cos(theta_i - theta_j).

State: the angles (float64); the stored `spin` holds them as float32. A planar model
(src.models.planar). Updates: Swendsen-Wang and Wolff with Wolff's embedded clusters about a uniform
random axis, checkerboard Metropolis with proposals theta + window (2u - 1), and energy-conserving
over-relaxation theta -> 2 arg(h) - theta after any update (`overrelax`). No exact solution: the
updates are checked against each other; T_BKT = 0.8929 J (Hasenbusch 2005).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from src.models.lattice import LatticeModel
from src.models.planar import Planar
from src.sampling.backends.array import ArrayMoves
from src.sampling.backends.cpu import CpuMoves
from src.sampling.updates import array_kernels, cpu_clusters, cpu_local, cpu_wolff
from src.sampling.updates.array_clusters import EmbeddedClusters


@dataclass(frozen=True)
class XY(Planar, LatticeModel):
    name: ClassVar = "xy"
    state_dtype: ClassVar = np.float64
    overrelaxation: ClassVar = True
    critical_temperature: ClassVar = 0.8929  # Hasenbusch 2005
    refused_keys: ClassVar = {
        **LatticeModel.refused_keys,
        "q": "the xy model has continuous angles; leave q out (or use clock)",
    }

    def angles(self, lattice, xp):
        return lattice

    def random_state(self, generator, n_sites):
        return generator.uniform(0.0, 2.0 * np.pi, n_sites)

    def spin(self, lattice, xp):
        return lattice.astype(xp.float32)

    def stored_dtype(self, representation):
        return np.dtype(np.uint8 if representation == "fk_bonds" else np.float32)

    def cpu_moves(self):
        J, neighbours = self.J, cpu_clusters.neighbour_table(self.L)
        return CpuMoves(
            swendsen_wang=lambda state, betas, rng, bonds, labels, axes, n, apply: cpu_clusters.sw_xy(
                state, betas, J, rng, bonds, labels, axes, n, apply
            ),
            wolff=lambda state, betas, rng, clusters: cpu_wolff.wolff_xy(
                state, neighbours, betas, J, rng, clusters
            ),
            metropolis=lambda state, betas, rng, window, n: cpu_local.metropolis_xy(
                state, betas, J, window, rng, n
            ),
            energies=lambda state: cpu_local.total_energies_xy(state, J),
            overrelax=cpu_local.overrelax_xy,
            axis_shape=(),
        )

    def array_moves(self, xp):
        J = self.J
        return ArrayMoves(
            clusters=EmbeddedClusters(xp, J, PlaneAxes(xp)),
            metropolis=lambda rng, state, betas, window, boards: array_kernels.metropolis_xy(
                xp, rng, state, betas, J, window, boards
            ),
            overrelax=lambda state, boards, n: array_kernels.overrelax_xy(xp, state, boards, n),
        )


class PlaneAxes:
    """Uniform random axes r = (cos phi, sin phi) of the array kernels' embedded clusters."""

    def __init__(self, xp):
        self.xp = xp

    def draw(self, rng, n_chains: int):
        return array_kernels.TWO_PI * rng.random(n_chains)

    def projection(self, lattice, axis):
        return self.xp.cos(lattice - axis[:, None, None])

    def reflect(self, state, axis):
        return array_kernels.wrap_angle(self.xp, np.pi + 2.0 * axis[:, None] - state)

    def values(self, axis):
        return axis
