"""Swendsen-Wang updates and Fortuin-Kasteleyn graphs on the CPU (numba).

Every kernel works on a batch of replicas stored flat: state (R, N), bonds (R, 2, N) with
bonds[r, 0, i] the bond (i, i + x-hat) and bonds[r, 1, i] the bond (i, i + y-hat), and labels
(R, N) holding for every site the smallest site index of its cluster. With `apply` False the
kernels only draw the graph of the current configuration (used for the graph representations of
runs whose update is not Swendsen-Wang); with `apply` True they also update the spins, and the
graph they return is the one the update used, which is consistent with the new spins.

How a sweep runs (the branches that the random bonds would make unpredictable, and which cost
more than the arithmetic, are replaced by selects):
1. sites are visited in index order; the two bonds of site i, to i + x-hat and i + y-hat, come
   from the two 32-bit halves of one 64-bit draw (resolution 2**-32, see src.sampling.streams), are
   written to the bond array and
2. merged at once in a union-find forest (`labels` is the parent array). Roots are the smallest
   index of their tree, so parent[i] <= i. An absent bond links the site's root with itself; a
   link also points the right neighbour straight at the merged root, so that the next site's
   find is two loads. The row below is untouched until then (except for the last row, whose
   y-bonds wrap to row 0 and are full links), so a y-bond just points the site below at the root,
   and the same store initialises the next row's parents.
3. one pass in index order turns the parents into root labels: parent[i] <= i means that
   parent[parent[i]] is already the final root. With `apply` the roots' random actions are read
   off at the same time (for q = 2 and for reflections from a bit array drawn 64 bits at a time,
   one bit per site of which the roots' are used; for q > 2 a label drawn at each root).
"""

import numba as nb
import numpy as np

from src.sampling.graph.labelling import merge_site, root_label
from src.sampling.streams import (
    LOW32,
    below,
    below32,
    bit,
    load,
    random_bits,
    step,
    store,
    threshold32,
    u64_to_uniform,
)

# How a cluster of a label model changes its members (the `mode` of the kernels)
RECOLOUR = 0  # the cluster takes a new label (Fortuin-Kasteleyn clusters of ising, potts)
REFLECT = 1  # the cluster is reflected about a random allowed axis (embedded clusters of clock)

# Projections (r.s) smaller than this are exactly zero (spins perpendicular to the axis): bonds
# to them have probability 0, and the reflection of a cluster member flips its projection's sign
# strictly, which the Wolff kernels rely on.
ZERO_PROJECTION = 1e-9


@nb.njit(inline="always")
def _sw_row(st, parent, bx, by, row, L, last, potts, t, thr, q, s0, s1, s2, s3):
    """Steps 1 and 2 for one row of a discrete model: bonds between equal labels with the 32-bit
    threshold t (potts), or with the thresholds thr[a * q + b] of the label pair."""
    down_row = 0 if last else row + L
    for x in range(L):
        i = row + x
        right = i + 1 if x + 1 < L else row
        down = down_row + x
        u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
        a = st[i]
        if potts:
            b_x = (st[right] == a) & ((u & LOW32) < t)
            b_y = (st[down] == a) & ((u >> np.uint64(32)) < t)
        else:
            base = np.int64(a) * q
            b_x = (u & LOW32) < thr[base + st[right]]
            b_y = (u >> np.uint64(32)) < thr[base + st[down]]
        bx[i] = b_x
        by[i] = b_y
        merge_site(parent, i, right, down, b_x, b_y, last)
    return s0, s1, s2, s3


def neighbour_table(L: int) -> np.ndarray:
    """(N, 4) int64 flat indices of the right, down, left and up neighbours of every site."""
    idx = np.arange(L * L).reshape(L, L)
    shifted = [np.roll(idx, -1, 1), np.roll(idx, -1, 0), np.roll(idx, 1, 1), np.roll(idx, 1, 0)]
    return np.stack([a.ravel() for a in shifted], axis=1).astype(np.int64)


