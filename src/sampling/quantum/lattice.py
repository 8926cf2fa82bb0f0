"""Periodic lattices of the quantum models: a chain of N sites or the L x L torus.

Sites of a lattice with dims (L, L) are n = y * L + x (x the last axis, as in the classical models'
[y, x] arrays); a displacement r is indexed the same way. Bonds are (i, i + e) for every site i and
unit vector e, first all e = y-hat then all e = x-hat: N bonds on a chain, 2N on the square lattice.
On a 2-site chain or an L = 2 square lattice every pair then appears twice (as for the classical
models); unique_bonds=True keeps one copy.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Lattice:
    """Periodic lattice: dims (N,) for a chain or (L, L) for the square lattice; bonds (B, 2)."""

    dims: tuple[int, ...]
    bonds: np.ndarray

    @property
    def n_sites(self) -> int:
        return int(np.prod(self.dims))


def site_coordinates(dims: tuple[int, ...]) -> np.ndarray:
    return np.stack(np.unravel_index(np.arange(int(np.prod(dims))), dims), axis=1)


def _periodic_lattice(dims: tuple[int, ...], unique_bonds: bool) -> Lattice:
    if min(dims) < 2:
        raise ValueError(f"every lattice side needs at least 2 sites, got {dims}")
    coords = site_coordinates(dims)
    sites = np.arange(len(coords))
    bonds = []
    for axis in range(len(dims)):
        shifted = coords.copy()
        shifted[:, axis] = (shifted[:, axis] + 1) % dims[axis]
        bonds.append(np.stack([sites, np.ravel_multi_index(tuple(shifted.T), dims)], axis=1))
    bonds = np.concatenate(bonds)
    if unique_bonds:
        bonds = np.unique(np.sort(bonds, axis=1), axis=0)
    return Lattice(tuple(dims), bonds)


def chain(n_sites: int, unique_bonds: bool = False) -> Lattice:
    """Periodic chain, bonds (i, i+1 mod N); N = 2 has the bond twice unless unique_bonds."""
    return _periodic_lattice((n_sites,), unique_bonds)


def square(L: int, unique_bonds: bool = False) -> Lattice:
    """L x L torus, bonds (i, i+x), (i, i+y); L = 2 has every bond twice unless unique_bonds."""
    return _periodic_lattice((L, L), unique_bonds)


def shifted_sites(dims: tuple[int, ...], displacement) -> np.ndarray:
    """partner[i]: the site i + displacement (a vector with one entry per axis), periodic."""
    coords = site_coordinates(dims) + np.asarray(displacement)
    return np.ravel_multi_index(tuple((coords % np.array(dims)).T), dims)


def all_displacements(dims: tuple[int, ...]) -> np.ndarray:
    """perm[r, i]: site i shifted by the displacement with flat index r."""
    return np.stack([shifted_sites(dims, r) for r in site_coordinates(dims)])


def bond_axis(lattice: Lattice) -> np.ndarray:
    """Lattice axis of every bond (i, i + e): the coordinate that differs (works for L = 2 too)."""
    coords = site_coordinates(lattice.dims)
    return np.argmax(coords[lattice.bonds[:, 0]] != coords[lattice.bonds[:, 1]], axis=1)
