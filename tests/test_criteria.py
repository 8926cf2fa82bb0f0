"""Criteria of the classifier evaluation (src.analysis.criteria) on synthetic output curves whose
crossings are known exactly, the combination over training seeds, and the assignment of networks
to files (shared by all sizes, or one per size)."""

from __future__ import annotations

import numpy as np
import pytest

from src.analysis.classify import ClassifyError, assign
from src.analysis.criteria import Combined, CriterionError, estimates, fit

T_C = 0.9
SIZES = (16, 32, 64, 128)
T = np.linspace(0.6, 1.3, 57)


def curve(L, offset=0.8, noise=0.0, seed=0):
    """P_L(T) = 1 / (1 + exp((T - T_c) L + offset)): every size crosses every other at T_c, where
    P = 1/(1 + e^offset) != 1/2, so the P = 1/2 crossing lies at T_c - offset / L."""
    p = 1 / (1 + np.exp((T - T_C) * L + offset))
    p = p + noise * np.random.default_rng([seed, L]).normal(size=T.size)
    return {"path": f"L{L}.h5", "L": L, "T": T, "output": p, "error": np.full(T.size, 1e-3)}


def test_half_crossing_drifts_as_one_over_L_and_the_fit_removes_the_drift():
    points = estimates("half", [[curve(L) for L in SIZES]])
    for p, L in zip(points, SIZES):
        assert abs(p.value - (T_C - 0.8 / L)) < 2e-3  # linear interpolation on a 0.0125 grid
    extrapolated = fit(points, "power", nu=1.0)
    assert abs(extrapolated.T_c - T_C) < 2e-3 and extrapolated.dof == 2


def test_pairs_cross_at_T_c_for_every_pair_despite_noise_on_the_plateaus():
    # noise of 0.01 puts many sign changes of P_L1 - P_L2 where both curves are ~1 or ~0
    members = [[curve(L, noise=1e-2, seed=1) for L in SIZES]]
    difference = members[0][0]["output"] - members[0][1]["output"]
    assert np.sum(np.diff(np.sign(difference)) != 0) > 3
    points = estimates("pairs", members)
    assert [p.label for p in points] == ["16/32", "32/64", "64/128"]
    assert np.allclose([p.L for p in points], [16 * 2**0.5, 32 * 2**0.5, 64 * 2**0.5])
    for p in points:
        assert abs(p.value - T_C) < 5e-3, p.label


def test_pairs_refuse_curves_on_different_temperatures():
    other = curve(32)
    other["T"] = T + 0.01
    with pytest.raises(CriterionError, match="different temperatures"):
        estimates("pairs", [[curve(16), other]])


def test_seeds_combine_as_mean_with_bootstrap_and_seed_spread():
    point = Combined("16", 16, ((0.90, 0.01), (0.94, 0.03), (0.92, 0.02)))
    assert np.isclose(point.value, 0.92) and np.isclose(point.statistical, 0.02)
    assert np.isclose(point.seed_sd, 0.02)
    assert np.isclose(point.error, np.hypot(0.02, 0.02 / np.sqrt(3)))
    assert "seed s.d. 0.02 over 3 networks" in point.line()
    missing = Combined("16", 16, ((0.9, 0.01), None))
    assert not missing.complete and missing.line() == "no crossing (1 of 2 networks)"


def test_a_member_fit_uses_that_members_values_only():
    members = [[curve(L, offset=o) for L in SIZES] for o in (0.5, 1.0)]
    points = estimates("half", members)
    alone = [fit(points, "power", 1.0, member=i) for i in range(2)]
    assert all(abs(f.T_c - T_C) < 3e-3 for f in alone)
    assert np.isclose(fit(points, "power", 1.0).T_c, np.mean([f.T_c for f in alone]), atol=1e-3)


def test_pairs_that_share_a_file_carry_the_covariance_their_scatter_shows():
    """2000 noisy realisations of the curves of L = 16, 32, 64 (s.d. 0.002 per point, small beside
    the change of P_L1 - P_L2 over a step of T, where the propagation is linear): the crossings
    16/32 and 32/64 share the noise of L = 32. Their propagated errors and covariance match the
    scatter of the realisations (the correlation coefficient within 4 sigma of its estimate, the
    variances within 4 sigma), and so does the error of the extrapolation that uses them."""
    n, sigma = 2000, 0.002
    rows, propagated, fits = [], [], []
    for seed in range(n):
        members = [[curve(L, noise=sigma, seed=seed) | {"error": np.full(T.size, sigma)} for L in SIZES[:3]]]
        points = estimates("pairs", members)
        rows.append([p.value for p in points])
        propagated.append(
            [points[0].statistical ** 2, points[1].statistical ** 2, points[0].next_covariance[0]]
        )
        fits.append(fit(points, "power", 1.0))
    rows, (var0, var1, cov) = np.array(rows), np.mean(propagated, axis=0)
    measured = np.cov(rows.T)
    for k, var in enumerate((var0, var1)):
        assert abs(measured[k, k] / var - 1) < 4 * np.sqrt(2 / n), (measured[k, k], var)
    rho, rho_measured = cov / np.sqrt(var0 * var1), measured[0, 1] / np.sqrt(measured[0, 0] * measured[1, 1])
    assert rho < -0.2 and abs(rho_measured - rho) < 4 * (1 - rho**2) / np.sqrt(n), (rho_measured, rho)
    T_c = np.array([f.T_c for f in fits])
    error = np.mean([f.T_c_error for f in fits])
    assert abs(T_c.std(ddof=1) / error - 1) < 4 / np.sqrt(2 * n), (T_c.std(ddof=1), error)


def test_a_training_spread_shared_by_every_size_enters_the_extrapolation_in_full():
    """Five networks whose outputs are the same curves shifted in T by their own offset: T_c of each
    moves by its offset, so the mean's error is the offsets' s.d. / sqrt(5), not less."""
    offsets = np.array([-0.02, -0.01, 0.0, 0.015, 0.025])
    members = []
    for shift in offsets:
        curves = [curve(L) for L in SIZES]
        members.append([c | {"T": c["T"] + shift} for c in curves])
    combined = fit(estimates("half", members), "power", 1.0)
    assert np.isclose(combined.T_c, T_C + offsets.mean(), atol=2e-3)
    expected = offsets.std(ddof=1) / np.sqrt(offsets.size)
    assert abs(combined.T_c_error / expected - 1) < 0.02, (combined.T_c_error, expected)


class Net:
    def __init__(self, sizes, seed):
        self.sizes, self.seed, self.path = tuple(sizes), seed, f"net_{sizes}_{seed}"


def test_networks_of_the_same_sizes_read_every_file_ordered_by_seed():
    nets = [Net((16, 32), 2), Net((16, 32), 1)]
    mode, networks = assign(nets, [16, 32, 64])
    assert mode == "shared" and networks[64] == [nets[1], nets[0]]


def test_one_network_per_size_reads_its_own_size():
    nets = [Net((L,), s) for L in (16, 32) for s in (1, 2)]
    mode, networks = assign(nets, [16, 32])
    assert mode == "per size" and [n.sizes for n in networks[32]] == [(32,), (32,)]
    with pytest.raises(ClassifyError, match="no network trained on L = 64"):
        assign(nets, [16, 32, 64])
    with pytest.raises(ClassifyError, match="as many networks"):
        assign(nets[:3], [16, 32])
    with pytest.raises(ClassifyError, match="different sets of sizes"):
        assign([Net((16, 32), 1), Net((64,), 1)], [16, 64])