@nb.njit(cache=True)
def clock_axis_tables32(q, beta, J):
    """For each of the q reflection axes m of the clock model: the axis angle phi_m, the bond
    thresholds (rng.threshold32) of every label pair, p = 1 - exp(min(0, -2 beta J (r.s_a)(r.s_b))),
    flat as thr[m, a * q + b], and the reflections refl[m, k] = (m - k) mod q; phi_m = pi m/q - pi/2
    is the axis that maps the allowed angles onto themselves. Projections below ZERO_PROJECTION count as
    zero, so perpendicular spins never bond (exactly as without round-off)."""
    phis = np.empty(q)
    thr = np.empty((q, q * q), dtype=np.uint64)
    refl = np.empty((q, q), dtype=np.int8)
    proj = np.empty(q)
    for m in range(q):
        phi = np.pi * m / q - 0.5 * np.pi
        phis[m] = phi
        for a in range(q):
            pa = np.cos(2.0 * np.pi * a / q - phi)
            proj[a] = 0.0 if abs(pa) < ZERO_PROJECTION else pa
            refl[m, a] = (m - a) % q
        for a in range(q):
            for b in range(q):
                thr[m, a * q + b] = threshold32(1.0 - np.exp(min(0.0, -2.0 * beta * J * proj[a] * proj[b])))
    return phis, thr, refl


@nb.njit(cache=True)
def _sw_discrete_sweep(st, parent, bx, by, bits, colour, s, q, t, thr, refl, potts, apply):
    """One sweep of one replica: thresholds t (potts) or thr (a flat q x q table); with `apply`,
    clusters take uniform labels (potts) or are reflected by refl with probability 1/2."""
    n = st.shape[0]
    L = int(np.sqrt(n) + 0.5)
    s0, s1, s2, s3 = load(s)
    for x in range(L):
        parent[x] = x
    for y in range(L):
        s0, s1, s2, s3 = _sw_row(st, parent, bx, by, y * L, L, y + 1 == L, potts, t, thr, q, s0, s1, s2, s3)
    if not apply:
        for i in range(n):
            root_label(parent, i)
    elif potts and q > 2:
        # a uniform label per cluster, drawn when its root comes up (before the rest of it)
        for i in range(n):
            p = parent[i]
            if p == i:
                u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                colour[i] = below32(u >> np.uint64(32), q)
            else:
                p = parent[np.uint64(p)]
                parent[i] = p
            st[i] = colour[np.uint64(p)]
    else:
        # one random bit per site, of which the roots' are used
        s0, s1, s2, s3 = random_bits(bits, s0, s1, s2, s3)
        if potts:
            for i in range(n):
                st[i] = bit(bits, root_label(parent, i))
        else:
            for i in range(n):
                a = st[i]
                st[i] = refl[a] if bit(bits, root_label(parent, i)) else a
    store(s, s0, s1, s2, s3)


@nb.njit(cache=True)
def sw_discrete(state, betas, bond_coupling, J, q, mode, rng, bonds, labels, axes, n_sweeps, apply):
    """Swendsen-Wang for ising/potts (mode RECOLOUR: equal labels bond with
    p = 1 - exp(-beta K), clusters take a uniform new label) and the clock model (mode REFLECT:
    embedded clusters about a random allowed axis, flipped with probability 1/2)."""
    n_rep, n = state.shape
    potts = mode == RECOLOUR
    colour = np.empty(n, dtype=np.int8)
    bits = np.empty((n + 63) >> 6, dtype=np.uint64)
    for r in range(n_rep):
        s = rng[r]
        phis, thr_axes, refl = clock_axis_tables32(q, betas[r], J)
        t = threshold32(1.0 - np.exp(-betas[r] * bond_coupling))
        for _ in range(n_sweeps):
            m = 0
            if not potts:
                m = below(s, q)
                axes[r] = phis[m]
            _sw_discrete_sweep(
                state[r],
                labels[r],
                bonds[r, 0],
                bonds[r, 1],
                bits,
                colour,
                s,
                q,
                t,
                thr_axes[m],
                refl[m],
                potts,
                apply,
            )


