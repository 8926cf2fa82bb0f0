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
horizontal one. A vertex joins its four legs in two pairs, its two *nodes*: node 2v holds the lower leg
of i (and the upper leg of j for a cross, the lower leg of j for a horizontal graph), node 2v + 1 the
upper leg of i and the remaining leg of j. A union-find over the nodes joins every lower leg to the open
world-line end of its site; at beta the open ends join the sites' first legs (periodic time). Loops are
the classes, named by their root node; each is flipped with probability 1/2, and the new kinks are the
vertices whose spin changes across them, produced in time order. Nothing is sorted.

Measuring costs one more pass over the vertices, folded into the one that finds the new kinks: a
segment of world line runs from an upper leg at time t to the next lower leg at t', so summing +t at
every lower leg and -t at every upper leg of a loop (plus beta for the segment across tau = 0) gives
its length in imaginary time, and the same weighted by the spin gives its magnetisation.

Storage. A chain owns a `Workspace`: its kinks (bond, time in [0, beta), sorted by time), rewritten in
place by every update, and the vertex arrays of its last graph, from which `graph_segments` makes the
per-site world-line segments of src.sampling.quantum.estimators when a snapshot needs them. Arrays are not
reallocated per update: an update that would overflow them returns -1 before it has changed anything
(the random stream included), and the caller grows them and repeats it. Random numbers come from the
project's xoshiro256+ streams (src.sampling.streams).
"""

import numpy as np
from numba import njit

from src.sampling.quantum.estimators import bond_spin_products, observable_values
from src.sampling.streams import below32, load, step, store, u64_to_uniform

# bits of a vertex's state
_SPIN_I, _SPIN_J, _KINK, _CROSS = 1, 2, 4, 8


class Workspace:
    """The arrays of one chain's updates, for up to `capacity` vertices (kinks included)."""

    def __init__(self, n_sites: int, capacity: int):
        self.n_sites = n_sites
        self.kbond, self.ktime = np.empty(0, np.int64), np.empty(0)
        self._allocate(capacity, 0)

    def _allocate(self, capacity: int, keep: int) -> None:
        kbond, ktime = self.kbond[:keep], self.ktime[:keep]
        self.capacity = capacity
        self.kbond, self.ktime = np.empty(capacity, np.int64), np.empty(capacity)
        self.kbond[:keep], self.ktime[:keep] = kbond, ktime
        self.vbond, self.vtime = np.empty(capacity, np.int64), np.empty(capacity)
        self.vstate = np.empty(capacity, np.uint8)
        self.node = np.empty(2 * capacity, np.int64)  # union-find parents, then each node's root
        self.flipped = np.empty(2 * capacity, np.uint8)  # per root
        self.loop_sums = np.empty((2, 2 * capacity))  # per root: magnetisation, length
        self.sites = np.empty((3, self.n_sites), np.int64)  # current spin, first node, open node

    def reserve(self, capacity: int, keep: int) -> None:
        """Room for `capacity` vertices, keeping the first `keep` kinks."""
        if capacity > self.capacity:
            self._allocate(max(capacity, 2 * self.capacity), keep)


def expected_capacity(n_kinks: int, n_bonds: int, beta: float, a: float, b: float) -> int:
    """Vertices an update needs at most but for a 6-sigma fluctuation of the candidates."""
    mean = max(a, b) * n_bonds * beta
    return n_kinks + int(mean + 6.0 * np.sqrt(mean)) + 16


@njit(cache=True)
def _find(node, x):
    while node[x] != x:
        node[x] = node[node[x]]  # path halving keeps the trees flat
        x = node[x]
    return x


@njit(cache=True)
def _join(node, sites, site, below, above):
    """Attach a vertex's nodes on a site: the lower one to the site's open end, the upper one open."""
    if sites[2, site] < 0:
        sites[1, site] = below
    else:
        node[_find(node, below)] = _find(node, sites[2, site])  # the fresh node under the old root
    sites[2, site] = above


