"""Exact diagonalisation of the spin-1/2 XXZ model on small periodic lattices.

    H = sum_<ij> [Jz S^z_i S^z_j - Jxy (S^x_i S^x_j + S^y_i S^y_j)],   S = sigma / 2,  k_B = hbar = 1.

Conventions
- Jxy > 0 is the ferromagnetic XY coupling (the sign-problem-free one). Jz = -Jxy is SU(2)
  symmetric: H = -Jxy sum S_i . S_j, the Heisenberg ferromagnet. Jz = +Jxy is the Heisenberg
  antiferromagnet after rotating one sublattice by pi about z (bipartite lattices only), under which
  C_xx(r) -> eps(r) C_xx(r), eps = +1 (-1) on the same (other) sublattice, and C_zz is unchanged.
- Sites of a lattice with dims (L, L) are n = y * L + x as in enumeration.py, a displacement r is
  indexed the same way, and correlation arrays have shape dims, indexed [dy, dx] (chains: [dx]).
- Bonds are (i, i + e) for every site i and unit vector e: N bonds on a chain of N sites, 2N on the
  L x L square lattice. On a 2-site chain or an L = 2 square lattice every pair then appears twice
  (as in enumeration.py); unique_bonds=True keeps one copy.
- Off-diagonal correlations: C_xx(r) = <S^x_0 S^x_r> = <S^y_0 S^y_r> (U(1) symmetry about z). For
  r != 0, <S^+_0 S^-_r> = <S^-_0 S^+_r> = 2 C_xx(r), so <S^+_0 S^-_r + h.c.> = 4 C_xx(r); the
  equal-time Green's function G(r) = <S^+_0 S^-_r> that a loop / worm algorithm measures is 2 C_xx(r).
  At r = 0, C_xx(0) = C_zz(0) = 1/4.

Method: H conserves the magnetisation M = sum S^z and commutes with the lattice translations, so it
is diagonalised densely in blocks of fixed M and momentum k, spanned by Bloch states
|r, k> ∝ sum_t exp(i k.t) T_t |r> on orbit representatives r (the smallest state of each orbit).
On the 4 x 4 lattice the largest block has ~800 states instead of C(16, 8) = 12870. Thermal
averages use translation-averaged operators, which equal the site-0 correlations because the
Gibbs state is translation invariant.
"""

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from src.sampling.quantum.lattice import Lattice, site_coordinates

MAX_SITES = 18  # the symmetry tables hold N x 2^N integers: 40 MB at N = 18


@dataclass(frozen=True)
class XXZThermal:
    """Thermal averages per site for each beta (leading axis); correlations have shape (n_beta, *dims)."""

    beta: np.ndarray
    energy: np.ndarray
    specific_heat: np.ndarray
    chi_z: np.ndarray
    chi_x: np.ndarray
    czz: np.ndarray
    cxx: np.ndarray


