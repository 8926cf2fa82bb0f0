"""Checks of the XXZ exact diagonalisation: closed forms for two spins, brute-force Kronecker-product
Hamiltonians, sum rules, symmetries, the high-temperature limit and the 4 x 4 lattice."""

import numpy as np
import pytest
from helpers import xxz_spectrum_4x4
from scipy import sparse
from scipy.linalg import expm
from scipy.sparse.linalg import eigsh

from src.exact.quantum import XXZSpectrum, xxz_thermal
from src.sampling.quantum.lattice import chain, square

BETAS = [0.1, 0.7, 2.0, 6.0]
PAULI = {
    "x": np.array([[0, 1], [1, 0]], dtype=complex),
    "y": np.array([[0, -1j], [1j, 0]]),
    "z": np.array([[1, 0], [0, -1]], dtype=complex),
}


def site_operator(a, i, n):
    """S^a on site i of n sites as a dense 2^n x 2^n matrix."""
    ops = [np.eye(2)] * n
    ops[i] = PAULI[a] / 2
    out = np.array([[1.0]])
    for op in ops:
        out = np.kron(out, op)
    return out


def brute_force(lattice, beta, Jz, Jxy):
    """Everything by dense matrices over the full Hilbert space; chi_x from a Gauss-Legendre tau integral
    of Tr[e^{-(beta - tau) H} M^x e^{-tau H} M^x] / Z with expm."""
    n = lattice.n_sites
    s = {a: [site_operator(a, i, n) for i in range(n)] for a in "xyz"}
    h = sum(
        Jz * s["z"][i] @ s["z"][j] - Jxy * (s["x"][i] @ s["x"][j] + s["y"][i] @ s["y"][j])
        for i, j in lattice.bonds
    )
    h = h - np.linalg.eigvalsh(h).min() * np.eye(2**n)
    rho = expm(-beta * h)
    z = np.trace(rho).real

    def avg(op):
        return np.trace(rho @ op).real / z

    mz, mx = sum(s["z"]), sum(s["x"])
    nodes, weights = np.polynomial.legendre.leggauss(30)
    # the nodes are symmetric about beta / 2, so e^{-(beta - tau_j) H} is the propagator of node -1 - j
    propagators = [expm(-beta * (x + 1) / 2 * h) for x in nodes]
    integrand = [np.trace(a @ mx @ b @ mx).real / z for a, b in zip(propagators[::-1], propagators)]
    return {
        "specific_heat": beta**2 * (avg(h @ h) - avg(h) ** 2) / n,
        "chi_z": beta * (avg(mz @ mz) - avg(mz) ** 2) / n,
        "chi_x": beta / 2 * np.dot(weights, integrand) / n,
        "czz": np.array([avg(s["z"][0] @ s["z"][r]) for r in range(n)]),
        "cxx": np.array([avg(s["x"][0] @ s["x"][r]) for r in range(n)]),
        "cyy": np.array([avg(s["y"][0] @ s["y"][r]) for r in range(n)]),
    }


def test_two_spins_closed_form():
    Jz, Jxy = 0.7, 1.3
    betas = np.array(BETAS)
    r = xxz_thermal(chain(2, unique_bonds=True), betas, Jz, Jxy)
    # |uu>, |dd>: Jz/4; (|ud> + |du>)/sqrt2: -Jz/4 - Jxy/2; (|ud> - |du>)/sqrt2: -Jz/4 + Jxy/2
    levels = np.array([Jz / 4, Jz / 4, -Jz / 4 - Jxy / 2, -Jz / 4 + Jxy / 2])
    m = np.array([1, -1, 0, 0])
    for k, beta in enumerate(betas):
        w = np.exp(-beta * levels)
        z = w.sum()
        mean = w @ levels / z
        assert r.energy[k] == pytest.approx(mean / 2, rel=1e-12)
        assert r.specific_heat[k] == pytest.approx(beta**2 * (w @ levels**2 / z - mean**2) / 2, rel=1e-10)
        assert r.chi_z[k] == pytest.approx(beta * (w @ m**2) / z / 2, rel=1e-12)
        assert r.cxx[k][1] == pytest.approx((w[2] - w[3]) / 4 / z, rel=1e-12)
        assert r.czz[k][1] == pytest.approx((w[0] + w[1] - w[2] - w[3]) / 4 / z, rel=1e-12)
        # M^x links |uu>, |dd> to the symmetric state with |<.|M^x|.>|^2 = 1/2: chi_x = K / Z
        a, b = levels[0], levels[2]
        kernel = (np.exp(-beta * b) - np.exp(-beta * a)) / (a - b)
        assert r.chi_x[k] == pytest.approx(kernel / z, rel=1e-12)


