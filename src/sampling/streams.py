"""xoshiro256+ random streams for the numba kernels: one independent stream per replica.

The generator state is a (4,) uint64 array per replica, so it checkpoints as plain data. Streams
are seeded from numpy's SeedSequence(seed, spawn_key=(replica,)), which makes a replica's stream
depend only on the run's seed and the replica's index.

Two ways to draw:
- `next_u64(s)` and the helpers built on it advance the state array in place (simple, for code
  outside hot loops);
- `step(s0, s1, s2, s3)` advances the state held in four scalars and returns the new scalars.
  Hot loops load the state once (`load`), step the scalars, and write them back (`store`) when
  they are done: the compiler keeps them in registers, where in-place updates of the array would
  cost four loads and four stores per draw (it cannot prove that the state array does not alias
  the arrays the loop writes). Both give the same sequence.

Bernoulli tests in the hot loops compare 32-bit halves of one 64-bit draw with thresholds from
`threshold32`, so every draw serves two tests. Their resolution is 2**-32: P(half < t) = t / 2**32
matches p to within 2**-33 (from rounding p * 2**32), far below any statistical error a run can
reach. The low half contains the three lowest bits of xoshiro256+, which are its weak ones (low
linear complexity); a comparison against a threshold only looks at them when the 29 bits above
them tie with the threshold, i.e. with probability below 2**-29, so they do not matter here.
"""

import numba as nb
import numpy as np

_U53 = 1.0 / 9007199254740992.0  # 2**-53
LOW32 = np.uint64(0xFFFFFFFF)


def seed_streams(seed: int, n_streams: int, first: int = 0) -> np.ndarray:
    """Initial states, shape (n_streams, 4), for replicas first .. first + n_streams - 1."""
    states = np.empty((n_streams, 4), dtype=np.uint64)
    for k in range(n_streams):
        states[k] = np.random.SeedSequence(seed, spawn_key=(first + k,)).generate_state(4, dtype=np.uint64)
    return states


@nb.njit(inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@nb.njit(inline="always")
def next_u64(s):
    result = s[0] + s[3]
    t = s[1] << np.uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@nb.njit(inline="always")
def step(s0, s1, s2, s3):
    """One xoshiro256+ step on a state held in scalars: (draw, s0, s1, s2, s3)."""
    result = s0 + s3
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return result, s0, s1, s2, s3


@nb.njit(inline="always")
def load(s):
    """The state array's four words as scalars, for `step`."""
    return s[0], s[1], s[2], s[3]


@nb.njit(inline="always")
def store(s, s0, s1, s2, s3):
    """Write the scalars that `step` advanced back into the state array."""
    s[0] = s0
    s[1] = s1
    s[2] = s2
    s[3] = s3


@nb.njit(inline="always")
def uniform(s):
    """A double in [0, 1) from the top 53 bits."""
    return np.float64(next_u64(s) >> np.uint64(11)) * _U53


@nb.njit(inline="always")
def u64_to_uniform(u):
    """A double in [0, 1) from the top 53 bits of a draw."""
    return np.float64(u >> np.uint64(11)) * _U53


@nb.njit(inline="always")
def site_of(u, n):
    """A uniform index in [0, n) (a site) from the top 53 bits of a draw (non-uniformity below
    n * 2**-53)."""
    return min(np.int64(u64_to_uniform(u) * n), n - 1)


@nb.njit(inline="always")
def below(s, n):
    """An integer in [0, n) (n small; the bias of the multiply-shift is below 2**-32)."""
    return np.int64(((next_u64(s) >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


@nb.njit(inline="always")
def below32(h, n):
    """An integer in [0, n) from a 32-bit value h (n small; bias below n * 2**-32)."""
    return np.int64((h * np.uint64(n)) >> np.uint64(32))


@nb.njit(inline="always")
def threshold32(p):
    """Threshold t in [0, 2**32] with P(h < t) = p to within 2**-33 for a uniform 32-bit h (a
    half of a draw, as a uint64). p = 0 gives 0 (never) and p = 1 gives 2**32 (always)."""
    if p <= 0.0:
        return np.uint64(0)
    if p >= 1.0:
        return np.uint64(4294967296)
    return np.uint64(p * 4294967296.0 + 0.5)


@nb.njit(inline="always")
def random_bits(bits, s0, s1, s2, s3):
    """Fill the uint64 array `bits` with random bits (one draw per word) from a state held in
    scalars; returns the advanced scalars."""
    for k in range(bits.shape[0]):
        u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
        bits[k] = u
    return s0, s1, s2, s3


@nb.njit(inline="always")
def bit(bits, p):
    """Bit p of the bit array (p >= 0)."""
    p = np.uint64(p)
    return (bits[p >> np.uint64(6)] >> (p & np.uint64(63))) & np.uint64(1)
