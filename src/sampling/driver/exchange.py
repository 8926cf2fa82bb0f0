"""Replica-exchange (parallel tempering) bookkeeping, Hukushima & Nemoto (1996).

A run has `n_sets` independent sets of n_T chains; within a set the chains exchange
temperatures, never configurations, so no spins move between ranks. Chains are numbered
0..n_T-1 within their set, and chain a starts at temperature index a. Temperatures increase with
the index, so the betas decrease.

Every MPI rank holds an identical ReplicaExchange and calls `attempt` with the same all-gathered
energies. The decisions come from one generator seeded from SeedSequence(seed,
spawn_key=(EXCHANGE_STREAM,)), and each attempt draws exactly one uniform per (set, pair) whatever
the energies, so all ranks take the same decisions and stay in step without communicating.

Attempts alternate between the even pairs (0,1), (2,3), ... and the odd pairs (1,2), (3,4), ...;
the pairs of one attempt are disjoint, so they are decided independently. Pair (t, t+1) swaps
with probability min(1, exp[(beta_t - beta_{t+1}) (E_t - E_{t+1})]), E_t being the total energy
of the chain at index t, which satisfies detailed balance for the product of Boltzmann weights.

Continuous-time quantum chains (src.sampling.quantum) keep their configurations in imaginary time scaled by
beta, where a configuration with n kinks weighs beta^n w^n exp(-beta E) (E its tau-averaged
diagonal energy, w independent of beta). Swapping adds the factor (beta_{t+1} / beta_t)^(n_t - n_{t+1})
to the classical ratio, so `attempt` takes the expansion orders n beside the energies (0 for
classical chains, which leaves the classical rule).
"""

from __future__ import annotations

import json

import numba as nb
import numpy as np

# Spawn key of the decision stream. The chains' streams use the keys (0,), ..., (M - 1,), so a key
# far above any chain count keeps this stream apart from theirs.
EXCHANGE_STREAM = 2**31 - 1

# The extreme of the ladder a chain visited last, for counting round trips.
_NONE, _BOTTOM, _TOP = 0, 1, 2

# The array state of a ReplicaExchange; temperature_of is not among them, being chain_at's inverse.
_ARRAYS = ("betas", "chain_at", "pair_attempts", "pair_accepts", "last_extreme", "round_trips", "half_trips")


