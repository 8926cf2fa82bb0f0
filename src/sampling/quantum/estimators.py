"""Estimators of the loop algorithm, from the graph of the last update (src.sampling.quantum.loop).

A graph is given as world-line segments per site: offsets (N + 1) into the per-site rows, and per
segment its start time in [0, beta), loop label (below n_labels) and spin s in {0, 1}
(S^z = s - 1/2); a site without segments is free, one loop of its own (label n_labels + site) with
spin spin0[site]. The segment across tau = 0 is the last of its row (it wraps around).

Derivations (N sites, T = 1/beta; <.> is the thermal average, every estimator is unbiased):
- Z = Tr e^{-beta H} expanded in the off-diagonal part: a configuration with n kinks has weight
  (Jxy/2)^n exp(-int_0^beta E_d(tau) dtau), E_d = Jz sum_b S^z_i S^z_j. In the times scaled by beta
  the weight is beta^n (Jxy/2)^n exp(-beta Ebar_d), Ebar_d the tau average of E_d, so
      E = <-n / beta + Ebar_d>,    C = beta^2 (<E_est^2> - <E_est>^2) - <n>
  (the second beta derivative of ln Z; E_est = -n/beta + Ebar_d must use the tau average for C).
  The same scaled weight gives replica exchange its acceptance (src.sampling.driver.exchange).
- The loops flip independently with probability 1/2 and a flip maps S^+ S^- insertions on one loop
  into allowed configurations of equal weight, so <S^x_i(tau) S^x_j(0)> = (1/4) P(same loop) for
  every |Jz| <= Jxy. Hence, averaged over the equal time tau,
      same(i, j) = (1/beta) int dtau delta(loop(i, tau), loop(j, tau)),   <same(i, j)> = 4 C_xx(r),
  and chi_x = (1/N) int dtau sum_ij <S^x_i(tau) S^x_j(0)> = <sum_loops |l|^2> / (4 beta N), |l| the
  loop's total length in imaginary time.
- chi_z = beta <M^2> / N with M = sum S^z conserved along tau; improved: (beta M)^2 = (sum_l m_l)^2
  with m_l = int S^z along loop l, and the independent loop signs leave <sum_l m_l^2>, so
  chi_z_loop = sum_l m_l^2 / (beta N).
- zz(i, j) = (1/beta) int dtau sigma^z_i(tau) sigma^z_j(tau) (sigma = 2 S^z): <zz> = 4 C_zz(r).
  The same and zz at tau = 0 alone are unbiased too (translation invariance in tau) and cost O(N)
  instead of a merge of two sites' segments per pair: the per-measurement nearest-neighbour
  correlations use them; the snapshots and the diagonal energy use the tau averages (the specific-heat
  formula above needs the tau-averaged Ebar_d).
- Winding numbers W_d = (kink counts along +e_d minus -e_d) / L_d: Z(Phi) = sum_W Z_W e^{i Phi W}
  for a twist Phi, so the stiffness rho_s = (1/N) d^2F/dphi^2 per bond twist phi = Phi/L is
  T L^{2-d} <sum_d W_d^2> / d on the d-dimensional L^d torus (T <W_x^2 + W_y^2> / 2 on the square
  lattice, T L <W^2> on a ring).
"""

import numpy as np
from numba import njit

# what `observable_values` gives, in order: per-site values of one configuration and its graph
OBSERVABLES = ("energy", "kinks", "chi_z", "chi_z_loop", "chi_x", "stiffness", "czz_nn", "cxx_nn")


@njit(cache=True)
def _cursor(offsets, seg_time, seg_label, seg_spin, spin0, n_labels, site, beta):
    """(label, spin, index of the next segment, its start time) at tau = 0."""
    lo, hi = offsets[site], offsets[site + 1]
    if lo == hi:
        return n_labels + site, spin0[site], hi, beta
    return seg_label[hi - 1], seg_spin[hi - 1], lo, seg_time[lo]


