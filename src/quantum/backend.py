"""A batch of loop-algorithm chains of a quantum model, with the interface of the classical backends
(src.sampler), its observables and its representations in the classical names and shapes.

Representations (arrays [y, x]; channel 0 pairs i with i + r x-hat, channel 1 with i + r y-hat):
- `spin`: sigma^z = 2 S^z at imaginary time 0, int8 +-1, shape (L, L).
- `correlation`: zz(i, i + r), the equal-time sigma^z_i sigma^z_j averaged over imaginary time, shape
  (2, L, L); its mean is 4 C_zz(r). The S^z basis has no diagonal estimate of the in-plane
  correlation, so this is the out-of-plane one (equal to the in-plane one only at the Heisenberg
  points).
- `improved`: 2 same(i, i + r), twice the fraction of imaginary time at which i and i + r lie on one
  loop, shape (2, L, L); its mean is 8 C_xx(r) = <sigma^x_i sigma^x_j + sigma^y_i sigma^y_j>, the
  in-plane correlation of the unit spins, which is what the classical xy `improved` averages to
  (<cos(theta_i - theta_j)>); values lie in [0, 2] as there.
Derivations: src.quantum.estimators.
"""

from __future__ import annotations

import numpy as np

from src.models.spec import ModelSpec
from src.quantum.chain import LoopChain
from src.quantum.estimators import OBSERVABLES
from src.quantum.lattice import shifted_sites, square
from src.updates.initial import initial_state
from src.updates.rng import seed_streams

REPRESENTATIONS = ("spin", "correlation", "improved")


class LoopBackend:
    """Chains of one rank; chain k draws from the stream of replica id k (as the classical backends)."""

    xp = np

    def __init__(self, model: ModelSpec, update: str, betas, seed: int, replica_ids):
        if update != "loop":
            raise ValueError(f"the {model.name} model is sampled with update 'loop', not {update!r}")
        self.model = model
        self.ids = np.asarray(replica_ids)
        self.betas = np.asarray(betas, dtype=np.float64).copy()
        self.rng = np.concatenate([seed_streams(seed, 1, first=int(i)) for i in self.ids])
        lattice = square(model.L)
        start = initial_state(model, seed, self.ids)  # labels 0/1 = spin s of S^z = s - 1/2
        self.values = np.zeros((len(self.ids), len(OBSERVABLES)))  # row k: chain k's estimators
        self.chains = [
            LoopChain(lattice, model.Jz, model.J, self.rng[k], start[k], self.values[k])
            for k in range(len(self.ids))
        ]
        self.flipped = 0  # (no Wolff clusters)

    def sweep(self, n_sweeps: int = 1, tune: bool = False):
        """n_sweeps loop updates of every chain (a loop update is the Monte Carlo sweep). Outside
        thermalisation (tune) the last one also computes the chain's estimators, as a measurement
        usually follows: that costs a few microseconds of kernel time, a separate call more."""
        for chain, beta in zip(self.chains, self.betas):
            for k in range(n_sweeps):
                chain.update(beta, measure=not tune and k == n_sweeps - 1)

    def exchange_weights(self) -> np.ndarray:
        """(R, 2): the tau-averaged diagonal energy and the number of kinks of every chain, the two
        numbers its weight at another beta depends on (src.quantum.estimators)."""
        return np.array([(c.diagonal_energy(b), c.n_kinks) for c, b in zip(self.chains, self.betas)])

    def measure(self) -> dict[str, np.ndarray]:
        for chain, beta in zip(self.chains, self.betas):
            chain.estimators(beta)  # fills its row of self.values
        return dict(zip(OBSERVABLES, self.values.T.copy()))

    def snapshot(self, names, r: int) -> dict[str, np.ndarray]:
        unknown = [name for name in names if name not in REPRESENTATIONS]
        if unknown:
            raise ValueError(
                f"representation {unknown[0]!r} is not defined for quantum models "
                f"(allowed: {', '.join(REPRESENTATIONS)})"
            )
        L = self.model.L
        out = {}
        if "spin" in names:
            out["spin"] = np.stack([(2 * c.spin0 - 1).reshape(L, L) for c in self.chains]).astype(np.int8)
        if {"correlation", "improved"} & set(names):
            # one merge per chain and direction gives both: same (improved) and zz (correlation)
            partners = [shifted_sites((L, L), (0, r)), shifted_sites((L, L), (r, 0))]  # +r x-hat, +r y-hat
            pairs = np.stack(
                [[c.overlaps(beta, p) for p in partners] for c, beta in zip(self.chains, self.betas)]
            )  # (chains, direction, same | zz, N)
            if "improved" in names:
                out["improved"] = (2 * pairs[:, :, 0]).reshape(-1, 2, L, L).astype(np.float32)
            if "correlation" in names:
                out["correlation"] = pairs[:, :, 1].reshape(-1, 2, L, L).astype(np.float32)
        return {name: out[name] for name in names}

    def chain_state(self) -> dict:
        """Host arrays with a leading chain axis; kinks padded to the longest chain (n_kinks says how
        many are real)."""
        width = max(c.n_kinks for c in self.chains)
        state = {
            "spin0": np.stack([c.spin0 for c in self.chains]).astype(np.int8),
            "rng": self.rng.copy(),
            "n_kinks": np.array([c.n_kinks for c in self.chains], dtype=np.int64),
            "kink_bond": np.zeros((len(self.chains), width), dtype=np.int64),
            "kink_time": np.zeros((len(self.chains), width)),  # tau, for the chain's kink_beta
            "kink_beta": np.array([c.kbeta for c in self.chains]),
        }
        for k, c in enumerate(self.chains):
            state["kink_bond"][k, : c.n_kinks] = c.kbond
            state["kink_time"][k, : c.n_kinks] = c.ktime
        return state

    def load_chain_state(self, d: dict) -> None:
        self.rng[...] = d["rng"]
        for k, c in enumerate(self.chains):
            n = int(d["n_kinks"][k])
            c.spin0 = np.asarray(d["spin0"][k], dtype=np.int64).copy()
            c.set_kinks(d["kink_bond"][k, :n], d["kink_time"][k, :n], d["kink_beta"][k])
