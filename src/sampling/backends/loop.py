"""The loop backend: a batch of loop-algorithm chains of a quantum model, implementing the backend
protocol of the classical ones (src.sampling.backends.protocol). The representations it builds, in
the classical names and shapes, are documented with the model (src.models.quantum_xy); their
derivations with the estimators (src.sampling.quantum.estimators).
"""

from __future__ import annotations

import numpy as np

from src.sampling.backends.protocol import Backend
from src.sampling.initial import initial_state
from src.sampling.quantum.chain import LoopChain
from src.sampling.quantum.estimators import OBSERVABLES
from src.sampling.quantum.lattice import shifted_sites, square
from src.sampling.streams import seed_streams


class LoopBackend(Backend):
    """Chains of one rank; chain k draws from the stream of replica id k (as the classical backends)."""

    xp = np

    def __init__(self, model, update: str, betas, seed: int, replica_ids):
        if update != "loop":
            raise ValueError(f"the {model.name} model is sampled with update 'loop', not {update!r}")
        self.model = model
        self.ids = np.asarray(replica_ids)
        self.betas = betas
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
        numbers its weight at another beta depends on (src.sampling.quantum.estimators)."""
        return np.array([(c.diagonal_energy(b), c.n_kinks) for c, b in zip(self.chains, self.betas)])

    def measure(self) -> dict[str, np.ndarray]:
        for chain, beta in zip(self.chains, self.betas):
            chain.estimators(beta)  # fills its row of self.values
        return dict(zip(OBSERVABLES, self.values.T.copy()))

    def snapshot(self, names, r: int, axes: int = 1) -> dict[str, np.ndarray]:
        if axes != 1:
            raise ValueError(f"the {self.model.name} model has no embedding axes (got {axes})")
        unknown = [name for name in names if name not in self.model.representations]
        if unknown:
            raise ValueError(
                f"representation {unknown[0]!r} is not defined for the {self.model.name} model "
                f"(allowed: {', '.join(self.model.representations)})"
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