@nb.njit(inline="always")
def embedded_graph(proj, parent, bx, by, k, L, s0, s1, s2, s3):
    """The embedded-cluster graph of one chain from the projections proj[i] = r.s_i of its spins on
    the axis r: neighbours with (r.s_i)(r.s_j) > 0 bond with p = 1 - exp(-k (r.s_i)(r.s_j)),
    k = 2 beta J, written to bx, by and merged in the union-find forest `parent` as they are drawn
    (steps 1-2 of the module docstring, with a full draw per bond). Returns the advanced stream."""
    for x in range(L):
        parent[x] = x
    for y in range(L):
        row = y * L
        last = y + 1 == L
        down_row = 0 if last else row + L
        for x in range(L):
            i = row + x
            right = i + 1 if x + 1 < L else row
            down = down_row + x
            p_i = proj[i]
            b_x = False
            pp = p_i * proj[right]
            if pp > 0.0:
                u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                b_x = u64_to_uniform(u) < 1.0 - np.exp(-k * pp)
            b_y = False
            pp = p_i * proj[down]
            if pp > 0.0:
                u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                b_y = u64_to_uniform(u) < 1.0 - np.exp(-k * pp)
            bx[i] = b_x
            by[i] = b_y
            merge_site(parent, i, right, down, b_x, b_y, last)
    return s0, s1, s2, s3


@nb.njit(cache=True)
def graphs_of_projections(proj, betas, J, rng, bonds, labels):
    """The embedded-cluster graph of every chain, without moving a spin, from the projections
    proj[r, i] = r.s_i of its spins on a given axis (the improved estimators of several axes,
    src.models): bonds and root labels as the Swendsen-Wang kernels leave them."""
    n_rep, n = proj.shape
    L = int(np.sqrt(n) + 0.5)
    for r in range(n_rep):
        parent = labels[r]
        s0, s1, s2, s3 = load(rng[r])
        s0, s1, s2, s3 = embedded_graph(
            proj[r], parent, bonds[r, 0], bonds[r, 1], 2.0 * betas[r] * J, L, s0, s1, s2, s3
        )
        for i in range(n):
            root_label(parent, i)
        store(rng[r], s0, s1, s2, s3)


@nb.njit(cache=True)
def sw_xy(state, betas, J, rng, bonds, labels, axes, n_sweeps, apply):
    """Swendsen-Wang with embedded clusters for the XY model: a uniform random axis
    r = (cos phi, sin phi); neighbours with (r.s_i)(r.s_j) > 0 bond with
    p = 1 - exp(-2 beta J (r.s_i)(r.s_j)); each cluster is reflected, theta -> pi + 2 phi - theta,
    with probability 1/2."""
    n_rep, n = state.shape
    L = int(np.sqrt(n) + 0.5)
    proj = np.empty(n)
    bits = np.empty((n + 63) >> 6, dtype=np.uint64)
    two_pi = 2.0 * np.pi
    for r in range(n_rep):
        st = state[r]
        parent = labels[r]
        bx = bonds[r, 0]
        by = bonds[r, 1]
        k = 2.0 * betas[r] * J
        s0, s1, s2, s3 = load(rng[r])
        for _ in range(n_sweeps):
            u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
            phi = two_pi * u64_to_uniform(u)
            axes[r] = phi
            for i in range(n):
                proj[i] = np.cos(st[i] - phi)
            s0, s1, s2, s3 = embedded_graph(proj, parent, bx, by, k, L, s0, s1, s2, s3)
            if apply:
                s0, s1, s2, s3 = random_bits(bits, s0, s1, s2, s3)
                for i in range(n):
                    if bit(bits, root_label(parent, i)):
                        st[i] = (np.pi + 2.0 * phi - st[i]) % two_pi
            else:
                for i in range(n):
                    root_label(parent, i)
        store(rng[r], s0, s1, s2, s3)
