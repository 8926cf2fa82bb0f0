"""Updates of O(3) unit spins (the classical Heisenberg model) on the CPU (numba).

A batch is state (R, N, 3) float64, unit vectors s_i, with E = -J sum_bonds s_i . s_j. The cluster
updates are Wolff's embedded clusters: a uniform random axis r on the sphere, the projections r.s_i,
bonds between neighbours with (r.s_i)(r.s_j) > 0 occupied with p = 1 - exp(-2 beta J (r.s_i)(r.s_j)),
and clusters reflected about the plane normal to r, s -> s - 2 (r.s) r (Wolff 1989). Swendsen-Wang
draws the whole graph (src.sampling.updates.cpu_clusters.embedded_graph) and reflects every cluster
with probability 1/2; Wolff grows one cluster from a random site. Metropolis proposes a uniform new
spin within the angle `window` of the old one (the whole sphere for window >= pi), a symmetric
proposal, on the checkerboard.
"""

import numba as nb
import numpy as np

from src.sampling.graph.labelling import root_label
from src.sampling.streams import bit, load, random_bits, site_of, step, store, u64_to_uniform
from src.sampling.updates.cpu_clusters import embedded_graph
from src.sampling.updates.cpu_local import around


@nb.njit(inline="always")
def _random_axis(s0, s1, s2, s3):
    """A uniform unit vector (z uniform in [-1, 1], azimuth uniform): (x, y, z, stream)."""
    u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
    z = 2.0 * u64_to_uniform(u) - 1.0
    u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
    phi = 2.0 * np.pi * u64_to_uniform(u)
    rho = np.sqrt(max(0.0, 1.0 - z * z))
    return rho * np.cos(phi), rho * np.sin(phi), z, s0, s1, s2, s3


@nb.njit(inline="always")
def _reflect(s, i, p, ax, ay, az):
    """s_i -> s_i - 2 p r, p = r.s_i."""
    s[i, 0] -= 2.0 * p * ax
    s[i, 1] -= 2.0 * p * ay
    s[i, 2] -= 2.0 * p * az


@nb.njit(cache=True)
def sw_heisenberg(state, betas, J, rng, bonds, labels, axes, n_sweeps, apply):
    """Swendsen-Wang with embedded clusters; axes[r] receives the axis r of the last graph."""
    n_rep, n = state.shape[:2]
    L = int(np.sqrt(n) + 0.5)
    proj = np.empty(n)
    bits = np.empty((n + 63) >> 6, dtype=np.uint64)
    for r in range(n_rep):
        st = state[r]
        parent = labels[r]
        k = 2.0 * betas[r] * J
        s0, s1, s2, s3 = load(rng[r])
        for _ in range(n_sweeps):
            ax, ay, az, s0, s1, s2, s3 = _random_axis(s0, s1, s2, s3)
            axes[r, 0], axes[r, 1], axes[r, 2] = ax, ay, az
            for i in range(n):
                proj[i] = ax * st[i, 0] + ay * st[i, 1] + az * st[i, 2]
            s0, s1, s2, s3 = embedded_graph(proj, parent, bonds[r, 0], bonds[r, 1], k, L, s0, s1, s2, s3)
            if apply:
                s0, s1, s2, s3 = random_bits(bits, s0, s1, s2, s3)
                for i in range(n):
                    if bit(bits, root_label(parent, i)):
                        _reflect(st, i, proj[i], ax, ay, az)
            else:
                for i in range(n):
                    root_label(parent, i)
        store(rng[r], s0, s1, s2, s3)


