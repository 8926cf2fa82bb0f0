"""The Ising model: s = +-1, E = -J sum_bonds s_i s_j (J > 0 ferromagnetic).

State: labels k in {0, 1} (int8) with s = 1 - 2k (k = 0 is s = +1), as for q = 2 Potts labels;
the stored `spin` is s itself. The order parameter is m = mean s; Fortuin-Kasteleyn clusters of
equal spins bond with p = 1 - exp(-2 beta J). Exact references: Kaufman's finite torus
(src.exact.ising_torus), enumeration and the transfer matrix (src.exact); T_c = 2 / ln(1 + sqrt 2) J.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from src.models.base import SignSpin
from src.models.lattice import COMMON_OBSERVABLES
from src.models.tables import TableModel


@dataclass(frozen=True)
class Ising(SignSpin, TableModel):
    name: ClassVar = "ising"
    q: ClassVar = 2
    observable_names: ClassVar = (*COMMON_OBSERVABLES, "m")
    fortuin_kasteleyn: ClassVar = True
    integer_levels: ClassVar = True
    critical_temperature: ClassVar = 2.269185  # Onsager
    refused_keys: ClassVar = {**TableModel.refused_keys, "q": "the ising model has q = 2; leave q out"}

    @classmethod
    def refusal(cls, key, value):
        return None if key == "q" and value == 2 else super().refusal(key, value)

    @property
    def exact_exponents(self):
        return {"nu": 1.0, "eta": 0.25}

    def pair_table(self):
        s = 1 - 2 * np.arange(2)
        return np.outer(s, s).astype(np.float64)

    def site_vectors(self):
        return (1.0 - 2.0 * np.arange(2))[:, None]

    def bond_coupling(self):
        return 2.0 * self.J  # s_i s_j changes by 2 when a bond breaks

    def order_parameter(self, lattice, xp, measured):
        m = (1.0 - 2.0 * lattice.astype(xp.float64)).reshape(lattice.shape[0], -1).mean(axis=1)
        return {"m": m, "m2": m * m}

    def spin(self, lattice, xp):
        return (1 - 2 * lattice.astype(xp.int8)).astype(xp.int8)

    def spin_from_labels(self, labels):
        return (1 - 2 * labels.astype(np.int8)).astype(np.int8)

    def labels_from_spin(self, spin):
        return (1 - spin) // 2
