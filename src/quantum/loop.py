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

Update: on every bond, cross graphs are put on parallel segments as a Poisson process of density a and
horizontal graphs on antiparallel segments with density b; each kink gets a cross graph with probability
a / (a + b), else a horizontal one. Legs joined by graphs and by world-line segments form loops; each
loop is flipped with probability 1/2, and the new kinks are the vertices whose spin changes.

Estimators (per update; S^z = s - 1/2, s in {0, 1}; N sites, beta = 1/T):
- energy per site: E/N = [-n_kinks / beta + Jz sum_b S^z_i(0) S^z_j(0)] / N  (Z = Tr e^{-beta H} expanded
  in the off-diagonal part, whose matrix elements are -Jxy/2 each; the diagonal part at tau = 0 is
  unbiased by imaginary-time translation invariance);
- chi_z = beta N mbar^2 = beta M^2 / N: the kinks conserve M = sum_i S^z_i, so the tau average is M;
  improved: chi_z_loop = sum_loops m_l^2 / (beta N), m_l = int dtau S^z along loop l, since the loops
  flip independently and (beta M)^2 = (sum_l m_l)^2 averages to sum_l m_l^2;
- winding W_d = (sum over kinks on d-bonds of +-1, + when the up spin hops along +e_d) / L_d, since
  Z(Phi) = sum_W Z_W exp(i Phi W) for a total twist Phi: <W^2> = beta d^2F/dPhi^2. Stiffness
  rho_s = (1/N) d^2F/dphi^2 per bond twist phi = Phi/L: rho_s = T <W_x^2 + W_y^2> / 2 on the square
  lattice and rho_s = T L <W^2> on a chain of L sites;
- czz(r) = (1/N) sum_i S^z_i(0) S^z_{i+r}(0);
- gloop(r) = (1/N) sum_i delta(i and i + r on the same loop at tau = 0): <gloop(r)> = 4 C_xx(r)
  = 2 <S^+_0 S^-_r> (the loop through the two points carries the S^+ S^- insertion with weight 1).