@nb.njit(cache=True)
def wolff_heisenberg(state, nbr, betas, J, rng, n_clusters):
    """n_clusters[r] Wolff clusters in chain r, each about a new uniform axis; returns the spins
    flipped per chain. Visited marks (stamp[j] == the cluster's id) keep a reflected spin out of its
    own cluster whatever the round-off."""
    n_rep, n = state.shape[:2]
    stack = np.empty(n, dtype=np.int64)
    stamp = np.zeros(n, dtype=np.int64)
    flipped = np.zeros(n_rep, dtype=np.int64)
    cluster_id = 0
    for r in range(n_rep):
        st = state[r]
        k = 2.0 * betas[r] * J
        s0, s1, s2, s3 = load(rng[r])
        size = 0
        for _ in range(n_clusters[r]):
            cluster_id += 1
            ax, ay, az, s0, s1, s2, s3 = _random_axis(s0, s1, s2, s3)
            u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
            seed = site_of(u, n)
            _reflect(st, seed, ax * st[seed, 0] + ay * st[seed, 1] + az * st[seed, 2], ax, ay, az)
            stamp[seed] = cluster_id
            stack[0] = seed
            top = 1
            while top > 0:
                top -= 1
                i = stack[top]
                size += 1
                p_i = -(ax * st[i, 0] + ay * st[i, 1] + az * st[i, 2])  # before i was reflected
                for d in range(4):
                    j = nbr[i, d]
                    if stamp[j] == cluster_id:
                        continue
                    p_j = ax * st[j, 0] + ay * st[j, 1] + az * st[j, 2]
                    pp = p_i * p_j
                    if pp > 0.0:
                        u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                        if u64_to_uniform(u) < 1.0 - np.exp(-k * pp):
                            _reflect(st, j, p_j, ax, ay, az)
                            stamp[j] = cluster_id
                            stack[top] = j
                            top += 1
        flipped[r] = size
        store(rng[r], s0, s1, s2, s3)
    return flipped


@nb.njit(cache=True)
def metropolis_heisenberg(state, betas, J, window, rng, n_sweeps):
    """Checkerboard Metropolis: s' uniform in the cap of angular radius `window` about s (cos of the
    angle uniform in [cos window, 1], azimuth uniform), accepted with min(1, exp(-beta dE)),
    dE = -J (s' - s) . h with h the sum of the four neighbours. Returns the accepted proposals."""
    n_rep, n = state.shape[:2]
    L = int(np.sqrt(n) + 0.5)
    cos_w = np.cos(min(window, np.pi))
    accepted = 0
    for r in range(n_rep):
        st = state[r]
        beta = betas[r]
        s0, s1, s2, s3 = load(rng[r])
        for _ in range(n_sweeps):
            for parity in range(2):
                for y in range(L):
                    for x in range((y + parity) & 1, L, 2):
                        i, right, down, left, up = around(y, x, L)
                        hx = st[right, 0] + st[down, 0] + st[left, 0] + st[up, 0]
                        hy = st[right, 1] + st[down, 1] + st[left, 1] + st[up, 1]
                        hz = st[right, 2] + st[down, 2] + st[left, 2] + st[up, 2]
                        sx, sy, sz = st[i, 0], st[i, 1], st[i, 2]
                        u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                        c = 1.0 - u64_to_uniform(u) * (1.0 - cos_w)
                        u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                        phi = 2.0 * np.pi * u64_to_uniform(u)
                        # an orthonormal pair (e1, e2) normal to s
                        if abs(sx) < 0.9:
                            e1x, e1y, e1z = 1.0 - sx * sx, -sx * sy, -sx * sz
                        else:
                            e1x, e1y, e1z = -sy * sx, 1.0 - sy * sy, -sy * sz
                        norm = np.sqrt(e1x * e1x + e1y * e1y + e1z * e1z)
                        e1x, e1y, e1z = e1x / norm, e1y / norm, e1z / norm
                        e2x, e2y, e2z = sy * e1z - sz * e1y, sz * e1x - sx * e1z, sx * e1y - sy * e1x
                        t = np.sqrt(max(0.0, 1.0 - c * c))
                        a, b = t * np.cos(phi), t * np.sin(phi)
                        nx = c * sx + a * e1x + b * e2x
                        ny = c * sy + a * e1y + b * e2y
                        nz = c * sz + a * e1z + b * e2z
                        de = -J * ((nx - sx) * hx + (ny - sy) * hy + (nz - sz) * hz)
                        ok = de <= 0.0
                        if not ok:
                            u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                            ok = u64_to_uniform(u) < np.exp(-beta * de)
                        if ok:
                            norm = np.sqrt(nx * nx + ny * ny + nz * nz)  # no drift off the sphere
                            st[i, 0], st[i, 1], st[i, 2] = nx / norm, ny / norm, nz / norm
                            accepted += 1
        store(rng[r], s0, s1, s2, s3)
    return accepted


@nb.njit(cache=True)
def total_energies_heisenberg(state, J):
    """E = -J sum_bonds s_i . s_j of every chain."""
    n_rep, n = state.shape[:2]
    L = int(np.sqrt(n) + 0.5)
    out = np.zeros(n_rep)
    for r in range(n_rep):
        st = state[r]
        g = 0.0
        for y in range(L):
            for x in range(L):
                i, right, down, _, _ = around(y, x, L)
                for c in range(3):
                    g += st[i, c] * (st[right, c] + st[down, c])
        out[r] = -J * g
    return out