@pytest.mark.parametrize(
    "lattice, Jz, Jxy, betas",
    [
        (chain(4), 0.0, 1.0, [0.3, 1.0, 3.0]),
        (chain(4), 1.0, 1.0, [0.3, 1.0, 3.0]),
        (chain(5), -0.6, 0.8, [0.3, 1.0, 3.0]),
        (square(2), 0.4, 1.0, [0.3, 1.0, 3.0]),
        (square(3), 0.6, 1.0, [1.0]),  # 512 states: the expm calls are the cost
    ],
    ids=["ring4-xy", "ring4-jz1", "ring5", "square2", "square3"],
)
def test_against_kronecker_hamiltonian(lattice, Jz, Jxy, betas):
    r = XXZSpectrum(lattice, Jz, Jxy).thermal(betas)
    for k, beta in enumerate(betas):
        ref = brute_force(lattice, beta, Jz, Jxy)
        assert r.specific_heat[k] == pytest.approx(ref["specific_heat"], rel=1e-9)
        assert r.chi_z[k] == pytest.approx(ref["chi_z"], rel=1e-9)
        assert r.chi_x[k] == pytest.approx(ref["chi_x"], rel=1e-9)
        np.testing.assert_allclose(r.czz[k].ravel(), ref["czz"], atol=1e-12)
        np.testing.assert_allclose(r.cxx[k].ravel(), ref["cxx"], atol=1e-12)
        np.testing.assert_allclose(r.cxx[k].ravel(), ref["cyy"], atol=1e-12)
    # absolute energies: the brute force worked with H - E0
    n = lattice.n_sites
    s = {a: [site_operator(a, i, n) for i in range(n)] for a in "xyz"}
    h = sum(
        Jz * s["z"][i] @ s["z"][j] - Jxy * (s["x"][i] @ s["x"][j] + s["y"][i] @ s["y"][j])
        for i, j in lattice.bonds
    )
    levels = np.linalg.eigvalsh(h)
    for k, beta in enumerate(betas):
        w = np.exp(-beta * (levels - levels[0]))
        assert r.energy[k] == pytest.approx(w @ levels / w.sum() / n, rel=1e-11)


def test_doubled_bonds_on_two_site_rings():
    # L = 2 and N = 2 count every pair twice: the same as one copy with doubled couplings
    a = xxz_thermal(square(2), BETAS, 0.3, 1.0)
    b = xxz_thermal(square(2, unique_bonds=True), BETAS, 0.6, 2.0)
    assert len(square(2).bonds) == 8 and len(square(2, unique_bonds=True).bonds) == 4
    np.testing.assert_allclose(a.energy, b.energy, rtol=1e-12)
    np.testing.assert_allclose(a.chi_x, b.chi_x, rtol=1e-10)
    c = xxz_thermal(chain(2), BETAS, 0.3, 1.0)
    d = xxz_thermal(chain(2, unique_bonds=True), BETAS, 0.6, 2.0)
    np.testing.assert_allclose(c.energy, d.energy, rtol=1e-12)
    np.testing.assert_allclose(c.cxx, d.cxx, rtol=1e-12)


@pytest.mark.parametrize("lattice", [chain(6), square(3)], ids=["ring6", "square3"])
def test_sum_rules(lattice):
    r = xxz_thermal(lattice, BETAS, 0.5, 1.0)
    axes = tuple(range(1, r.czz.ndim))
    np.testing.assert_allclose(r.czz.reshape(len(BETAS), -1)[:, 0], 0.25, atol=1e-13)
    np.testing.assert_allclose(r.cxx.reshape(len(BETAS), -1)[:, 0], 0.25, atol=1e-13)
    # sum_r <S^z_0 S^z_r> = <M_z^2> / N = T chi_z since <M_z> = 0
    np.testing.assert_allclose(r.czz.sum(axis=axes), r.chi_z / r.beta, rtol=1e-11)
    # M^x is not conserved: the Kubo integral is below the static beta <M_x^2> / N
    assert np.all(r.chi_x < r.beta * r.cxx.sum(axis=axes))


