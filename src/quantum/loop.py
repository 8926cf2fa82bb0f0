"""Continuous-imaginary-time loop algorithm for the spin-1/2 XXZ model (Beard & Wiese 1996; Evertz 2003).

    H = sum_b H_b,  H_b = Jz S^z_i S^z_j - Jxy (S^x_i S^x_j + S^y_i S^y_j),  |Jz| <= Jxy,

with the sign conventions of src.exact.quantum (Jxy > 0 ferromagnetic XY; Jz = +Jxy is the Heisenberg
antiferromagnet after the sublattice rotation).

Decomposition. With the two graph operators of a bond
    cross      A = P_ij = 1/2 + 2 S_i.S_j                       (legs i-below = j-above, j-below = i-above)
    horizontal B = 1/2 - 2 S^z_i S^z_j + 2 (S^x S^x + S^y S^y)  (legs i-below = j-below, i-above = j-above)
one has, with a = (Jxy - Jz)/4, b = (Jxy + Jz)/4 and the constant shift C = Jxy/4 per bond,
    -H_b + C = a A + b B.
A has matrix element 1 on parallel diagonal states and on the exchange (kink), B on antiparallel diagonal
states and on the kink; the weights are C - Jz/4 = a (parallel), C + Jz/4 = b (antiparallel),
a + b = Jxy/2 (kink): the S^z world-line weights exactly. At J_z = 0 both densities are Jxy/4.

Update, in one pass through imaginary time: the kinks (kept sorted by time) and the candidates of a
Poisson process of density c = max(a, b) on every bond are merged in time order while the current spins
are tracked. A candidate on parallel spins becomes a cross graph with probability a / c, on antiparallel
spins a horizontal graph with probability b / c (the thinning leaves Poisson processes of densities a
and b on the compatible segments); each kink gets a cross graph with probability a / (a + b), else a
horizontal one. Every vertex's lower legs join the open world-line ends of its two sites and its upper
legs become the new open ends; at beta the open ends join the sites' first legs (periodic time). Loops
are the classes of a union-find over the legs; each is flipped with probability 1/2, and the new kinks
are the vertices whose spin changes across them, produced in time order. Nothing is sorted.

Configurations: the spin s_i(0) per site (S^z = s - 1/2, s in {0, 1}) and the kinks as flat arrays
(bond, time in [0, beta)) sorted by time. The update also returns the graph it built, as the world-line
segments of every site (start time, loop label, spin after the flips) in per-site rows, from which
src.quantum.estimators computes the loop estimators. Random numbers come from the project's
xoshiro256+ streams (src.updates.rng).
"""

import numpy as np
from numba import njit

from src.quantum.estimators import measurements
from src.updates.rng import below32, load, step, store, u64_to_uniform, uniform


@njit(cache=True)
def _grown(a, size):
    out = np.empty((size,) + a.shape[1:], a.dtype)
    out[: len(a)] = a
    return out


@njit(cache=True)
def _find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]  # path halving keeps the trees flat
        x = parent[x]
    return x


@njit(cache=True)
def _union(parent, x, y):
    parent[_find(parent, x)] = _find(parent, y)


@njit(cache=True)
def _join_leg(parent, first_leg, open_leg, site, below, above):
    """Attach a vertex's legs on a site: the lower one to the site's open end, the upper one open."""
    if open_leg[site] < 0:
        first_leg[site] = below
    else:
        _union(parent, below, open_leg[site])  # the fresh leg under the old root keeps trees flat
    open_leg[site] = above