class ReplicaExchange:
    """Temperature permutations, acceptance and round-trip statistics of n_sets x n_T chains.

    chain_at[s, t]: the chain of set s at temperature index t; temperature_of[s, a]: the index
    of chain a of set s (the inverse permutation). pair_attempts/pair_accepts[s, t] count the
    attempts and swaps of pair (t, t+1). round_trips[s, a] counts the arrivals of chain a at the
    bottom (index 0) after a visit to the top (n_T - 1); half_trips[s, a] its arrivals at the top
    after a visit to the bottom. The start counts as a visit: chain 0 starts at the bottom and
    chain n_T - 1 at the top.
    """

    def __init__(self, betas, n_sets: int, seed: int):
        betas = np.array(betas, dtype=np.float64)
        if betas.ndim != 1 or betas.size < 2 or not np.all(np.diff(betas) < 0):
            raise ValueError("betas must be a 1-d array of at least two values, strictly decreasing")
        if n_sets < 1:
            raise ValueError("n_sets must be at least 1")
        n_T = betas.size
        self.betas = betas
        self.rng = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(EXCHANGE_STREAM,)))
        )
        self.n_attempts = 0  # its parity picks the pairs of the next attempt
        self.chain_at = np.tile(np.arange(n_T, dtype=np.int64), (n_sets, 1))
        self.temperature_of = self.chain_at.copy()
        self.pair_attempts = np.zeros((n_sets, n_T - 1), dtype=np.int64)
        self.pair_accepts = np.zeros((n_sets, n_T - 1), dtype=np.int64)
        self.last_extreme = np.full((n_sets, n_T), _NONE, dtype=np.int8)
        self.round_trips = np.zeros((n_sets, n_T), dtype=np.int64)
        self.half_trips = np.zeros((n_sets, n_T), dtype=np.int64)
        self._count_trips()  # marks the starts of chains 0 and n_T - 1, counting nothing

    @property
    def n_sets(self) -> int:
        return self.chain_at.shape[0]

    @property
    def n_T(self) -> int:
        return self.chain_at.shape[1]

    def attempt(self, energies, orders=None) -> None:
        """One sweep of exchanges over the even or the odd pairs, alternately.

        energies: (n_sets, n_T) total energies, indexed by chain (not by temperature); orders: the
        chains' expansion orders in the same shape, for quantum chains (module docstring).
        """
        energies = np.asarray(energies, dtype=np.float64)
        if energies.shape != self.chain_at.shape:
            raise ValueError(f"energies have shape {energies.shape}, expected {self.chain_at.shape}")
        orders = np.zeros_like(energies) if orders is None else np.asarray(orders, dtype=np.float64)
        first = self.n_attempts % 2
        self.n_attempts += 1
        # Drawn before looking at the energies, so the stream advances the same way for any data.
        u = self.rng.random((self.n_sets, len(range(first, self.n_T - 1, 2))))
        _exchange_pass(
            first,
            u,
            energies,
            orders,
            self.betas,
            self.chain_at,
            self.temperature_of,
            self.pair_attempts,
            self.pair_accepts,
            self.last_extreme,
            self.round_trips,
            self.half_trips,
        )

    def _count_trips(self) -> None:
        _count_trips(self.chain_at, self.last_extreme, self.round_trips, self.half_trips)

    def acceptance(self) -> np.ndarray:
        """(n_T - 1,) fraction of accepted swaps per pair over all sets; nan where none was tried."""
        attempts = self.pair_attempts.sum(axis=0)
        accepts = self.pair_accepts.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(attempts > 0, accepts / attempts, np.nan)

    def betas_of_chains(self) -> np.ndarray:
        """(n_sets, n_T) the beta each chain has now."""
        return self.betas[self.temperature_of]

    def tune_ladder(self, gain: float = 1.0) -> np.ndarray:
        """Move the interior betas toward equal acceptance on every pair; for thermalisation only.

        Feedback rule: every gap g_t = beta_t - beta_{t+1} is multiplied by exp[gain (A_t - <A>)],
        A_t being the pair's acceptance since the last call and <A> its mean over the pairs, and
        the gaps are then rescaled to keep both end points. Acceptance falls as a gap widens, so
        pairs that accept more than the mean get wider gaps and the others narrower ones. The
        exponential keeps the gaps positive (the betas strictly decreasing); |dA/d ln g| stays
        below about 1/2 for near-Gaussian energy distributions, so gain = 1 moves about halfway
        to the fixed point per call without overshooting, which also damps the noise of A_t.

        The chains keep their temperature indices, so their betas change: the caller must re-read
        betas_of_chains(). Resets the acceptance counters and returns the acceptance it used.
        """
        accepted = self.acceptance()
        if np.any(np.isnan(accepted)):
            raise ValueError("tune_ladder needs at least one attempt on every pair")
        gaps = -np.diff(self.betas) * np.exp(gain * (accepted - accepted.mean()))
        gaps *= (self.betas[0] - self.betas[-1]) / gaps.sum()
        interior = self.betas[0] - np.cumsum(gaps)[:-1]
        self.betas = np.concatenate([self.betas[:1], interior, self.betas[-1:]])
        self.pair_attempts[:] = 0
        self.pair_accepts[:] = 0
        return accepted

    def state_dict(self) -> dict:
        """Everything needed to continue exactly: numpy arrays, an int and a JSON string (the
        generator state), all of which HDF5 attributes/datasets and npz files can hold."""
        return {
            **{name: getattr(self, name).copy() for name in _ARRAYS},
            "n_attempts": self.n_attempts,
            "rng_state": json.dumps(self.rng.bit_generator.state),
        }

    def load_state_dict(self, d) -> None:
        """Restore a state_dict(), also as read back from HDF5/npz (0-d arrays, bytes)."""
        # Everything is checked before anything is set, so a bad checkpoint leaves self intact.
        arrays = {}
        for name in _ARRAYS:
            current = getattr(self, name)
            arrays[name] = np.array(d[name], dtype=current.dtype)
            if arrays[name].shape != current.shape:
                raise ValueError(
                    f"checkpoint {name} has shape {arrays[name].shape}, expected {current.shape}"
                )
        if np.any(np.sort(arrays["chain_at"], axis=1) != np.arange(self.n_T)):
            raise ValueError("checkpoint chain_at is not a permutation in every set")
        rng_state = np.asarray(d["rng_state"]).item()
        if isinstance(rng_state, bytes):  # h5py returns strings as bytes
            rng_state = rng_state.decode()
        self.rng.bit_generator.state = json.loads(rng_state)
        for name, value in arrays.items():
            setattr(self, name, value)
        # The inverse is rebuilt rather than stored, so the two maps cannot disagree.
        np.put_along_axis(self.temperature_of, self.chain_at, np.arange(self.n_T), axis=1)
        self.n_attempts = int(d["n_attempts"])


@nb.njit(cache=True)
def _count_trips(chain_at, last_extreme, round_trips, half_trips):
    # A chain moves by at most one index per attempt, so it cannot pass an extreme unseen.
    top = chain_at.shape[1] - 1
    for s in range(chain_at.shape[0]):
        b, t = chain_at[s, 0], chain_at[s, top]
        if last_extreme[s, b] == _TOP:
            round_trips[s, b] += 1
        last_extreme[s, b] = _BOTTOM
        if last_extreme[s, t] == _BOTTOM:
            half_trips[s, t] += 1
        last_extreme[s, t] = _TOP


@nb.njit(cache=True)
def _exchange_pass(
    first,
    u,
    energies,
    orders,
    betas,
    chain_at,
    temperature_of,
    pair_attempts,
    pair_accepts,
    last_extreme,
    round_trips,
    half_trips,
):
    """The pairs (t, t + 1), t = first, first + 2, ... of every set, in place (a loop: the arrays
    are small and an exchange may come every sweep, where numpy's per-call cost would dominate)."""
    n_sets, n_T = chain_at.shape
    for s in range(n_sets):
        for k, t in enumerate(range(first, n_T - 1, 2)):
            lo, hi = chain_at[s, t], chain_at[s, t + 1]
            exponent = (betas[t] - betas[t + 1]) * (energies[s, lo] - energies[s, hi])
            if orders[s, lo] != orders[s, hi]:
                exponent += (orders[s, lo] - orders[s, hi]) * np.log(betas[t + 1] / betas[t])
            pair_attempts[s, t] += 1
            # min(1, e^x): every exponent >= 0 is accepted; a nan energy compares false: no swap
            if exponent >= 0.0 or u[s, k] < np.exp(exponent):
                chain_at[s, t], chain_at[s, t + 1] = hi, lo
                temperature_of[s, hi], temperature_of[s, lo] = t, t + 1
                pair_accepts[s, t] += 1
    _count_trips(chain_at, last_extreme, round_trips, half_trips)