class XXZSpectrum:
    """Full spectrum of the XXZ model with the per-eigenstate data every thermal average needs.

    energies, magnetisation: (2^N,) per eigenstate; zz, xx: (2^N, N) eigenstate expectations of
    (1/N) sum_i S^a_i S^a_{i+r} per displacement r; transitions: (lower, upper, |<m|M^+|n>|^2) for
    every pair of blocks (M, k) -> (M + 1, k), lower/upper being slices of the eigenstate arrays.
    """

    def __init__(self, lattice: Lattice, Jz: float, Jxy: float = 1.0):
        n = lattice.n_sites
        if n > MAX_SITES:
            raise ValueError(f"{n} sites is more than exact diagonalisation here allows ({MAX_SITES})")
        self.lattice, self.Jz, self.Jxy = lattice, float(Jz), float(Jxy)
        coords = site_coordinates(lattice.dims)
        # perm[t, i]: site i translated by the displacement with flat index t
        self._perm = np.ravel_multi_index(
            tuple(((coords[None, :, :] + coords[:, None, :]) % lattice.dims).transpose(2, 0, 1)), lattice.dims
        )
        k = 2 * np.pi * coords / np.array(lattice.dims)
        self._phase = np.exp(1j * k @ coords.T)  # [k, t] = exp(i k.t)

        states = np.arange(1 << n)
        images = np.zeros((n, states.size), dtype=np.int64)
        for i in range(n):
            images |= ((states >> i) & 1)[None, :] << self._perm[:, i : i + 1]
        self._rep = images.min(axis=0)
        self._to_rep = images.argmin(axis=0)  # T_t s = rep(s) for this t
        self._n_stab = (images == states).sum(axis=0)
        reps = states[self._rep == states]
        stabilised = images[:, reps] == reps  # (t, rep)

        spins = ((reps[:, None] >> np.arange(n)) & 1) - 0.5
        self._reps, self._stabilised = reps, stabilised
        self._popcount = spins.sum(axis=1) + n / 2
        self._diagonal = self.Jz * (spins[:, lattice.bonds[:, 0]] * spins[:, lattice.bonds[:, 1]]).sum(axis=1)
        self._zz = (spins[:, None, :] * spins[:, self._perm]).mean(axis=2)  # (rep, r)
        minus_k = np.ravel_multi_index(tuple(((-coords) % lattice.dims).T), lattice.dims)

        # The global spin flip maps block (M, k) onto (-M, k), and complex conjugation (H is real) maps
        # k onto -k, keeping the spectrum, zz and xx; |<m|M^+|n>|^2 maps onto its transpose and onto
        # itself. So only popcounts <= (n + 1) // 2 and one k of each (k, -k) pair are diagonalised.
        half = (n + 1) // 2
        blocks, squared, where = {}, {}, {}
        offset = 0
        for up in range(n + 1):
            for q in range(n):
                if up > half:
                    blocks[up, q] = blocks[n - up, q]
                elif minus_k[q] < q:
                    blocks[up, q] = blocks[up, minus_k[q]]
                else:
                    blocks[up, q] = self._diagonalise(up, q)
                size = blocks[up, q][0].size
                where[up, q] = slice(offset, offset + size)
                offset += size
                if up == 0:
                    continue
                if up > half:
                    squared[up - 1, q] = squared[n - up, q].T
                elif minus_k[q] < q:
                    squared[up - 1, q] = squared[up - 1, minus_k[q]]
                else:
                    _, v_lo, src_lo, _, _, _ = blocks[up - 1, q]
                    _, v, _, index, _, _ = blocks[up, q]
                    squared[up - 1, q] = np.abs(v.conj().T @ (self._raise(src_lo, index, q, n) @ v_lo)) ** 2
        self.transitions = [(where[u, q], where[u + 1, q], a2) for (u, q), a2 in squared.items()]
        self.energies = np.concatenate([b[0] for b in blocks.values()])
        self.magnetisation = np.concatenate([np.full(b[0].size, up - n / 2) for (up, _), b in blocks.items()])
        self.zz = np.concatenate([b[4] for b in blocks.values()])
        self.xx = np.concatenate([b[5] for b in blocks.values()])

    def _diagonalise(self, up: int, q: int):
        """Eigenvalues e, eigenvectors v (columns, on the Bloch basis of the representatives src; index
        numbers them among all states) and per-eigenstate zz, xx of the block (popcount up, k)."""
        n = self.lattice.n_sites
        # a Bloch state exists only if exp(i k.t) = 1 on the representative's stabiliser
        trivial = np.isclose(self._phase[q][:, None], 1.0)
        ok = (self._popcount == up) & ~np.any(self._stabilised & ~trivial, axis=0)
        src = self._reps[ok]
        index = np.full(self._rep.size, -1)
        index[src] = np.arange(src.size)
        h = self._hop(src, index, q, self.lattice.bonds, -self.Jxy / 2).toarray()
        e, v = np.linalg.eigh(h + np.diag(self._diagonal[ok]))
        xx = np.full((e.size, n), 0.25)  # r = 0: (S^x_i)^2 = 1/4
        for r in range(1, n):
            pairs = np.stack([np.arange(n), self._perm[r]], axis=1)
            x = self._hop(src, index, q, pairs, 1 / (4 * n))
            xx[:, r] = np.einsum("ij,ij->j", v.conj(), x @ v).real
        return e, v, src, index, (np.abs(v) ** 2).T @ self._zz[ok], xx

    def _bloch_matrix(self, src, index, q, new, amplitude, column):
        """Sparse matrix <rep(new), k| O |src, k> of a translation-invariant operator O that maps the
        representative src[column] to the basis state new with the given amplitude."""
        target = self._rep[new]
        row = index[target]
        keep = row >= 0  # target orbits without a momentum-k Bloch state drop out of the sum
        value = (
            amplitude
            * self._phase[q, self._to_rep[new]]
            * np.sqrt(self._n_stab[target] / self._n_stab[src[column]])
        )
        shape = (int(index.max()) + 1, src.size)
        return sparse.coo_matrix((value[keep], (row[keep], column[keep])), shape=shape).tocsr()

    def _hop(self, src, index, q, pairs, amplitude):
        """amplitude * sum over pairs of (S^+_i S^-_j + S^-_i S^+_j) inside one (M, k) block."""
        i, j = pairs[:, 0], pairs[:, 1]
        anti = (((src[:, None] >> i) ^ (src[:, None] >> j)) & 1).astype(bool)
        column = np.broadcast_to(np.arange(src.size)[:, None], anti.shape)[anti]
        new = (src[:, None] ^ ((1 << i) | (1 << j)))[anti]
        return self._bloch_matrix(src, index, q, new, np.full(new.size, amplitude), column)

    def _raise(self, src, index, q, n):
        """M^+ = sum_i S^+_i from the block of src to the block that index numbers, (upper, lower)."""
        sites = np.arange(n)
        down = ((src[:, None] >> sites) & 1) == 0
        column = np.broadcast_to(np.arange(src.size)[:, None], down.shape)[down]
        new = (src[:, None] | (1 << sites))[down]
        return self._bloch_matrix(src, index, q, new, np.ones(new.size), column)

    def thermal(self, betas) -> XXZThermal:
        """Energy, specific heat, chi_z, chi_x per site and C_zz(r), C_xx(r) at each inverse temperature."""
        betas = np.atleast_1d(np.asarray(betas, dtype=float))
        n, dims = self.lattice.n_sites, self.lattice.dims
        ground = self.energies.min()
        shifted = self.energies - ground  # Boltzmann weights <= 1: no overflow at large beta
        rows = []
        for beta in betas:
            w = np.exp(-beta * shifted)
            z = w.sum()
            p = w / z
            mean = p @ shifted
            m_mean = p @ self.magnetisation
            # chi_x = (1/NZ) sum |<a|M^x|b>|^2 K(E_a, E_b), K = int_0^beta e^{-(beta-tau) E_a - tau E_b};
            # each M^+ element enters twice (M^x_ab and M^x_ba) with weight 1/4
            chi_x = 0.0
            for lower, upper, a2 in self.transitions:
                chi_x += (a2 * _tau_kernel(beta, shifted[upper], shifted[lower])).sum()
            rows.append(
                (
                    (mean + ground) / n,
                    beta**2 * (p @ (shifted - mean) ** 2) / n,
                    beta * (p @ self.magnetisation**2 - m_mean**2) / n,
                    chi_x / (2 * n * z),
                    (p @ self.zz).reshape(dims),
                    (p @ self.xx).reshape(dims),
                )
            )
        e, c, chi_z, chi_x, czz, cxx = (np.array(column) for column in zip(*rows))
        return XXZThermal(betas, e, c, chi_z, chi_x, czz, cxx)


def _tau_kernel(beta: float, e_up: np.ndarray, e_lo: np.ndarray) -> np.ndarray:
    """int_0^beta dtau exp(-(beta - tau) E_a - tau E_b) for E_a = e_up[:, None], E_b = e_lo[None, :],
    written as beta exp(-beta min) (1 - e^{-x}) / x, x = beta |E_a - E_b|, which tends to
    beta exp(-beta E) for degenerate levels."""
    low = np.minimum(e_up[:, None], e_lo[None, :])
    x = beta * np.abs(e_up[:, None] - e_lo[None, :])
    safe = np.where(x > 1e-12, x, 1.0)
    ratio = np.where(x > 1e-12, -np.expm1(-safe) / safe, 1.0)
    return beta * np.exp(-beta * low) * ratio


def xxz_thermal(lattice: Lattice, betas, Jz: float, Jxy: float = 1.0) -> XXZThermal:
    """Thermal averages of the XXZ model; build one XXZSpectrum to reuse a spectrum for more betas."""
    return XXZSpectrum(lattice, Jz, Jxy).thermal(betas)
