"""Cross-checks of the exact reference results: Kaufman's formula, enumeration and the
transfer matrix against each other, against the definitions and against known limits."""

import math

import numpy as np
import pytest
from scipy.special import ellipk

from src.exact import (
    boltzmann_probabilities,
    enumerate_states,
    exact_averages,
    ising_critical_temperature,
    ising_torus,
    transfer_matrix_averages,
)

BETA_C = math.log1p(math.sqrt(2)) / 2


def direct_energy_and_m2(model, q, J, states):
    """E and m^2 of each state straight from the definitions, bond by bond with np.roll
    (on L = 2 the roll pairs each site with its neighbour twice: 8 bonds)."""
    n_sites = states[0].size
    if model == "ising":
        values = states.astype(float)

        def pair(a, b):
            return -J * a * b

        m2 = (values.sum(axis=(1, 2)) / n_sites) ** 2
    elif model == "potts":
        values = states

        def pair(a, b):
            return -J * (a == b)

        density = np.stack([(states == a).mean(axis=(1, 2)) for a in range(q)])
        m2 = (q * (density**2).sum(axis=0) - 1) / (q - 1)
    else:
        values = 2 * np.pi * states / q

        def pair(a, b):
            return -J * np.cos(a - b)

        m2 = np.abs(np.exp(1j * values).sum(axis=(1, 2)) / n_sites) ** 2
    energy = sum(pair(values, np.roll(values, -1, axis=axis)).sum(axis=(1, 2)) for axis in (1, 2))
    return energy, m2


@pytest.mark.parametrize(
    "model, L, q",
    [
        ("ising", 2, None),
        ("ising", 4, None),
        ("potts", 2, 5),
        ("potts", 3, 3),
        ("clock", 2, 6),
        ("clock", 3, 6),
    ],
)
def test_enumeration_matches_definitions(model, L, q):
    J = 0.7
    listed = enumerate_states(model, L, q, J)
    n_levels = 2 if model == "ising" else q
    assert listed.states.shape == (n_levels ** (L * L), L, L)
    pick = np.random.default_rng(1).choice(len(listed.energy), 5000)
    energy, m2 = direct_energy_and_m2(model, q, J, listed.states[pick])
    np.testing.assert_allclose(listed.energy[pick], energy, rtol=0, atol=1e-12)
    np.testing.assert_allclose(listed.m2[pick], m2, rtol=0, atol=1e-12)
    if len(listed.energy) <= 1 << 16:  # every configuration exactly once
        assert len(np.unique(listed.states.reshape(len(listed.energy), -1), axis=0)) == len(listed.energy)


def test_two_by_two_torus_has_eight_bonds():
    listed = enumerate_states("ising", 2, None, J=1.0)
    assert listed.energy.min() == -8.0
    beta = 20.0  # only the two ground states contribute
    assert ising_torus(2, beta).lnZ == pytest.approx(math.log(2) + 8 * beta, abs=1e-12)
    assert exact_averages("ising", 2, None, beta).lnZ == pytest.approx(math.log(2) + 8 * beta, abs=1e-12)


@pytest.mark.parametrize("beta", [50.0, 1.3, 0.2])
def test_probabilities_are_normalised_boltzmann_weights(beta):
    listed = enumerate_states("clock", 3, 4, J=1.0)
    prob = boltzmann_probabilities("clock", 3, 4, beta, J=1.0)
    assert np.all(np.isfinite(prob)) and np.all(prob >= 0)
    assert prob.sum() == pytest.approx(1.0, abs=1e-12)
    ground = np.argmin(listed.energy)
    excited = np.argmin(np.where(listed.energy > listed.energy[ground] + 1e-9, listed.energy, np.inf))
    log_ratio = math.log(prob[excited]) - math.log(prob[ground])
    gap = listed.energy[excited] - listed.energy[ground]
    assert log_ratio == pytest.approx(-beta * gap, rel=1e-12)
    averages = exact_averages("clock", 3, 4, beta)
    assert averages.m2 == pytest.approx(prob @ listed.m2, rel=1e-12)
    assert averages.m4 == pytest.approx(prob @ listed.m2**2, rel=1e-12)