@njit(cache=True)
def loop_update(
    rng, spin0, kbond, ktime, n_kinks, bonds, axis, nearest, beta, a, b, Jz, flip, measure,
    vbond, vtime, vstate, node, flipped, loop_sums, sites, winding, values,
):  # fmt: skip
    """One loop update (flip=False: a new graph only, as for measuring after a change of beta).

    spin0 (the spins at tau = 0) and kbond[:n_kinks], ktime[:n_kinks] (the kinks) are replaced by the
    new configuration; winding[d] gets the kink counts hopping an up spin along +e_d minus along -e_d;
    with measure, values gets the OBSERVABLES of src.sampling.quantum.estimators (nearest[d]: the neighbours
    along axis d). The graph stays in vbond, vtime, vstate, node (roots), flipped. Returns (number of
    vertices, number of new kinks), or (-1, 0) with nothing changed when the arrays are too small.
    """
    n_sites, n_bonds, capacity = len(spin0), len(bonds), len(vbond)
    c = max(a, b)
    rate = c * n_bonds
    p_cross = a / (a + b)
    spin, first, open_node = sites[0], sites[1], sites[2]
    spin[:] = spin0
    first[:] = -1
    open_node[:] = -1
    n, k = 0, 0
    s0, s1, s2, s3 = load(rng)  # the stream in registers for the hot loop (src.sampling.streams)
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
        if n == capacity:
            return -1, 0  # before the stream, spin0 or the kinks are touched
        i, j = bonds[bond, 0], bonds[bond, 1]
        vbond[n], vtime[n] = bond, t
        vstate[n] = spin[i] * _SPIN_I + spin[j] * _SPIN_J + kink * _KINK + cross * _CROSS
        lower, upper = 2 * n, 2 * n + 1
        node[lower], node[upper] = lower, upper
        _join(node, sites, i, lower, upper)
        if cross:
            _join(node, sites, j, upper, lower)
        else:
            _join(node, sites, j, lower, upper)
        if kink:
            spin[i] ^= 1
            spin[j] ^= 1
        n += 1
    for site in range(n_sites):  # close the world lines around the imaginary-time circle
        if open_node[site] >= 0:
            node[_find(node, open_node[site])] = _find(node, first[site])
    # every node points at its root; every loop, named by its root or a free site's 2n + site, draws
    # its flip from the top halves of draws (a bit each)
    bits, n_bits = np.uint64(0), 0
    for x in range(2 * n + n_sites):
        if x < 2 * n:
            root = _find(node, x)
            node[x] = root
            if root != x:
                continue
        elif first[x - 2 * n] >= 0:
            continue
        coin = 0
        if flip:
            if n_bits == 0:
                u, s0, s1, s2, s3 = step(s0, s1, s2, s3)
                bits, n_bits = u >> np.uint64(32), 32
            coin = np.int64(bits & np.uint64(1))
            bits >>= np.uint64(1)
            n_bits -= 1
        if x < 2 * n:
            flipped[x] = coin
        else:
            spin[x - 2 * n] = spin0[x - 2 * n] ^ coin
    for site in range(n_sites):  # the new spins at tau = 0 of the sites with vertices
        if first[site] >= 0:
            spin[site] = spin0[site] ^ flipped[node[first[site]]]
    store(rng, s0, s1, s2, s3)
    if measure:
        loop_sums[:, : 2 * n] = 0.0
    winding[:] = 0.0
    m = 0
    for v in range(n):
        state, t = vstate[v], vtime[v]
        kink, cross = (state & _KINK) >> 2, state & _CROSS
        lower, upper = node[2 * v], node[2 * v + 1]
        lower_j, upper_j = (upper, lower) if cross else (lower, upper)
        below_i = (state & _SPIN_I) ^ flipped[lower]
        above_i = (state & _SPIN_I) ^ kink ^ flipped[upper]
        if below_i != above_i:  # a kink of the new configuration
            kbond[m], ktime[m] = vbond[v], t
            m += 1
            winding[axis[vbond[v]]] += 1.0 if below_i == 1 else -1.0  # up spin hops i -> i + e
        if measure:
            below_j = ((state & _SPIN_J) >> 1) ^ flipped[lower_j]
            above_j = ((state & _SPIN_J) >> 1) ^ kink ^ flipped[upper_j]
            loop_sums[0, lower] += (below_i - 0.5) * t
            loop_sums[0, upper] -= (above_i - 0.5) * t
            loop_sums[0, lower_j] += (below_j - 0.5) * t
            loop_sums[0, upper_j] -= (above_j - 0.5) * t
            loop_sums[1, lower] += t
            loop_sums[1, upper] -= t
            loop_sums[1, lower_j] += t
            loop_sums[1, upper_j] -= t
    spin0[:] = spin
    if measure:
        _measure(beta, n, m, spin0, kbond, ktime, bonds, nearest, winding, Jz, node, loop_sums, sites, values)
    return n, m


@njit(cache=True)
def _measure(beta, n, m, spin0, kbond, ktime, bonds, nearest, winding, Jz, node, loop_sums, sites, values):
    """Close the loop sums with the segments across tau = 0 and evaluate the observables."""
    first, label0 = sites[1], sites[2]
    moment2, length2 = 0.0, 0.0
    for site in range(len(spin0)):
        if first[site] >= 0:
            root = node[first[site]]
            loop_sums[0, root] += (spin0[site] - 0.5) * beta
            loop_sums[1, root] += beta
            label0[site] = root
        else:  # a free world line: magnetisation +-beta / 2, length beta
            moment2 += beta * beta / 4
            length2 += beta * beta
            label0[site] = 2 * n + site
    for x in range(2 * n):  # zero but at the roots
        moment2 += loop_sums[0, x] * loop_sums[0, x]
        length2 += loop_sums[1, x] * loop_sums[1, x]
    diagonal = Jz / 4 * bond_spin_products(spin0, kbond[:m], ktime[:m], bonds, beta) if Jz != 0 else 0.0
    observable_values(values, beta, spin0, m, diagonal, moment2, length2, label0, nearest, winding)


@njit(cache=True)
def graph_segments(n_sites, bonds, n, vbond, vtime, vstate, node, flipped):
    """The graph of the last update (n vertices) as the world-line segments of
    src.sampling.quantum.estimators: offsets (N + 1) into per-site rows, per segment its start time, loop
    label (its root, < 2n; a free site is the loop 2n + site) and spin."""
    offsets = np.zeros(n_sites + 1, np.int64)
    for v in range(n):
        offsets[bonds[vbond[v], 0] + 1] += 1
        offsets[bonds[vbond[v], 1] + 1] += 1
    offsets = np.cumsum(offsets)
    fill = offsets[:-1].copy()  # a counting sort by site keeps the time order
    seg_time = np.empty(2 * n)
    seg_label = np.empty(2 * n, np.int64)
    seg_spin = np.empty(2 * n, np.int64)
    for v in range(n):
        state = vstate[v]
        kink = (state & _KINK) >> 2
        upper_j = node[2 * v] if state & _CROSS else node[2 * v + 1]
        for end in range(2):  # bit `end` of the state is the spin of that end below the vertex
            upper = node[2 * v + 1] if end == 0 else upper_j
            site = bonds[vbond[v], end]
            row = fill[site]
            fill[site] += 1
            seg_time[row] = vtime[v]
            seg_label[row] = upper
            seg_spin[row] = ((state >> end) & 1) ^ kink ^ flipped[upper]
    return offsets, seg_time, seg_label, seg_spin