@njit(cache=True)
def _overlap(offsets, seg_time, seg_label, seg_spin, spin0, n_labels, i, j, beta):
    """(beta same(i, j), beta zz(i, j)) by a merge of the two sites' segment rows: O(their segments)."""
    hi_i, hi_j = offsets[i + 1], offsets[j + 1]
    li, si, ki, ti = _cursor(offsets, seg_time, seg_label, seg_spin, spin0, n_labels, i, beta)
    lj, sj, kj, tj = _cursor(offsets, seg_time, seg_label, seg_spin, spin0, n_labels, j, beta)
    same, zz, t = 0.0, 0.0, 0.0
    while t < beta:
        t_next = min(ti, tj)
        if li == lj:
            same += t_next - t
        zz += (t_next - t) * (2 * si - 1) * (2 * sj - 1)
        t = t_next
        if ti == t and ki < hi_i:
            li, si = seg_label[ki], seg_spin[ki]
            ki += 1
            ti = seg_time[ki] if ki < hi_i else beta
        if tj == t and kj < hi_j:
            lj, sj = seg_label[kj], seg_spin[kj]
            kj += 1
            tj = seg_time[kj] if kj < hi_j else beta
    return same, zz


@njit(cache=True)
def pair_overlaps(offsets, seg_time, seg_label, seg_spin, spin0, n_labels, partner, beta):
    """same(i, partner[i]) and zz(i, partner[i]) for every site i (see the module docstring)."""
    n = len(spin0)
    same, zz = np.empty(n), np.empty(n)
    for i in range(n):
        same[i], zz[i] = _overlap(
            offsets, seg_time, seg_label, seg_spin, spin0, n_labels, i, partner[i], beta
        )
    return same / beta, zz / beta


@njit(cache=True)
def _flip_times(n_sites, bonds, kbond, ktime):
    """Per-site rows of the times at which a site's spin flips; in time order, as the kinks are."""
    offsets = np.zeros(n_sites + 1, np.int64)
    for k in range(len(kbond)):
        offsets[bonds[kbond[k], 0] + 1] += 1
        offsets[bonds[kbond[k], 1] + 1] += 1
    offsets = np.cumsum(offsets)
    fill = offsets[:-1].copy()
    times = np.empty(offsets[-1])
    for k in range(len(kbond)):
        for end in range(2):
            site = bonds[kbond[k], end]
            times[fill[site]] = ktime[k]
            fill[site] += 1
    return offsets, times


@njit(cache=True)
def bond_spin_products(spin0, kbond, ktime, bonds, beta):
    """sum over bonds of (1/beta) int dtau sigma^z_i sigma^z_j, from the world lines alone (no graph,
    so no random numbers: replica exchange uses it between updates). The kinks are in time order."""
    offsets, times = _flip_times(len(spin0), bonds, kbond, ktime)
    total = 0.0
    for b in range(len(bonds)):
        i, j = bonds[b, 0], bonds[b, 1]
        ki, hi_i, kj, hi_j = offsets[i], offsets[i + 1], offsets[j], offsets[j + 1]
        product = (2 * spin0[i] - 1) * (2 * spin0[j] - 1)
        t = 0.0
        while True:
            ti = times[ki] if ki < hi_i else beta
            tj = times[kj] if kj < hi_j else beta
            t_next = min(ti, tj)
            total += product * (t_next - t)
            if t_next >= beta:
                break
            t = t_next
            if ti == t:
                product, ki = -product, ki + 1
            if tj == t:
                product, kj = -product, kj + 1
    return total / beta


@njit(cache=True)
def observable_values(out, beta, spin0, n_kinks, diagonal, moment2, length2, label0, nearest, counts):
    """out[:] = the OBSERVABLES of a configuration (spin0, n_kinks kinks, diagonal = Ebar_d) and its
    graph: sum over loops of m_l^2 and of |l|^2, the loop of every site at tau = 0 (label0) and the
    winding counts per axis. nearest[d] are the neighbours along axis d; the nearest-neighbour
    correlations are the tau = 0 ones. src.sampling.quantum.loop evaluates it inside the update."""
    n, d = len(spin0), nearest.shape[0]
    zz, same = 0, 0
    for axis in range(d):
        for i in range(n):
            zz += (2 * spin0[i] - 1) * (2 * spin0[nearest[axis, i]] - 1)
            same += label0[i] == label0[nearest[axis, i]]
    magnetisation = np.sum(spin0) - n / 2
    side = n ** (1 / d)
    out[0] = (-n_kinks / beta + diagonal) / n
    out[1] = n_kinks / n
    out[2] = beta * magnetisation**2 / n
    out[3] = moment2 / (beta * n)
    out[4] = length2 / (4 * beta * n)
    out[5] = side ** (2 - d) * np.sum((counts / side) ** 2) / (d * beta)
    out[6] = zz / (4 * d * n)
    out[7] = same / (4 * d * n)
