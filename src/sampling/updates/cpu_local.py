"""Checkerboard Metropolis and XY over-relaxation on the CPU (numba).

A sweep visits the sublattice (x + y) even, then odd; L must be even so that the two
sublattices do not touch across the periodic boundary. The Metropolis kernels return the number
of accepted proposals.
"""

import numba as nb
import numpy as np

from src.sampling.streams import LOW32, below32, load, step, store, threshold32, u64_to_uniform


@nb.njit(inline="always")
def around(y, x, L):
    """Flat indices of (y, x) and of its right, down, left and up neighbours."""
    row = y * L
    i = row + x
    right = i + 1 if x + 1 < L else row
    left = i - 1 if x > 0 else row + L - 1
    down = i + L if y + 1 < L else x
    up = i - L if y > 0 else i + L * (L - 1)
    return i, right, down, left, up


@nb.njit(cache=True)
def _two_state_sweep(st, thr2, L, s0, s1, s2, s3):
    """One q = 2 checkerboard sweep. thr2[5 * label + (neighbours with label 1)] is the 32-bit
    acceptance threshold of flipping the label. One draw serves two sites, and nothing branches on
    a random outcome: the label is xor-ed with the acceptance bit. Returns the number of flips and
    the generator state."""
    n = L * L
    acc = 0
    for parity in range(2):
        for y in range(L):
            row = y * L
            up_row = row - L if y > 0 else n - L
            down_row = row + L if y + 1 < L else 0
            x = (y + parity) & 1
            half = 0
            u = np.uint64(0)
            while x < L:
                if half == 0:
                    u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                    h = u & LOW32
                else:
                    h = u >> np.uint64(32)
                half ^= 1
                i = row + x
                left = i - 1 if x > 0 else row + L - 1
                right = i + 1 if x + 1 < L else row
                old = st[i]
                k = np.int64(old) * 5 + st[left] + st[right] + st[up_row + x] + st[down_row + x]
                flip = h < thr2[k]
                st[i] = old ^ np.int8(flip)
                acc += np.int64(flip)
                x += 2
    return acc, s0, s1, s2, s3


@nb.njit(cache=True)
def metropolis_discrete(state, betas, J, q, pair, integer_levels, rng, n_sweeps):
    """Metropolis for ising/potts/clock: propose a uniform label different from the current one;
    accept with min(1, exp(-beta dE)), dE = -J sum_nb [pair(new, nb) - pair(old, nb)].
    `integer_levels` marks pair tables with integer entries (ising, potts): their acceptance
    thresholds are tabulated instead of computing an exponential per proposal. For q = 2 the
    change depends only on the label and on how many neighbours carry label 1, so one lookup in a
    table of 32-bit thresholds (resolution 2**-32, see src.sampling.streams) decides."""
    n_rep, n = state.shape
    L = int(np.sqrt(n) + 0.5)
    acc_thr = np.empty(17, dtype=np.uint64)
    thr2 = np.empty(10, dtype=np.uint64)
    flat_pair = pair.ravel()
    accepted = 0
    for r in range(n_rep):
        st = state[r]
        beta = betas[r]
        s0, s1, s2, s3 = load(rng[r])
        for k in range(17):
            acc_thr[k] = threshold32(np.exp(-beta * J * k))
        for old in range(q if q == 2 else 0):
            for ones in range(5):
                # flipping label `old` to `new` with `ones` neighbours of label 1 changes sum g by
                # sum over the neighbours b of g[new, b] - g[old, b]
                new = 1 - old
                dg = ones * (pair[new, 1] - pair[old, 1]) + (4 - ones) * (pair[new, 0] - pair[old, 0])
                thr2[old * 5 + ones] = threshold32(np.exp(min(0.0, beta * J * dg)))
        for _ in range(n_sweeps):
            if q == 2:
                acc, s0, s1, s2, s3 = _two_state_sweep(st, thr2, L, s0, s1, s2, s3)
                accepted += acc
                continue
            for parity in range(2):
                for y in range(L):
                    row = y * L
                    up_row = row - L if y > 0 else n - L
                    down_row = row + L if y + 1 < L else 0
                    for x in range((y + parity) & 1, L, 2):
                        i = row + x
                        right = i + 1 if x + 1 < L else row
                        left = i - 1 if x > 0 else row + L - 1
                        up = up_row + x
                        down = down_row + x
                        old = st[i]
                        u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                        new = (old + 1 + below32(u >> np.uint64(32), q - 1)) % q
                        a = np.int64(old) * q
                        b = np.int64(new) * q
                        dg = (
                            flat_pair[b + st[right]]
                            + flat_pair[b + st[down]]
                            + flat_pair[b + st[left]]
                            + flat_pair[b + st[up]]
                            - flat_pair[a + st[right]]
                            - flat_pair[a + st[down]]
                            - flat_pair[a + st[left]]
                            - flat_pair[a + st[up]]
                        )
                        if dg >= 0.0:
                            ok = True
                        elif integer_levels:
                            ok = (u & LOW32) < acc_thr[int(-dg + 0.5)]
                        else:
                            u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                            ok = u64_to_uniform(u) < np.exp(beta * J * dg)
                        if ok:
                            st[i] = new
                            accepted += 1
        store(rng[r], s0, s1, s2, s3)
    return accepted