@njit(cache=True)
def loop_update(rng, spin0, kbond, ktime, bonds, beta, a, b, axis, nearest, Jz, flip, measure):
    """One loop update (flip=False: build the graph only, as for measuring after a change of beta).

    Returns the new (spin0, kbond, ktime), the winding counts per axis (kinks hopping an up spin
    along +e minus along -e) and the graph as world-line segments: offsets (N + 1) into the per-site
    rows, per segment its start time, loop label (0 .. n_loops - 1) and spin, and n_loops. A site
    without vertices is one segment over [0, beta), a loop of its own labelled n_loops + site. With
    measure, also the OBSERVABLES of the result (src.quantum.estimators; nearest[d] are the
    neighbours along axis d), else an empty array.
    """
    n_sites, n_bonds, n_kinks = len(spin0), len(bonds), len(kbond)
    c = max(a, b)
    rate = c * n_bonds
    mean = rate * beta
    cap = n_kinks + int(mean + 6.0 * np.sqrt(mean)) + 16
    vbond = np.empty(cap, np.int64)
    vtime = np.empty(cap)
    vlegs = np.empty((cap, 2), np.int64)  # spins of i and j below the vertex
    vkink = np.empty(cap, np.bool_)
    parent = np.empty(4 * cap, np.int64)
    spin = spin0.copy()
    first_leg = np.full(n_sites, -1, np.int64)
    open_leg = np.full(n_sites, -1, np.int64)
    p_cross = a / (a + b)
    n, k = 0, 0
    s0, s1, s2, s3 = load(rng)  # the stream in registers for the hot loop (src.updates.rng)
    u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
    t_candidate = -np.log(1.0 - u64_to_uniform(u)) / rate if rate > 0 else beta
    while True:
        t_kink = ktime[k] if k < n_kinks else beta
        if t_kink >= beta and t_candidate >= beta:
            break
        u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
        if t_kink < t_candidate:
            bond, t, kink = kbond[k], t_kink, True
            k += 1
            cross = u64_to_uniform(u) < p_cross
        else:
            bond, t, kink = below32(u >> np.uint64(32), n_bonds), t_candidate, False
            u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
            t_candidate += -np.log(1.0 - u64_to_uniform(u)) / rate
            cross = spin[bonds[bond, 0]] == spin[bonds[bond, 1]]
            density = a if cross else b
            if density < c:
                u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                if u64_to_uniform(u) * c >= density:
                    continue
        if n == cap:
            cap *= 2
            vbond, vtime, vlegs, vkink = (
                _grown(vbond, cap),
                _grown(vtime, cap),
                _grown(vlegs, cap),
                _grown(vkink, cap),
            )
            parent = _grown(parent, 4 * cap)
        i, j = bonds[bond, 0], bonds[bond, 1]
        vbond[n], vtime[n], vkink[n] = bond, t, kink
        vlegs[n, 0], vlegs[n, 1] = spin[i], spin[j]
        legs = 4 * n  # + 0 i below, 1 i above, 2 j below, 3 j above
        # the graph joins the fresh legs in two pairs, each rooted at one of them
        if cross:  # i below with j above, j below with i above
            parent[legs], parent[legs + 3], parent[legs + 2], parent[legs + 1] = (
                legs,
                legs,
                legs + 2,
                legs + 2,
            )
        else:  # the two lower legs, the two upper legs
            parent[legs], parent[legs + 2], parent[legs + 1], parent[legs + 3] = (
                legs,
                legs,
                legs + 1,
                legs + 1,
            )
        _join_leg(parent, first_leg, open_leg, i, legs, legs + 1)
        _join_leg(parent, first_leg, open_leg, j, legs + 2, legs + 3)
        if kink:
            spin[i] ^= 1
            spin[j] ^= 1
        n += 1
    store(rng, s0, s1, s2, s3)
    for site in range(n_sites):  # close the world lines around the imaginary-time circle
        if open_leg[site] >= 0:
            _union(parent, open_leg[site], first_leg[site])
    n_legs = 4 * n
    loop_of = np.empty(n_legs, np.int64)  # loops numbered 0, 1, ... in the order of their first leg
    number = np.full(n_legs, -1, np.int64)  # per root
    n_loops = 0
    for leg in range(n_legs):
        root = _find(parent, leg)
        if number[root] < 0:
            number[root] = n_loops
            n_loops += 1
        loop_of[leg] = number[root]
    flipped = np.zeros(n_loops, np.int64)  # whether each loop flips
    if flip:
        for loop in range(n_loops):
            flipped[loop] = uniform(rng) < 0.5
    new_spin0 = spin0.copy()
    for site in range(n_sites):
        if first_leg[site] >= 0:  # the segment across tau = 0 ends at the site's first lower leg
            new_spin0[site] ^= flipped[loop_of[first_leg[site]]]
        elif flip:  # a free world line is a loop of its own
            new_spin0[site] ^= np.int64(uniform(rng) < 0.5)
    # the graph as per-site rows of segments (counting sort by site keeps the time order)
    offsets = np.zeros(n_sites + 1, np.int64)
    for v in range(n):
        offsets[bonds[vbond[v], 0] + 1] += 1
        offsets[bonds[vbond[v], 1] + 1] += 1
    offsets = np.cumsum(offsets)
    fill = offsets[:-1].copy()
    seg_time = np.empty(2 * n)
    seg_label = np.empty(2 * n, np.int64)
    seg_spin = np.empty(2 * n, np.int64)
    new_kink = np.zeros(n, np.bool_)
    winding = np.zeros(nearest.shape[0])
    for v in range(n):
        legs = 4 * v
        below_i = vlegs[v, 0] ^ flipped[loop_of[legs]]
        above_i = vlegs[v, 0] ^ vkink[v] ^ flipped[loop_of[legs + 1]]
        above_j = vlegs[v, 1] ^ vkink[v] ^ flipped[loop_of[legs + 3]]
        if below_i != above_i:
            new_kink[v] = True
            winding[axis[vbond[v]]] += 1.0 if below_i == 1 else -1.0  # up spin hops i -> i + e
        for end in range(2):
            site = bonds[vbond[v], end]
            row = fill[site]
            fill[site] += 1
            seg_time[row] = vtime[v]
            seg_label[row] = loop_of[legs + 2 * end + 1]
            seg_spin[row] = above_i if end == 0 else above_j
    kbond_new, ktime_new = vbond[:n][new_kink[:n]], vtime[:n][new_kink[:n]]
    values = np.empty(0)
    if measure:
        values = measurements(
            beta,
            offsets,
            seg_time,
            seg_label,
            seg_spin,
            n_loops,
            new_spin0,
            kbond_new,
            ktime_new,
            bonds,
            nearest,
            winding,
            Jz,
        )
    return new_spin0, kbond_new, ktime_new, winding, offsets, seg_time, seg_label, seg_spin, n_loops, values
