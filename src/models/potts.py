"""The q-state Potts model: labels sigma in {0..q-1}, E = -J sum_bonds delta(sigma_i, sigma_j).

State: the labels (int8), stored as they are in `spin`. The order parameter is the (q-1)-component
simplex vector sqrt(q/(q-1)) (e_sigma - 1/q), so m^2 = (q sum_a rho_a^2 - 1)/(q - 1) with rho_a the
fraction of sites with label a, and the plain correlation of a pair is (q delta - 1)/(q - 1). Fortuin-
Kasteleyn clusters of equal labels bond with p = 1 - exp(-beta J). Exact: enumeration and the transfer
matrix; T_c = J / ln(1 + sqrt q) (Baxter), continuous for q <= 4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from src.models.tables import TableModel


@dataclass(frozen=True, kw_only=True)
class Potts(TableModel):
    q: int

    name: ClassVar = "potts"
    fortuin_kasteleyn: ClassVar = True
    integer_levels: ClassVar = True

    @property
    def literature_tc(self):
        # Baxter's exact value, to the six decimals of the other models' literature values
        return round(1.0 / math.log(1.0 + math.sqrt(self.q)), 6) * self.J

    @property
    def exact_exponents(self):
        # den Nijs, Nienhuis: q = 2, 3, 4 are continuous in two dimensions; q > 4 first order
        return {
            2: {"nu": 1.0, "eta": 0.25},
            3: {"nu": 5 / 6, "eta": 4 / 15},
            4: {"nu": 2 / 3, "eta": 0.25},
        }.get(self.q)

    def pair_table(self):
        return np.eye(self.q)

    def correlation_table(self):
        return (self.q * np.eye(self.q) - 1.0) / (self.q - 1.0)

    def site_vectors(self):
        return np.sqrt(self.q / (self.q - 1)) * (np.eye(self.q) - 1.0 / self.q)

    def energy_from_corr_nn(self, corr_nn):
        # delta = ((q - 1) c + 1) / q for the Potts correlation c
        return -2.0 * self.J * ((self.q - 1) * corr_nn + 1.0) / self.q

    def corr_nn_from_energy(self, energy):
        delta = -energy / (2.0 * self.J)
        return (self.q * delta - 1.0) / (self.q - 1)

    def order_parameter(self, lattice, xp, measured):
        R, q = lattice.shape[0], self.q
        counts = xp.stack([(lattice == a).reshape(R, -1).sum(axis=1) for a in range(q)], axis=1)
        rho = counts.astype(xp.float64) / self.n_sites
        m2 = (q * (rho**2).sum(axis=1) - 1.0) / (q - 1.0)
        return {"m2": xp.maximum(m2, 0.0)}  # round-off on a disordered configuration
