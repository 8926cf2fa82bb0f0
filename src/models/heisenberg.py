"""The classical Heisenberg model: O(3) unit spins s, E = -J sum_bonds s_i . s_j (J > 0 ferromagnetic).

State: the unit vectors (float64, three components per site); the stored `spin` holds them as
float32 with the components first, shape (3, L, L). The order parameter is m = (1/N) sum_i s_i, the
plain correlation of a pair s_i . s_j. Updates: Wolff's embedded clusters about a uniform random axis
r on the sphere (Swendsen-Wang and Wolff; src.sampling.updates.cpu_heisenberg), whose improved
correlation is 3 delta(C_i, C_j) |r.s_i| |r.s_j| (mean s_i . s_j, since E_r[(r.s_i)(r.s_j)] =
s_i . s_j / 3), and checkerboard Metropolis with proposals uniform within the angle `window`.

No transition at T > 0 in two dimensions (Mermin-Wagner). Exact reference: the 2 x 2 torus, whose
four spins form a ring with coupling 2J on each link (two bonds join each pair); with K = 2 beta J,
e^{K s.t} = sum_l (2l + 1) i_l(K) P_l(s.t) (i_l: modified spherical Bessel functions) and the
addition theorem give Z = (4 pi)^4 sum_l (2l + 1) i_l(K)^4, and the spin s (an l = 1 insertion,
which moves l by one) gives the correlation across the ring (`ring_averages`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.special import spherical_in

from src.models.lattice import LatticeModel
from src.sampling.backends.array import ArrayMoves
from src.sampling.backends.cpu import CpuMoves
from src.sampling.graph.configurations import embedded_improved, partner
from src.sampling.updates import array_heisenberg, cpu_clusters, cpu_heisenberg
from src.sampling.updates.array_clusters import EmbeddedClusters


@dataclass(frozen=True)
class Heisenberg(LatticeModel):
    name: ClassVar = "heisenberg"
    state_dtype: ClassVar = np.float64
    site_shape: ClassVar = (3,)

    def random_state(self, generator, n_sites):
        s = generator.normal(size=(n_sites, 3))
        return s / np.linalg.norm(s, axis=1, keepdims=True)

    # lattices are (R, 3, L, L): the components before the lattice axes
    def order_parameter(self, lattice, xp, measured):
        m = lattice.reshape(lattice.shape[0], 3, -1).mean(axis=2)
        return {"m2": (m * m).sum(axis=1)}

    def spin(self, lattice, xp):
        return lattice.astype(xp.float32)

    def correlation(self, lattice, r, xp):
        chans = [(lattice * partner(lattice, r, d, xp)).sum(axis=1) for d in (0, 1)]
        return xp.stack(chans, axis=1).astype(xp.float32)

    def improved(self, lattice, graph, r, xp):
        weights = xp.abs(self.projections(lattice, graph.axes, xp))
        return embedded_improved(graph.labels, weights, 3, r, xp)

    def projections(self, lattice, axes, xp):
        return (lattice * xp.asarray(axes)[:, :, None, None]).sum(axis=1)

    def estimator_axes(self, axis, count, xp):
        # an orthonormal frame: sum_k (r_k.s_i)(r_k.s_j) = s_i . s_j exactly
        return [axis] if count == 1 else [axis, *array_heisenberg.normal_frame(xp, xp.asarray(axis))]

    def default_axes(self):
        return 3  # an orthonormal frame: the s.d. of the mean of `improved` falls 2.7-fold from one axis

    def axes_refusal(self, axes):
        return None if axes in (1, 3) else "must be 1 or 3 (an orthonormal frame) for the heisenberg model"

    def stored_dtype(self, representation):
        return np.dtype(np.uint8 if representation == "fk_bonds" else np.float32)

    def spin_channels(self):
        return 3

    def encode_spin(self, stored):
        return stored.astype(np.float32)

    def describe_spin(self):
        return "spin: 3 channels (s_x, s_y, s_z)"

    def spin_picture(self, stored):
        # (s_x, s_y, s_z) in [-1, 1] as (red, green, blue) in [0, 1]
        return (np.moveaxis(stored, 0, -1) + 1) / 2, None, 0.0, 1.0

    def cpu_moves(self):
        J, neighbours = self.J, cpu_clusters.neighbour_table(self.L)
        return CpuMoves(
            swendsen_wang=lambda state, betas, rng, bonds, labels, axes, n, apply: (
                cpu_heisenberg.sw_heisenberg(state, betas, J, rng, bonds, labels, axes, n, apply)
            ),
            wolff=lambda state, betas, rng, clusters: cpu_heisenberg.wolff_heisenberg(
                state, neighbours, betas, J, rng, clusters
            ),
            metropolis=lambda state, betas, rng, window, n: cpu_heisenberg.metropolis_heisenberg(
                state, betas, J, window, rng, n
            ),
            energies=lambda state: cpu_heisenberg.total_energies_heisenberg(state, J),
            axis_shape=(3,),
        )

    def array_moves(self, xp):
        J = self.J
        return ArrayMoves(
            clusters=EmbeddedClusters(xp, J, SphereAxes(xp)),
            metropolis=lambda rng, state, betas, window, boards: array_heisenberg.metropolis_heisenberg(
                xp, rng, state, betas, J, window, boards
            ),
        )


class SphereAxes:
    """Uniform random axes r on the sphere for the array kernels' embedded clusters."""

    def __init__(self, xp):
        self.xp = xp

    def draw(self, rng, n_chains: int):
        return array_heisenberg.unit_vectors(self.xp, rng, (n_chains,))

    def projection(self, lattice, axis):
        return (lattice * axis[:, :, None, None]).sum(axis=1)

    def reflect(self, state, axis):
        p = (state * axis[:, None, :]).sum(axis=-1, keepdims=True)
        return state - 2.0 * p * axis[:, None, :]

    def values(self, axis):
        return axis