@pytest.mark.parametrize("L", [2, 3, 4])
@pytest.mark.parametrize(
    "beta, J", [(1e-3, 1), (0.1, 1), (0.3, 1), (BETA_C, 1), (0.6, 1), (1.5, 1), (0.5, 0.7)]
)
def test_ising_torus_matches_enumeration(L, beta, J):
    formula = ising_torus(L, beta, J)
    summed = exact_averages("ising", L, None, beta, J)
    assert formula.lnZ == pytest.approx(summed.lnZ, rel=1e-12)
    assert formula.energy == pytest.approx(summed.energy, rel=1e-9, abs=1e-12)
    assert formula.specific_heat == pytest.approx(summed.specific_heat, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("L", [16, 64])
def test_ising_torus_derivatives_match_finite_differences(L):
    """Covers both branches of Z4's k = 0 factor (|L g_0 / 2| = 1 at K_c +- 1/2L)."""
    for beta in BETA_C + np.linspace(-2, 2, 9) / L:
        h = 1e-4 * beta
        lnZ = [ising_torus(L, beta + k * h).lnZ for k in (-2, -1, 0, 1, 2)]
        first = (lnZ[0] - 8 * lnZ[1] + 8 * lnZ[3] - lnZ[4]) / (12 * h)
        second = (-lnZ[0] + 16 * lnZ[1] - 30 * lnZ[2] + 16 * lnZ[3] - lnZ[4]) / (12 * h**2)
        result = ising_torus(L, beta)
        assert result.energy == pytest.approx(-first / L**2, abs=1e-8)
        assert result.specific_heat == pytest.approx(beta**2 * second / L**2, rel=1e-5)


def onsager_energy(beta):
    """Infinite-lattice energy per site, J = 1."""
    K = beta
    modulus = 2 * math.sinh(2 * K) / math.cosh(2 * K) ** 2
    bracket = 1 + 2 / math.pi * (2 * math.tanh(2 * K) ** 2 - 1) * ellipk(modulus**2)
    return -bracket / math.tanh(2 * K)


@pytest.mark.parametrize("beta", [0.3, 0.6])
def test_large_torus_away_from_criticality_is_onsager(beta):
    assert ising_torus(256, beta).energy == pytest.approx(onsager_energy(beta), abs=1e-12)


def test_critical_energy_approaches_minus_sqrt2_as_one_over_L():
    """e(L) = -sqrt2 - a/L + O(1/L^2) at T_c, a = 2 th2 th3 th4 / (th2 + th3 + th4) with
    Jacobi thetas of nome exp(-pi): 0.0049 above -sqrt2 at L = 128, not within 1e-3."""
    nome, n = math.exp(-math.pi), np.arange(1, 20)
    theta2 = 2 * np.sum(nome ** ((n - 0.5) ** 2))
    theta3 = 1 + 2 * np.sum(nome ** (n**2))
    theta4 = 1 + 2 * np.sum((-1) ** n * nome ** (n**2))
    amplitude = 2 * theta2 * theta3 * theta4 / (theta2 + theta3 + theta4)
    L = 128
    energy = ising_torus(L, BETA_C).energy
    assert abs(energy + math.sqrt(2)) < 1e-2
    assert energy == pytest.approx(-math.sqrt(2) - amplitude / L, abs=1e-6)


def test_critical_specific_heat_grows_like_log_L():
    """c(T_c) = A0 ln L + const with A0 = (8/pi) K_c^2 = (2/pi) ln^2(1 + sqrt2)."""
    slope = (ising_torus(256, BETA_C).specific_heat - ising_torus(64, BETA_C).specific_heat) / math.log(4)
    assert slope == pytest.approx(2 / math.pi * math.log1p(math.sqrt(2)) ** 2, rel=0.01)


def test_critical_temperature():
    assert ising_critical_temperature() == pytest.approx(2.269185314213022, rel=1e-15)
    assert ising_critical_temperature(J=0.5) == pytest.approx(1.134592657106511, rel=1e-15)
    assert 1 / ising_critical_temperature() == pytest.approx(BETA_C, rel=1e-15)


@pytest.mark.parametrize("beta", [0.3, 1.2])
def test_potts_two_states_is_ising_with_energy_shift(beta):
    """-J s_i s_j = -2J delta(s_i, s_j) + J, so E_potts(J_p = 2J) = E_ising - 2N J."""
    J, L = 0.8, 3
    potts = exact_averages("potts", L, 2, beta, J=2 * J)
    ising = exact_averages("ising", L, None, beta, J=J)
    assert potts.energy == pytest.approx(ising.energy - 2 * J, rel=1e-12)
    assert potts.specific_heat == pytest.approx(ising.specific_heat, rel=1e-10)
    assert potts.m2 == pytest.approx(ising.m2, rel=1e-12)
    assert potts.m4 == pytest.approx(ising.m4, rel=1e-12)
    assert potts.lnZ == pytest.approx(ising.lnZ + 2 * L * L * beta * J, rel=1e-12)


@pytest.mark.parametrize(
    "model, L, q, beta",
    [
        ("potts", 3, 3, 0.8),
        ("potts", 3, 3, 1.4),
        ("clock", 3, 6, 1.1),
        ("potts", 2, 4, 0.9),
        ("ising", 4, None, BETA_C),
    ],
)
def test_transfer_matrix_matches_enumeration(model, L, q, beta):
    J = 1.3
    matrix = transfer_matrix_averages(model, L, q, beta, J)
    summed = exact_averages(model, L, q, beta, J)
    assert matrix.energy == pytest.approx(summed.energy, rel=1e-10)
    assert matrix.m2 == pytest.approx(summed.m2, rel=1e-10)
    assert matrix.lnZ == pytest.approx(summed.lnZ, rel=1e-12)
    assert matrix.correlation[0, 0] == pytest.approx(1.0, rel=1e-12)
    assert matrix.correlation.sum() / L**2 == pytest.approx(matrix.m2, rel=1e-12)


@pytest.mark.parametrize("beta", [0.25, BETA_C, 0.7])
def test_transfer_matrix_ising_matches_kaufman(beta):
    matrix = transfer_matrix_averages("ising", 4, None, beta)
    formula = ising_torus(4, beta)
    assert matrix.energy == pytest.approx(formula.energy, rel=1e-11)
    assert matrix.lnZ == pytest.approx(formula.lnZ, rel=1e-12)
    assert matrix.nn_correlation == pytest.approx(-formula.energy / 2, rel=1e-11)


def test_invalid_requests_raise():
    with pytest.raises(ValueError, match="enumeration limit"):
        exact_averages("clock", 4, 6, 1.0)
    with pytest.raises(ValueError, match="transfer-matrix limit"):
        transfer_matrix_averages("clock", 5, 6, 1.0)
    with pytest.raises(ValueError, match="unknown model"):
        enumerate_states("xy", 2, 4)
    with pytest.raises(ValueError, match="q = 2"):
        exact_averages("ising", 2, 3, 1.0)
    with pytest.raises(ValueError, match="integer q"):
        exact_averages("potts", 2, None, 1.0)
    with pytest.raises(ValueError, match="L must be"):
        ising_torus(1, 0.4)
    with pytest.raises(ValueError, match="beta J"):
        ising_torus(4, -0.4)
    with pytest.raises(ValueError, match="beta J"):
        ising_torus(4, 1e-5)
