"""Loop-algorithm QMC against exact diagonalisation. Every comparison is within 4 binned standard errors,
and each test also checks that the same data reject a wrong temperature (or coupling), so it can fail."""

import numpy as np
import pytest

from src.exact.quantum import xxz_thermal
from src.sampling.quantum.chain import simulate
from src.sampling.quantum.lattice import chain, square

N_BINS = 32


def binned(series):
    """Mean and standard error from N_BINS bins of the leading (time) axis."""
    x = np.asarray(series, dtype=float)
    x = x[: len(x) // N_BINS * N_BINS]
    bins = x.reshape(N_BINS, -1, *x.shape[1:]).mean(axis=1)
    return bins.mean(axis=0), bins.std(axis=0, ddof=1) / np.sqrt(N_BINS)


def check(name, series, exact, wrong=None):
    """Agreement with exact within 4 sigma; disagreement with the wrong-parameter value beyond 4 sigma."""
    mean, err = binned(series)
    err = np.maximum(err, 1e-12)
    assert np.all(np.abs(mean - exact) < 4 * err), f"{name}: {mean} +- {err} vs exact {exact}"
    assert wrong is None or np.any(np.abs(mean - wrong) > 4 * err), (
        f"{name}: cannot tell {exact} from wrong {wrong}"
    )


def two_spins(beta, field=0.0):
    """ln Z of the 2-site ring (the bond counted twice, as on every ring): levels -1 and +1 on the
    S^z = 0 states, -field and +field on the two polarised ones."""
    return np.log(2 * np.cosh(beta) + 2 * np.cosh(beta * field))


def four_spin_ring(beta, field=0.0):
    """ln Z of the 4-site XY ring by Jordan-Wigner: free fermions with eps_k = -cos k - field, k
    antiperiodic for an even and periodic for an odd number of fermions, and M = N_f - 2."""
    periodic = 2 * np.pi * np.arange(4) / 4
    antiperiodic = periodic + np.pi / 4

    def products(k):
        x = np.exp(beta * (np.cos(k) + field))
        return np.prod(1 + x), np.prod(1 - x)

    (a_plus, a_minus), (p_plus, p_minus) = products(antiperiodic), products(periodic)
    return np.log((a_plus + a_minus + p_plus - p_minus) / 2) - 2 * beta * field


def by_hand(log_z, n_sites, beta, h=1e-4):
    """Energy and chi_z per site from ln Z(beta, field) by central differences."""
    energy = -(log_z(beta + h) - log_z(beta - h)) / (2 * h * n_sites)
    chi = (log_z(beta, h) - 2 * log_z(beta) + log_z(beta, -h)) / (h**2 * beta * n_sites)
    return energy, chi


@pytest.mark.parametrize("n_sites", [2, 4])
@pytest.mark.parametrize("temperature", [0.5, 1.0])
def test_xy_chain_energy_and_chi_by_hand(n_sites, temperature):
    """Closed forms: 2 spins (e = -tanh(beta/2)/2, chi_z = beta / (2 + 2 cosh beta)) and the 4-site
    ring as free fermions; also checked against exact diagonalisation, to 1e-6."""
    lattice, beta = chain(n_sites), 1 / temperature
    log_z = two_spins if n_sites == 2 else four_spin_ring
    (energy, chi), (energy_hot, chi_hot) = by_hand(log_z, n_sites, beta), by_hand(log_z, n_sites, beta / 2)
    ed = xxz_thermal(lattice, [beta], Jz=0.0)
    np.testing.assert_allclose([energy, chi], [ed.energy[0], ed.chi_z[0]], rtol=1e-6)
    if n_sites == 2:
        np.testing.assert_allclose([energy, chi], [-np.tanh(beta / 2) / 2, beta / (2 + 2 * np.cosh(beta))])
    series = simulate(lattice, beta, 40_000, Jz=0.0, seed=11 + n_sites)
    check("energy", series["energy"], energy, energy_hot)
    # two spins at T = 0.5 are near saturation: chi_z(T) and chi_z(2T) differ by only 0.013
    resolvable = n_sites > 2 or temperature > 0.5
    check("chi_z", series["chi_z"], chi, chi_hot if resolvable else None)
    check("chi_z_loop", series["chi_z_loop"], chi, chi_hot if resolvable else None)


@pytest.mark.parametrize("Jz", [0.0, 1.0, -0.5])
def test_ring_correlations(Jz):
    """czz(r) = C_zz(r) and the same-loop probability gloop(r) = 4 C_xx(r), also away from the XY point."""
    lattice, beta = chain(4), 2.0
    ed = xxz_thermal(lattice, [beta, 1.5 * beta], Jz=Jz)
    series = simulate(lattice, beta, 40_000, Jz=Jz, seed=5)
    check("energy", series["energy"], ed.energy[0], ed.energy[1])
    check("czz", series["czz"], ed.czz[0], ed.czz[1])
    check("gloop", series["gloop"], 4 * ed.cxx[0], 4 * ed.cxx[1])


def twisted_free_energy(lattice, beta, twist):
    """XY-point F(Phi) with the total twist Phi along the last axis spread over its bonds (i, i + e):
    S^+_i S^-_{i+e} gets the phase e^{i Phi / L}."""
    n, dims = lattice.n_sites, lattice.dims
    coords = np.stack(np.unravel_index(np.arange(n), dims), axis=1)
    sp = np.array([[0.0, 1.0], [0.0, 0.0]])

    def raise_lower(i, j):
        out = np.array([[1.0]])
        for k in range(n):
            out = np.kron(out, sp if k == i else sp.T if k == j else np.eye(2))
        return out

    h = np.zeros((2**n, 2**n), dtype=complex)
    for i, j in lattice.bonds:
        along = coords[i, -1] != coords[j, -1]
        hop = np.exp(1j * twist / dims[-1] * along) * raise_lower(i, j)
        h -= (hop + hop.conj().T) / 2
    energies = np.linalg.eigvalsh(h)
    return energies.min() - np.log(np.exp(-beta * (energies - energies.min())).sum()) / beta


def exact_stiffness(lattice, beta, h=1e-3):
    """rho_s = (1/N) d^2F/dphi^2 = (L^2 / N) d^2F/dPhi^2, by a central difference."""
    f = [twisted_free_energy(lattice, beta, x) for x in (-h, 0.0, h)]
    return lattice.dims[-1] ** 2 / lattice.n_sites * (f[0] - 2 * f[1] + f[2]) / h**2


@pytest.mark.parametrize("lattice", [chain(4), square(2)], ids=["ring4", "square2"])
def test_stiffness_from_winding(lattice):
    beta = 2.0
    series = simulate(lattice, beta, 40_000, Jz=0.0, seed=7)
    check(
        "stiffness", series["stiffness"], exact_stiffness(lattice, beta), exact_stiffness(lattice, beta / 2)
    )


def test_square2_against_ed():
    """The L = 2 torus (every bond twice) exercises the two-dimensional bond axes and displacements."""
    lattice, beta = square(2), 1.0
    ed = xxz_thermal(lattice, [beta, beta / 2], Jz=0.0)
    series = simulate(lattice, beta, 40_000, Jz=0.0, seed=9)
    check("energy", series["energy"], ed.energy[0], ed.energy[1])
    check("chi_z_loop", series["chi_z_loop"], ed.chi_z[0], ed.chi_z[1])
    check("czz", series["czz"], ed.czz[0], ed.czz[1])
    check("gloop", series["gloop"], 4 * ed.cxx[0], 4 * ed.cxx[1])


def test_rejects_frustrating_couplings():
    with pytest.raises(ValueError):
        simulate(chain(4), 1.0, 10, Jz=1.5)
