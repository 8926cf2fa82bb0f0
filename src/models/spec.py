"""The models on the L x L periodic square lattice and their conventions.

State storage, shared by every backend and by the HDF5 files:
- ising, potts, clock: integer labels k in {0..q-1} (int8). Ising has q = 2 and spin s = 1 - 2k
  (k = 0 is s = +1); the clock angle is theta = 2 pi k / q.
- xy: angles theta in [0, 2 pi) (float64).
Arrays are indexed [replica, y, x]; x-hat is the last axis, y-hat the one before it.

Energies (J > 0 ferromagnetic), summed over the 2N bonds (i, i + x-hat), (i, i + y-hat):
- ising: E = -J sum s_i s_j
- potts: E = -J sum delta(sigma_i, sigma_j)
- clock, xy: E = -J sum cos(theta_i - theta_j)
The pair function g(a, b) with E = -J sum g is also the "plain correlation" of the order
parameter: s_i s_j, (q delta - 1)/(q - 1) (Potts), cos(theta_i - theta_j) (clock, xy) -- except
that for Potts g = delta and the correlation is (q delta - 1)/(q - 1).

Quantum models (spin 1/2, src.quantum): quantum_xxz, H = sum_bonds [Jz S^z_i S^z_j - J (S^x_i S^x_j +
S^y_i S^y_j)] with |Jz| <= J, and quantum_xy, its Jz = 0 case. Their configurations are world lines in
imaginary time, held by src.quantum.backend; the stored `spin` is sigma^z = 2 S^z at tau = 0 (int8 +-1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLASSICAL_MODELS = ("ising", "potts", "clock", "xy")
QUANTUM_MODELS = ("quantum_xy", "quantum_xxz")
MODEL_NAMES = CLASSICAL_MODELS + QUANTUM_MODELS

# How a cluster changes its members, as understood by the update kernels.
POTTS_RECOLOUR = 0  # the cluster takes a new label (Potts / Ising Fortuin-Kasteleyn clusters)
REFLECT = 1  # the cluster is reflected about a random axis (embedded clusters: clock, XY)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    L: int
    q: int = 2
    J: float = 1.0
    Jz: float = 0.0

    def __post_init__(self):
        if self.name not in MODEL_NAMES:
            raise ValueError(f"unknown model {self.name!r} (allowed: {', '.join(MODEL_NAMES)})")
        if self.L < 2:
            raise ValueError(f"L must be at least 2, got {self.L}")
        if self.name == "ising" or self.quantum:
            object.__setattr__(self, "q", 2)
        if self.Jz != 0 and self.name != "quantum_xxz":
            raise ValueError(f"Jz is a coupling of the quantum_xxz model, not of {self.name!r}")
        if abs(self.Jz) > self.J:
            raise ValueError(f"the loop algorithm needs |Jz| <= J (no sign problem), got Jz = {self.Jz}")
        if self.name in ("potts", "clock") and self.q < 2:
            raise ValueError(f"q must be at least 2 for the {self.name} model, got {self.q}")

    @property
    def n_sites(self) -> int:
        return self.L * self.L

    @property
    def quantum(self) -> bool:
        return self.name in QUANTUM_MODELS

    @property
    def continuous(self) -> bool:
        return self.name == "xy"

    @property
    def vector(self) -> bool:
        """Whether the order parameter is a planar vector (clock, xy)."""
        return self.name in ("clock", "xy")

    @property
    def cluster_mode(self) -> int:
        return REFLECT if self.vector else POTTS_RECOLOUR

    @property
    def state_dtype(self):
        return np.float64 if self.continuous else np.int8

    def pair_table(self) -> np.ndarray:
        """g(a, b) for the discrete models, E = -J sum_bonds g: shape (q, q)."""
        k = np.arange(self.q)
        if self.name == "ising":
            s = 1 - 2 * k
            return np.outer(s, s).astype(np.float64)
        if self.name == "potts":
            return np.eye(self.q)
        if self.name == "clock":
            return np.cos(2 * np.pi * (k[:, None] - k[None, :]) / self.q)
        raise ValueError("the xy model has no pair table")

    def correlation_table(self) -> np.ndarray:
        """Order-parameter correlation of a pair of labels: (q delta - 1)/(q - 1) for Potts."""
        if self.name == "potts":
            return (self.q * np.eye(self.q) - 1.0) / (self.q - 1.0)
        return self.pair_table()

    def potts_bond_coupling(self) -> float:
        """K such that an equal-label bond is occupied with p = 1 - exp(-beta K)."""
        return 2.0 * self.J if self.name == "ising" else self.J
