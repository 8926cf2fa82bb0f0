"""Array kernels for the GPU backend, written once against an array module `xp` (numpy or cupy).

Every function works on a whole batch of replicas at once: state (R, N) with N = L * L, site
n = y * L + x, bonds (R, 2, L, L) with bonds[r, 0, y, x] the bond (i, i + x-hat) and
bonds[r, 1, y, x] the bond (i, i + y-hat), as in src.sampling.updates.cpu_clusters. Nothing loops over
sites or replicas in Python; the only Python loops are over the few iterations of the cluster
labelling and over the two sublattices of the checkerboard.

Only operations that NumPy and CuPy share are used on xp arrays (indexing, elementwise math,
reductions, roll, flatnonzero, boolean masks). The one scatter, the minimum-hooking of the
labelling, goes through `scatter_min`, which picks numpy.minimum.at or cupyx.scatter_min.
"""

from __future__ import annotations

import numpy as np

TWO_PI = 2.0 * np.pi

# Number of cuRAND generator states (threads) of the device generator. CuPy's default depends
# on the number of multiprocessors, which would make the random stream depend on the GPU model.
CURAND_THREADS = 1 << 16


def is_numpy(xp) -> bool:
    return xp.__name__ == "numpy"


def make_generator(xp, seed_sequence: np.random.SeedSequence):
    """One random generator for the whole batch, seeded deterministically from `seed_sequence`:
    PCG64 on NumPy, cuRAND Philox4x32-10 with a fixed number of states on CuPy."""
    if is_numpy(xp):
        return np.random.Generator(np.random.PCG64(seed_sequence))
    bit_generator = xp.random.Philox4x3210(seed_sequence, size=CURAND_THREADS)
    return xp.random.Generator(bit_generator)


def to_host(a) -> np.ndarray:
    return a.get() if hasattr(a, "get") else np.asarray(a)


def scatter_min(xp, a, index, values):
    """a[index] = min(a[index], values) in place, correct for repeated indices."""
    if is_numpy(xp):
        np.minimum.at(a, index, values)
    else:
        import cupyx

        cupyx.scatter_min(a, index, values)


def wrap_angle(xp, theta):
    """theta mod 2 pi in [0, 2 pi) (the float modulo of a tiny negative number rounds to 2 pi)."""
    t = theta % TWO_PI
    return xp.where(t >= TWO_PI, 0.0, t)


def index_dtype(xp, n_items: int):
    return xp.int32 if n_items < 2**31 - 1 else xp.int64


# --------------------------------------------------------------------------------------------
# Fortuin-Kasteleyn bonds


def _forward_pairs(xp, a):
    """(R, 2, L, L): a_i next to a at i + x-hat (channel 0) and at i + y-hat (channel 1)."""
    return xp.roll(a, -1, axis=2), xp.roll(a, -1, axis=1)


def potts_bonds(xp, rng, lattice, p_bond):
    """Equal labels bond with probability p_bond[r]: lattice (R, L, L), p_bond (R,)."""
    right, down = _forward_pairs(xp, lattice)
    equal = xp.stack((lattice == right, lattice == down), axis=1)
    u = rng.random(equal.shape)
    return equal & (u < p_bond[:, None, None, None])


def embedded_bonds(xp, rng, projection, coupling):
    """Embedded-cluster bonds: projection (R, L, L) of every spin on the replica's axis r,
    coupling (R,) = 2 beta J; p = 1 - exp(min(0, -2 beta J (r.s_i)(r.s_j)))."""
    right, down = _forward_pairs(xp, projection)
    pp = xp.stack((projection * right, projection * down), axis=1)
    p = -xp.expm1(xp.minimum(0.0, -coupling[:, None, None, None] * pp))
    u = rng.random(pp.shape)
    return u < p


def clock_axis_table(q: int):
    """For the clock model: phi_m = pi m / q - pi / 2 (the axes that map the allowed angles onto
    themselves, k -> (m - k) mod q) and the projections cos(2 pi k / q - phi_m), shape (q, q)
    indexed [m, k]."""
    m = np.arange(q)
    phis = np.pi * m / q - 0.5 * np.pi
    proj = np.cos(TWO_PI * m[None, :] / q - phis[:, None])
    return phis, proj


# --------------------------------------------------------------------------------------------
# Checkerboard Metropolis and over-relaxation


def checkerboard(xp, L: int):
    """For the two sublattices (x + y even, odd): their flat sites (N/2,) and the flat indices
    of the right, down, left and up neighbours of each (N/2, 4). L must be even."""
    idx = np.arange(L * L)
    y, x = idx // L, idx % L
    nbr = np.stack(
        [y * L + (x + 1) % L, ((y + 1) % L) * L + x, y * L + (x - 1) % L, ((y - 1) % L) * L + x], axis=1
    )
    boards = []
    for parity in (0, 1):
        sites = idx[(x + y) % 2 == parity]
        boards.append((xp.asarray(sites), xp.asarray(nbr[sites])))
    return boards


def metropolis_discrete(xp, rng, state, betas, J: float, q: int, pair, boards):
    """One checkerboard sweep of ising/potts/clock: propose a uniform label different from the
    current one, accept with min(1, exp(beta J dg)), dg = sum_nb [pair(new, nb) - pair(old, nb)].
    Updates state (R, N) in place; returns the number of accepted proposals (a device scalar)."""
    accepted = 0
    for sites, nbrs in boards:
        old = state[:, sites].astype(xp.intp)
        nb = state[:, nbrs].astype(xp.intp)
        if q == 2:
            new = 1 - old
        else:
            new = (old + 1 + rng.integers(0, q - 1, size=old.shape)) % q
        dg = (pair[new[..., None], nb] - pair[old[..., None], nb]).sum(axis=-1)
        u = rng.random(old.shape)
        ok = u < xp.exp(xp.minimum(0.0, (betas * J)[:, None] * dg))
        state[:, sites] = xp.where(ok, new, old).astype(state.dtype)
        accepted = accepted + ok.sum()
    return accepted


def _field(xp, state, nbrs):
    nb = state[:, nbrs]
    return xp.cos(nb).sum(axis=-1), xp.sin(nb).sum(axis=-1)


def metropolis_xy(xp, rng, state, betas, J: float, window: float, boards):
    """One checkerboard sweep of the XY model: theta' = theta + window (2u - 1), accepted with
    min(1, exp(-beta dE)), dE = -J [hx (cos theta' - cos theta) + hy (sin theta' - sin theta)]."""
    accepted = 0
    for sites, nbrs in boards:
        hx, hy = _field(xp, state, nbrs)
        old = state[:, sites]
        new = wrap_angle(xp, old + window * (2.0 * rng.random(old.shape) - 1.0))
        de = -J * (hx * (xp.cos(new) - xp.cos(old)) + hy * (xp.sin(new) - xp.sin(old)))
        u = rng.random(old.shape)
        ok = u < xp.exp(xp.minimum(0.0, -betas[:, None] * de))
        state[:, sites] = xp.where(ok, new, old)
        accepted = accepted + ok.sum()
    return accepted


def overrelax_xy(xp, state, boards, n_sweeps: int):
    """Energy-conserving over-relaxation of the XY model, theta -> 2 arg(h) - theta, on the
    checkerboard (spins with a zero local field stay)."""
    for _ in range(n_sweeps):
        for sites, nbrs in boards:
            hx, hy = _field(xp, state, nbrs)
            old = state[:, sites]
            new = wrap_angle(xp, 2.0 * xp.arctan2(hy, hx) - old)
            state[:, sites] = xp.where((hx != 0.0) | (hy != 0.0), new, old)
