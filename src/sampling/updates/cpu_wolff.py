"""Wolff single-cluster updates on the CPU (numba).

The kernels build n_clusters[r] clusters in replica r and return the spins flipped per replica,
the unit in which Wolff's cost is quoted. The number of clusters is fixed in advance (the backend
sets it so that a "sweep" flips about N spins on average): stopping after a fixed number of
flipped spins instead would make the measurement times depend on the cluster sizes, which biases
the measured averages.

A site is flipped when it joins the cluster, and the bond tests never accept a site that has
already joined, so no visited marks are needed: for ising/potts the joined sites carry the new
label, and only the old one bonds; for reflections a joined site's projection on the axis has the
opposite sign to every member's old projection, which makes the bond probability zero (the clock
tables count projections below 1e-9 as exactly zero, so that round-off cannot create a bond to a
spin perpendicular to the axis). The discrete kernel tests the four neighbours of a site without
branches, with the 32-bit halves of two draws (resolution 2**-32, see src.sampling.streams), and keeps
on its stack the site index and its x coordinate, from which the neighbours follow.
"""

import numba as nb
import numpy as np

from src.sampling.streams import LOW32, below32, load, site_of, step, store, threshold32, u64_to_uniform
from src.sampling.updates.cpu_clusters import RECOLOUR, clock_axis_tables32

_SHIFT = np.uint64(32)


@nb.njit(inline="always")
def _neighbour(d, i, x, L, n, u, v):
    """Neighbour d (right, left, down, up) of site i at column x: its index, its column, and the
    32-bit value for its bond test (the halves of the draws u, v)."""
    if d == 0:
        xj = x + 1 if x + 1 < L else 0
        return i - x + xj, xj, u & LOW32
    if d == 1:
        xj = x - 1 if x > 0 else L - 1
        return i - x + xj, xj, u >> _SHIFT
    if d == 2:
        return (i + L if i + L < n else i + L - n), x, v & LOW32
    return (i - L if i >= L else i - L + n), x, v >> _SHIFT


@nb.njit(cache=True)
def _grow_potts(st, stack, seed, old, new, t, L, s0, s1, s2, s3):
    """Grow the cluster of label `old` from `seed` (already relabelled `new`), relabelling its
    sites as they join. Returns its size and the generator state."""
    n = st.shape[0]
    stack[0] = (np.int64(seed) << np.int64(32)) | (seed % L)
    top = 1
    size = 0
    while top > 0:
        top -= 1
        packed = stack[top]
        i = packed >> np.int64(32)
        x = packed & np.int64(0xFFFFFFFF)
        size += 1
        u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
        v, s0, s1, s2, s3 = step(s0, s1, s2, s3)
        for d in range(4):
            j, xj, h = _neighbour(d, i, x, L, n, u, v)
            c = st[j]
            b = (c == old) & (h < t)
            st[j] = new if b else c
            stack[top] = (j << np.int64(32)) | xj
            top += np.int64(b)
    return size, s0, s1, s2, s3


@nb.njit(cache=True)
def _grow_reflect(st, stack, seed, thr, refl, q, L, s0, s1, s2, s3):
    """Grow the embedded cluster from `seed` (already reflected) with the bond thresholds
    thr[a * q + b] of the axis, reflecting its sites (refl) as they join. Returns its size and the
    generator state."""
    n = st.shape[0]
    stack[0] = (np.int64(seed) << np.int64(32)) | (seed % L)
    top = 1
    size = 0
    while top > 0:
        top -= 1
        packed = stack[top]
        i = packed >> np.int64(32)
        x = packed & np.int64(0xFFFFFFFF)
        size += 1
        base = np.int64(refl[st[i]]) * q  # the row of the label i had before it was reflected
        u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
        v, s0, s1, s2, s3 = step(s0, s1, s2, s3)
        for d in range(4):
            j, xj, h = _neighbour(d, i, x, L, n, u, v)
            c = st[j]
            b = h < thr[base + c]
            st[j] = refl[c] if b else c
            stack[top] = (j << np.int64(32)) | xj
            top += np.int64(b)
    return size, s0, s1, s2, s3


