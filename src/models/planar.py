"""What the planar models (clock, xy) share: unit spins s = (cos theta, sin theta), E = -J sum_bonds
cos(theta_i - theta_j), the planar order parameter, the helicity modulus, Wolff's embedded clusters
and the network encoding of spins as (cos theta, sin theta).

Observables besides the common ones: mx, my (m = (mean cos theta, mean sin theta)), and
helicity_cos = (1/2N) sum_i [cos(theta_i - theta_{i+x}) + cos(theta_i - theta_{i+y})] (= corr_nn),
helicity_sin2 = [(sum_i sin(theta_i - theta_{i+x}))^2 + (same for y)] / (2 N^2), so that the helicity
modulus is Upsilon = J <helicity_cos> - beta J^2 N <helicity_sin2>.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np

from src.models.lattice import COMMON_OBSERVABLES
from src.sampling.graph.configurations import embedded_improved, partner

PLANAR_OBSERVABLES = (*COMMON_OBSERVABLES, "mx", "my", "helicity_cos", "helicity_sin2")


class Planar:
    """Mixed into the dataclasses of the planar models, which supply `angles`."""

    observable_names = PLANAR_OBSERVABLES

    @abstractmethod
    def angles(self, lattice, xp):
        """The spin angles theta (float64) of a batch."""

    def projections(self, lattice, axes, xp):
        return xp.cos(self.angles(lattice, xp) - xp.asarray(axes)[:, None, None])

    def estimator_axes(self, axis, count, xp):
        # count axes pi/count apart: sum_k (r_k.s_i)(r_k.s_j) = (count/2) cos(theta_i - theta_j) for
        # count >= 2 (and on average over the random first axis for count = 1)
        return [axis + k * np.pi / count for k in range(count)]

    def axes_refusal(self, axes):
        return None

    def default_axes(self):
        # two orthogonal axes: the snapshot-to-snapshot s.d. of the mean of `improved` falls 5- to
        # 9-fold from one axis (xy L = 16, T = 0.9: 0.38 -> 0.068, below the plain correlation's
        # 0.090); four add 10-20 % for twice the graphs (docs/studies.md)
        return 2

    def correlation(self, lattice, r, xp):
        theta = self.angles(lattice, xp)
        chans = [xp.cos(theta - partner(theta, r, d, xp)) for d in (0, 1)]
        return xp.stack(chans, axis=1).astype(xp.float32)

    def improved(self, lattice, graph, r, xp):
        weights = xp.abs(Planar.projections(self, lattice, graph.axes, xp))
        return embedded_improved(graph.labels, weights, 2, r, xp)

    def order_parameter(self, lattice, xp, measured):
        R, n = lattice.shape[0], self.n_sites
        theta = self.angles(lattice, xp)
        mx = xp.cos(theta).reshape(R, -1).mean(axis=1)
        my = xp.sin(theta).reshape(R, -1).mean(axis=1)
        sin_sums = [xp.sin(theta - xp.roll(theta, -1, axis=a)).reshape(R, -1).sum(axis=1) for a in (-1, -2)]
        return {
            "mx": mx,
            "my": my,
            "helicity_cos": measured["corr_nn"],
            "helicity_sin2": (sin_sums[0] ** 2 + sin_sums[1] ** 2) / (2.0 * n * n),
            "m2": mx * mx + my * my,
        }

    # networks see the spin vector (cos theta, sin theta), alike for clock and xy, so that a network
    # trained on one applies to the other (and there is no cut at 2 pi)
    def spin_channels(self):
        return 2

    def encode_spin(self, stored):
        theta = self.angles(stored, np)
        return np.stack([np.cos(theta), np.sin(theta)], axis=1).astype(np.float32)

    def describe_spin(self):
        return "spin: 2 channels (cos theta, sin theta)"

    def spin_picture(self, stored):
        # a cyclic colour map: angle 0 and 2 pi look the same
        return np.mod(self.angles(stored, np), 2 * np.pi), "hsv", 0.0, 2 * np.pi