def test_su2_points():
    lattice = chain(6)
    # Jz = -Jxy: H = -Jxy sum S_i.S_j, so xx and zz correlations agree and M^x is conserved
    ferro = xxz_thermal(lattice, BETAS, -1.0, 1.0)
    np.testing.assert_allclose(ferro.cxx, ferro.czz, atol=1e-13)
    np.testing.assert_allclose(ferro.chi_x, ferro.chi_z, rtol=1e-10)
    # Jz = +Jxy: the antiferromagnet after a sublattice rotation, C_xx(r) = (-1)^r C_zz(r)
    anti = xxz_thermal(lattice, BETAS, 1.0, 1.0)
    sign = (-1.0) ** np.arange(6)
    np.testing.assert_allclose(anti.cxx, sign * anti.czz, atol=1e-13)
    assert np.all(np.abs(anti.cxx[:, 1] - anti.czz[:, 1]) > 1e-2)


@pytest.mark.parametrize("lattice, bonds_per_site", [(chain(4), 1), (square(3), 2)], ids=["ring4", "square3"])
def test_high_temperature(lattice, bonds_per_site):
    # Tr h_b^2 / 4 = (Jz^2 + 2 Jxy^2) / 16 per bond and distinct bonds are orthogonal, so
    # e = -beta <H^2>_0 / N + O(beta^2) and c = beta^2 <H^2>_0 / N + O(beta^3)
    Jz, Jxy, beta = 0.7, 1.2, 1e-3
    r = xxz_thermal(lattice, [beta], Jz, Jxy)
    moment = bonds_per_site * (Jz**2 + 2 * Jxy**2) / 16
    assert r.energy[0] == pytest.approx(-beta * moment, rel=1e-2)
    assert r.specific_heat[0] == pytest.approx(beta**2 * moment, rel=1e-2)


@pytest.fixture(scope="module")
def xy_4x4():
    return xxz_spectrum_4x4(0.0)


def test_4x4_ground_state_against_lanczos(xy_4x4):
    # independent sparse H on all 2^16 states: -Jxy/2 (S^+ S^- + h.c.) swaps antiparallel neighbours
    lattice = xy_4x4.lattice
    states = np.arange(1 << 16)
    rows, cols = [], []
    for i, j in lattice.bonds:
        anti = ((states >> i) ^ (states >> j)) & 1 == 1
        rows.append(states[anti] ^ ((1 << i) | (1 << j)))
        cols.append(states[anti])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    h = sparse.csr_matrix((np.full(rows.size, -0.5), (rows, cols)), shape=(1 << 16, 1 << 16))
    ground = eigsh(h, k=1, which="SA", return_eigenvectors=False)[0]
    assert xy_4x4.energies.min() == pytest.approx(ground, rel=1e-10)
    assert xy_4x4.energies.size == 1 << 16


def test_4x4_xy_at_half_temperature(xy_4x4):
    r = xy_4x4.thermal([2.0])
    for value in (r.energy, r.specific_heat, r.chi_z, r.chi_x, r.czz, r.cxx):
        assert np.all(np.isfinite(value))
    assert -0.5625 < r.energy[0] < 0 and r.chi_x[0] > r.chi_z[0] > 0
    for c in (r.czz[0], r.cxx[0]):
        np.testing.assert_allclose(c, np.roll(c[::-1, ::-1], 1, axis=(0, 1)), atol=1e-13)  # C(r) = C(-r)
        np.testing.assert_allclose(c, c.T, atol=1e-13)  # x <-> y
    # ferromagnetic XY order: in-plane correlations positive everywhere, zz ones negative off-site
    assert np.all(r.cxx[0] > 0) and np.all(r.czz[0].ravel()[1:] < 0)