@nb.njit(cache=True)
def wolff_discrete(state, betas, bond_coupling, J, q, mode, rng, n_clusters):
    """Wolff for ising/potts (the cluster of equal labels takes one new, different label) and
    for the clock model (embedded cluster reflected about a random allowed axis).
    Neighbours are computed from the coordinates, which is cheaper than reading a table."""
    n_rep, n = state.shape
    L = int(np.sqrt(n) + 0.5)
    potts = mode == RECOLOUR
    # every site is pushed at most once per cluster, and a push may write one slot past the top
    stack = np.empty(n + 1, dtype=np.int64)  # packed (site << 32) | x
    flipped = np.zeros(n_rep, dtype=np.int64)
    for r in range(n_rep):
        st = state[r]
        s0, s1, s2, s3 = load(rng[r])
        t = threshold32(1.0 - np.exp(-betas[r] * bond_coupling))
        phis, thr_axes, refl_axes = clock_axis_tables32(q, betas[r], J)
        total = 0
        for _ in range(n_clusters[r]):
            u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
            seed = site_of(u, n)
            u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
            old = st[seed]
            if potts:
                new = (old + 1 + below32(u & LOW32, q - 1)) % q
                st[seed] = new
                size, s0, s1, s2, s3 = _grow_potts(st, stack, seed, old, new, t, L, s0, s1, s2, s3)
            else:
                m = below32(u & LOW32, q)
                st[seed] = refl_axes[m, old]
                size, s0, s1, s2, s3 = _grow_reflect(
                    st, stack, seed, thr_axes[m], refl_axes[m], q, L, s0, s1, s2, s3
                )
            total += size
        flipped[r] = total
        store(rng[r], s0, s1, s2, s3)
    return flipped


@nb.njit(cache=True)
def wolff_xy(state, nbr, betas, J, rng, n_clusters):
    """Wolff with embedded clusters for the XY model (uniform random axis for each cluster)."""
    n_rep, n = state.shape
    stack = np.empty(n, dtype=np.int32)
    # Visited marks: stamp[j] == cluster_id once j has joined (a round-off in a reflection could
    # otherwise leave a tiny projection of the wrong sign). The counter runs on across replicas,
    # so the marks are cleared once per call.
    stamp = np.zeros(n, dtype=np.int64)
    two_pi = 2.0 * np.pi
    flipped = np.zeros(n_rep, dtype=np.int64)
    cluster_id = 0
    for r in range(n_rep):
        st = state[r]
        k = 2.0 * betas[r] * J
        s0, s1, s2, s3 = load(rng[r])
        size = 0
        for _ in range(n_clusters[r]):
            cluster_id += 1
            u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
            phi = two_pi * u64_to_uniform(u)
            u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
            seed = site_of(u, n)
            st[seed] = (np.pi + 2.0 * phi - st[seed]) % two_pi
            stamp[seed] = cluster_id
            stack[0] = seed
            top = 1
            while top > 0:
                top -= 1
                i = stack[top]
                size += 1
                p_i = -np.cos(st[i] - phi)  # projection before i was reflected
                for d in range(4):
                    j = nbr[i, d]
                    if stamp[j] == cluster_id:
                        continue
                    pp = p_i * np.cos(st[j] - phi)
                    if pp > 0.0:
                        u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                        if u64_to_uniform(u) < 1.0 - np.exp(-k * pp):
                            st[j] = (np.pi + 2.0 * phi - st[j]) % two_pi
                            stamp[j] = cluster_id
                            stack[top] = j
                            top += 1
        flipped[r] = size
        store(rng[r], s0, s1, s2, s3)
    return flipped
