"""The spin-1/2 quantum XXZ model and its Jz = 0 case, the quantum XY model:

    H = sum_bonds [Jz S^z_i S^z_j - J (S^x_i S^x_j + S^y_i S^y_j)],   |Jz| <= J

(J > 0 ferromagnetic in the plane, free of the sign problem on the square lattice). Sampled with the
continuous-imaginary-time loop algorithm (src.sampling.quantum, src.sampling.backends.loop): a
configuration is world lines in imaginary time; the start is a random S^z configuration (labels 0/1,
S^z = label - 1/2).

Representations, in the classical names and shapes (arrays [y, x]; channel 0 pairs i with i + r x-hat,
channel 1 with i + r y-hat):
- `spin`: sigma^z = 2 S^z at imaginary time 0, int8 +-1, shape (L, L);
- `correlation`: the equal-time sigma^z_i sigma^z_j averaged over imaginary time, mean 4 C_zz(r) (the
  S^z basis has no diagonal estimate of the in-plane correlation);
- `improved`: twice the fraction of imaginary time at which i and i + r lie on one loop, mean
  8 C_xx(r) = <sigma^x sigma^x + sigma^y sigma^y>, what the classical xy `improved` averages to, with
  values in [0, 2] as there. There is no `fk_bonds`: the graphs are loops in space-time.
Observables: src.sampling.quantum.estimators. Exact: diagonalisation by S^z block (src.exact.quantum);
T_BKT of the quantum XY model 0.3427 J (Harada & Kawashima 1998).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from src.models.base import Model, SignSpin
from src.sampling.quantum.estimators import OBSERVABLES


@dataclass(frozen=True, kw_only=True)
class QuantumXXZ(SignSpin, Model):
    Jz: float

    name: ClassVar = "quantum_xxz"
    updates: ClassVar = ("loop",)
    backends: ClassVar = ("cpu",)
    representations: ClassVar = ("spin", "correlation", "improved")
    observable_names: ClassVar = OBSERVABLES

    def __post_init__(self):
        super().__post_init__()
        if abs(self.Jz) > self.J:
            raise ValueError(f"Jz: the loop algorithm needs |Jz| <= J (no sign problem), got {self.Jz}")

    @classmethod
    def refusal(cls, key, value):
        if key == "q" and value is not None:
            return f"the {cls.name} model has spin 1/2; leave q out"
        if key == "Jz":
            return "required for the quantum_xxz model" if value is None else None
        return super().refusal(key, value)

    def backend(self, kind, update, betas, seed, replica_ids, overrelax=0, metropolis_window=None):
        from src.sampling.backends.loop import LoopBackend

        if kind != "cpu":
            raise ValueError(f"the loop algorithm runs on the cpu backend, not {kind!r}")
        return LoopBackend(self, update, betas, seed, replica_ids)

    def random_state(self, generator, n_sites):
        return generator.integers(0, 2, n_sites)

    def snapshot_shape(self, representation):
        return (self.L, self.L) if representation == "spin" else (2, self.L, self.L)

    def stored_dtype(self, representation):
        return np.dtype(np.int8 if representation == "spin" else np.float32)


@dataclass(frozen=True, kw_only=True)
class QuantumXY(QuantumXXZ):
    Jz: float = field(default=0.0, init=False)

    name: ClassVar = "quantum_xy"
    critical_temperature: ClassVar = 0.3427  # Harada & Kawashima 1998

    @classmethod
    def refusal(cls, key, value):
        if key == "Jz":
            return (
                None if value in (None, 0) else "the quantum_xy model has Jz = 0; use quantum_xxz for Jz != 0"
            )
        return super().refusal(key, value)