@nb.njit(inline="always")
def _local_field(st, y, x, L):
    i, right, down, left, up = around(y, x, L)
    hx = np.cos(st[right]) + np.cos(st[down]) + np.cos(st[left]) + np.cos(st[up])
    hy = np.sin(st[right]) + np.sin(st[down]) + np.sin(st[left]) + np.sin(st[up])
    return i, hx, hy


@nb.njit(cache=True)
def metropolis_xy(state, betas, J, window, rng, n_sweeps):
    """Metropolis for the XY model: theta' = theta + window * (2u - 1)."""
    n_rep, n = state.shape
    L = int(np.sqrt(n) + 0.5)
    two_pi = 2.0 * np.pi
    accepted = 0
    for r in range(n_rep):
        st = state[r]
        beta = betas[r]
        s0, s1, s2, s3 = load(rng[r])
        for _ in range(n_sweeps):
            for parity in range(2):
                for y in range(L):
                    for x in range((y + parity) & 1, L, 2):
                        i, hx, hy = _local_field(st, y, x, L)
                        old = st[i]
                        u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                        new = (old + window * (2.0 * u64_to_uniform(u) - 1.0)) % two_pi
                        # E_i = -J (hx cos theta + hy sin theta)
                        de = -J * (hx * (np.cos(new) - np.cos(old)) + hy * (np.sin(new) - np.sin(old)))
                        ok = de <= 0.0
                        if not ok:
                            u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                            ok = u64_to_uniform(u) < np.exp(-beta * de)
                        if ok:
                            st[i] = new
                            accepted += 1
        store(rng[r], s0, s1, s2, s3)
    return accepted


@nb.njit(cache=True)
def overrelax_xy(state, n_sweeps):
    """Energy-conserving over-relaxation: reflect each spin about its local field,
    theta -> 2 arg(h) - theta (microcanonical; it needs a Metropolis or cluster update beside it)."""
    n_rep, n = state.shape
    L = int(np.sqrt(n) + 0.5)
    two_pi = 2.0 * np.pi
    for r in range(n_rep):
        st = state[r]
        for _ in range(n_sweeps):
            for parity in range(2):
                for y in range(L):
                    for x in range((y + parity) & 1, L, 2):
                        i, hx, hy = _local_field(st, y, x, L)
                        if hx != 0.0 or hy != 0.0:
                            st[i] = (2.0 * np.arctan2(hy, hx) - st[i]) % two_pi


@nb.njit(cache=True)
def total_energies(state, J, pair):
    """E = -J sum_bonds pair[a_i, a_j] of every replica of a discrete model (labels)."""
    n_rep, n = state.shape
    L = int(np.sqrt(n) + 0.5)
    q = pair.shape[0]
    flat = pair.ravel()
    out = np.zeros(n_rep)
    for r in range(n_rep):
        st = state[r]
        g = 0.0
        for y in range(L):
            for x in range(L):
                i, right, down, _, _ = around(y, x, L)
                a = np.int64(st[i]) * q
                g += flat[a + st[right]] + flat[a + st[down]]
        out[r] = -J * g
    return out


@nb.njit(cache=True)
def total_energies_xy(state, J):
    """E = -J sum_bonds cos(theta_i - theta_j) of every replica of the XY model."""
    n_rep, n = state.shape
    L = int(np.sqrt(n) + 0.5)
    out = np.zeros(n_rep)
    for r in range(n_rep):
        st = state[r]
        g = 0.0
        for y in range(L):
            for x in range(L):
                i, right, down, _, _ = around(y, x, L)
                g += np.cos(st[i] - st[right]) + np.cos(st[i] - st[down])
        out[r] = -J * g
    return out