Configurations: the spin s_i(0) per site and the kinks as flat arrays (bond, time in [0, beta)); the
per-site sorted flip times are rebuilt in compressed rows each update, sized exactly, so no capacity
management is needed. Random numbers come from the project's xoshiro256+ stream (src.updates.rng).
"""

import numpy as np
from numba import njit

from src.exact.quantum import Lattice, site_coordinates
from src.updates.rng import seed_streams, uniform


@njit(cache=True)
def _by_site(n_sites, bonds, vbond, vtime):
    """Compressed rows of the vertex ends per site, time-ordered: entry 2 v + end (end 0: bond site i)."""
    offsets = np.zeros(n_sites + 1, np.int64)
    for v in range(len(vbond)):
        offsets[bonds[vbond[v], 0] + 1] += 1
        offsets[bonds[vbond[v], 1] + 1] += 1
    offsets = np.cumsum(offsets)
    fill = offsets[:-1].copy()
    entries = np.empty(offsets[-1], np.int64)
    for v in range(len(vbond)):
        for end in range(2):
            site = bonds[vbond[v], end]
            entries[fill[site]] = 2 * v + end
            fill[site] += 1
    for site in range(n_sites):
        row = entries[offsets[site] : offsets[site + 1]]
        row[:] = row[np.argsort(vtime[row // 2])]
    return offsets, entries, vtime[entries // 2]


@njit(cache=True)
def _spin_at(spin0, offsets, times, site, t):
    """s_site(t^-): the spin at tau = 0 flipped once per kink on the site before t."""
    row = times[offsets[site] : offsets[site + 1]]
    return spin0[site] ^ (np.searchsorted(row, t) & 1)


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
def _poisson(rng, mean):
    """Number of unit-rate exponential gaps that fit in mean."""
    count, t = 0, -np.log(1.0 - uniform(rng))
    while t < mean:
        count += 1
        t -= np.log(1.0 - uniform(rng))
    return count


@njit(cache=True)
def _place_vertices(rng, spin0, kbond, ktime, bonds, beta, a, b):
    """Kinks plus Poisson graphs (thinned to compatible segments); returns bond, time, graph (0 cross,
    1 horizontal) and the spins of the four legs (i below, i above, j below, j above) per vertex."""
    n_sites = len(spin0)
    offsets, _, times = _by_site(n_sites, bonds, kbond, ktime)
    n_a, n_b = np.empty(len(bonds), np.int64), np.empty(len(bonds), np.int64)
    for bond in range(len(bonds)):
        n_a[bond], n_b[bond] = _poisson(rng, a * beta), _poisson(rng, b * beta)
    cap = len(kbond) + n_a.sum() + n_b.sum()
    vbond, vtime = np.empty(cap, np.int64), np.empty(cap)
    graph, legs = np.empty(cap, np.int64), np.empty((cap, 4), np.int64)
    n = 0
    for k in range(len(kbond)):
        i, j = bonds[kbond[k], 0], bonds[kbond[k], 1]
        si, sj = _spin_at(spin0, offsets, times, i, ktime[k]), _spin_at(spin0, offsets, times, j, ktime[k])
        vbond[n], vtime[n] = kbond[k], ktime[k]
        graph[n] = 0 if uniform(rng) * (a + b) < a else 1
        legs[n, 0], legs[n, 1], legs[n, 2], legs[n, 3] = si, 1 - si, sj, 1 - sj
        n += 1
    for bond in range(len(bonds)):
        i, j = bonds[bond, 0], bonds[bond, 1]
        for g in range(2):
            for _ in range(n_a[bond] if g == 0 else n_b[bond]):
                t = uniform(rng) * beta
                si, sj = _spin_at(spin0, offsets, times, i, t), _spin_at(spin0, offsets, times, j, t)
                if (si == sj) == (g == 0):  # cross graphs need parallel spins, horizontal antiparallel
                    vbond[n], vtime[n], graph[n] = bond, t, g
                    legs[n, 0], legs[n, 1], legs[n, 2], legs[n, 3] = si, si, sj, sj
                    n += 1
    return vbond[:n], vtime[:n], graph[:n], legs[:n]


@njit(cache=True)
def _loops(n_sites, bonds, vbond, vtime, graph):
    """Union-find of the 4 V legs (leg 4 v + 2 end + above); also returns the vertex rows per site."""
    parent = np.arange(4 * len(vbond))
    for v in range(len(vbond)):
        if graph[v] == 0:
            _union(parent, 4 * v, 4 * v + 3)
            _union(parent, 4 * v + 2, 4 * v + 1)
        else:
            _union(parent, 4 * v, 4 * v + 2)
            _union(parent, 4 * v + 1, 4 * v + 3)
    offsets, entries, _ = _by_site(n_sites, bonds, vbond, vtime)
    for site in range(n_sites):
        lo, hi = offsets[site], offsets[site + 1]
        for k in range(lo, hi):  # world-line segment from this vertex up to the next, cyclic in tau
            nxt = entries[k + 1] if k + 1 < hi else entries[lo]
            _union(parent, 2 * entries[k] + 1, 2 * nxt)
    return parent, offsets, entries


@njit(cache=True)
def loop_update(rng, spin0, kbond, ktime, bonds, beta, a, b, axis, dims):
    """One loop update; returns the new (spin0, kbond, ktime), the winding numbers of the new
    configuration, the loop label of every site at tau = 0 and the loop estimator of chi_z (both of the
    graph just built)."""
    n_sites = len(spin0)
    vbond, vtime, graph, legs = _place_vertices(rng, spin0, kbond, ktime, bonds, beta, a, b)
    parent, offsets, entries = _loops(n_sites, bonds, vbond, vtime, graph)
    flip = np.empty(len(parent), np.bool_)
    for leg in range(len(parent)):  # drawn per leg, used only at each loop's root
        flip[leg] = uniform(rng) < 0.5
    new_legs = legs.ravel().copy()
    for leg in range(len(parent)):
        new_legs[leg] ^= np.int64(flip[_find(parent, leg)])
    new_spin0 = spin0.copy()
    label = np.empty(n_sites, np.int64)
    for site in range(n_sites):
        if offsets[site] == offsets[site + 1]:  # a free world line is a loop of its own
            new_spin0[site] ^= np.int64(uniform(rng) < 0.5)
            label[site] = len(parent) + site
        else:  # the segment across tau = 0 ends at the lower leg of the site's first vertex
            first_below = 2 * entries[offsets[site]]
            new_spin0[site] = new_legs[first_below]
            label[site] = _find(parent, first_below)
    new_legs = new_legs.reshape(-1, 4)
    is_kink = new_legs[:, 0] != new_legs[:, 1]
    winding = np.zeros(len(dims))
    for v in np.nonzero(is_kink)[0]:
        winding[axis[vbond[v]]] += 1.0 if new_legs[v, 0] == 1 else -1.0  # up spin hops i -> i + e
    moment2 = _loop_magnetisation_squared(parent, offsets, entries, vtime, legs, spin0, beta)
    return new_spin0, vbond[is_kink], vtime[is_kink], winding / dims, label, moment2 / (beta * n_sites)


@njit(cache=True)
def _loop_magnetisation_squared(parent, offsets, entries, vtime, legs, spin0, beta):
    """sum over loops of (int dtau S^z along the loop)^2; flipping a loop only changes its sign."""
    moment = np.zeros(len(parent) + len(spin0))
    for site in range(len(spin0)):
        lo, hi = offsets[site], offsets[site + 1]
        if lo == hi:
            moment[len(parent) + site] = (spin0[site] - 0.5) * beta
        for k in range(lo, hi):  # segment above vertex end entries[k] up to the next one, cyclic in tau
            above = 2 * entries[k] + 1
            length = (vtime[entries[k + 1 if k + 1 < hi else lo] // 2] - vtime[entries[k] // 2]) % beta
            moment[_find(parent, above)] += (legs[above // 4, above % 4] - 0.5) * (
                length if hi - lo > 1 else beta
            )
    return np.sum(moment**2)


def _displacements(dims: tuple[int, ...]) -> np.ndarray:
    """perm[r, i]: site i shifted by the displacement with flat index r."""
    coords = site_coordinates(dims)
    shifted = (coords[None, :, :] + coords[:, None, :]) % np.array(dims)
    return np.ravel_multi_index(tuple(shifted.transpose(2, 0, 1)), dims)


def _bond_axis(lattice: Lattice) -> np.ndarray:
    """Lattice axis of every bond (i, i + e): the coordinate that differs (works for L = 2 too)."""
    coords = site_coordinates(lattice.dims)
    return np.argmax(coords[lattice.bonds[:, 0]] != coords[lattice.bonds[:, 1]], axis=1)


def simulate(
    lattice: Lattice,
    beta: float,
    n_updates: int,
    n_thermal: int = 200,
    Jz: float = 0.0,
    Jxy: float = 1.0,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Time series (one entry per loop update) of energy, chi_z and chi_z_loop per site, winding (n, d),
    stiffness, czz and gloop (n, *dims); see the module docstring for the estimators."""
    if not abs(Jz) <= Jxy:
        raise ValueError(f"the loop weights need |Jz| <= Jxy, got Jz = {Jz}, Jxy = {Jxy}")
    rng = seed_streams(seed, 1)[0]
    a, b = (Jxy - Jz) / 4, (Jxy + Jz) / 4
    n, dims = lattice.n_sites, np.array(lattice.dims, dtype=float)
    bonds, axis, perm = lattice.bonds.astype(np.int64), _bond_axis(lattice), _displacements(lattice.dims)
    spin0 = (np.arange(n) % 2).astype(np.int64)
    kbond, ktime = np.empty(0, np.int64), np.empty(0)
    out = {key: [] for key in ("energy", "chi_z", "chi_z_loop", "winding", "czz", "gloop")}
    for step in range(n_thermal + n_updates):
        spin0, kbond, ktime, winding, label, chi_loop = loop_update(
            rng, spin0, kbond, ktime, bonds, beta, a, b, axis, dims
        )
        if step < n_thermal:
            continue
        sz = spin0 - 0.5
        out["energy"].append((-len(kbond) / beta + Jz * np.sum(sz[bonds[:, 0]] * sz[bonds[:, 1]])) / n)
        out["chi_z"].append(beta * sz.sum() ** 2 / n)
        out["chi_z_loop"].append(chi_loop)
        out["winding"].append(winding)
        out["czz"].append((sz[None, :] * sz[perm]).mean(axis=1).reshape(lattice.dims))
        out["gloop"].append((label[None, :] == label[perm]).mean(axis=1).reshape(lattice.dims))
    series = {key: np.array(value) for key, value in out.items()}
    w2 = (series["winding"] ** 2).sum(axis=1)
    series["stiffness"] = w2 / (2 * beta) if len(lattice.dims) == 2 else w2 * lattice.dims[0] / beta
    return series