def ring_averages(beta: float, J: float = 1.0, l_max: int = 80) -> dict:
    """Exact averages of the Heisenberg model on the 2 x 2 torus (see the module docstring): energy
    and specific heat per site, <m^2>, and the correlations of ring neighbours (c1) and of opposite
    sites (c2). With K = 2 beta J, lambda_l = i_l(K) and S_n = sum_l (2l + 1) d^n/dK^n lambda_l^4:
    <sum_ring s.t> = S_1 / S_0 and its variance S_2 / S_0 - (S_1 / S_0)^2, E = -2J sum_ring s.t;
    c2 = 2 sum_l (l + 1) lambda_l^2 lambda_{l+1}^2 / S_0 (the l = 1 insertions couple l to l +- 1,
    with weights l + 1 and l summed over m); m^2 = (4 + 8 c1 + 4 c2) / 16."""
    K = 2.0 * beta * J
    l = np.arange(l_max + 1)
    lam = spherical_in(l, K)
    d1 = spherical_in(l, K, derivative=True)
    d2 = ((K * K + l * (l + 1)) * lam - 2.0 * K * d1) / (K * K)  # from the modified Bessel equation
    w = 2 * l + 1
    S0 = (w * lam**4).sum()
    S1 = (w * 4 * lam**3 * d1).sum()
    S2 = (w * (12 * lam**2 * d1**2 + 4 * lam**3 * d2)).sum()
    ring, ring_var = S1 / S0, S2 / S0 - (S1 / S0) ** 2
    c1 = ring / 4
    c2 = 2.0 * ((l[:-1] + 1) * lam[:-1] ** 2 * lam[1:] ** 2).sum() / S0
    return {
        "energy": -2.0 * J * ring / 4,
        "specific_heat": beta**2 * (2.0 * J) ** 2 * ring_var / 4,
        "m2": (4 + 8 * c1 + 4 * c2) / 16,
        "c1": c1,
        "c2": c2,
    }
