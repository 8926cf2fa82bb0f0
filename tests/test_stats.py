"""Statistics of Monte Carlo time series against processes with known answers."""

import numpy as np
import pytest
from scipy.signal import lfilter

from src.stats import (
    autocorrelation,
    bin_means,
    binned_error,
    error_vs_bin_size,
    format_summary_table,
    format_value_error,
    jackknife,
    summarize,
    tau_int,
)


def ar1(rho: float, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Stationary AR(1) x_t = rho x_{t-1} + sqrt(1 - rho^2) xi_t with unit variance."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(shape)
    start = rng.standard_normal((*shape[:-1], 1))  # x_{-1}, drawn from the stationary law
    x, _ = lfilter([np.sqrt(1 - rho**2)], [1.0, -rho], noise, axis=-1, zi=rho * start)
    return x


def exact_tau(rho: float) -> float:
    return (1 + rho) / (2 * (1 - rho))


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_tau_int_recovers_ar1(rho):
    x = ar1(rho, (2**18,), seed=1)
    tau, tau_error, window = tau_int(x, c=6.0)
    assert abs(tau - exact_tau(rho)) < 4 * tau_error
    # Sokal's window: the smallest W with W >= c tau_int(W).
    tau_of_window = 0.5 + np.cumsum(autocorrelation(x)[1:])
    assert tau == pytest.approx(tau_of_window[window - 1])
    assert window >= 6.0 * tau and window - 1 < 6.0 * tau_of_window[window - 2]
    assert tau_error < 0.05 * exact_tau(rho)  # the check above is not vacuous


def test_tau_int_error_matches_scatter_over_chains():
    tau, tau_error, _ = tau_int(ar1(0.5, (128, 2**14), seed=15))
    # Madras-Sokal is asymptotic and known to overestimate slightly at finite n.
    assert 0.65 < np.std(tau) / np.mean(tau_error) < 1.3


def test_autocorrelation_matches_direct_sum():
    x = np.random.default_rng(16).standard_normal((2, 50))
    fluctuation = x - x.mean(axis=-1, keepdims=True)
    direct = np.array([[np.dot(d[: 50 - t], d[t:]) for t in range(50)] for d in fluctuation])
    np.testing.assert_allclose(autocorrelation(x), direct / direct[:, :1], atol=1e-12)


def test_autocorrelation_of_ar1_is_geometric():
    rho = autocorrelation(ar1(0.8, (2**18,), seed=2))
    assert rho[0] == 1.0
    np.testing.assert_allclose(rho[1:6], 0.8 ** np.arange(1, 6), atol=0.02)


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_binned_error_matches_exact_error_of_mean(rho):
    n_chains, n_meas = 8, 2**16
    errors = binned_error(ar1(rho, (n_chains, n_meas), seed=3), n_bins=32)
    assert errors.shape == (n_chains,)
    exact = np.sqrt(2 * exact_tau(rho) / n_meas)
    assert abs(np.sqrt(np.mean(errors**2)) / exact - 1) < 0.2


def test_tau_int_and_binning_give_the_same_error_of_mean():
    x = ar1(0.9, (4, 2**16), seed=4)
    tau, _, _ = tau_int(x)
    from_tau = np.sqrt(2 * tau * x.var(axis=-1) / x.shape[-1])
    ratio = np.sqrt(np.mean(binned_error(x) ** 2) / np.mean(from_tau**2))
    assert abs(ratio - 1) < 0.2


def test_error_vs_bin_size_plateaus_at_the_true_error():
    n_meas = 2**16
    sizes, errors = error_vs_bin_size(ar1(0.9, (8, n_meas), seed=5), min_bins=32)
    assert list(sizes[:4]) == [1, 2, 4, 8] and n_meas // sizes[-1] >= 32
    assert errors.shape == (8, len(sizes))
    rms = np.sqrt(np.mean(errors**2, axis=0))
    np.testing.assert_allclose(rms[0], np.sqrt(1 / n_meas), rtol=0.05)  # naive iid error
    np.testing.assert_allclose(rms[-3:], np.sqrt(2 * exact_tau(0.9) / n_meas), rtol=0.2)


def test_bin_means_drops_the_remainder_at_the_start():
    np.testing.assert_array_equal(bin_means(np.arange(10.0), 3), [2.0, 5.0, 8.0])
    grid = np.arange(20.0).reshape(2, 10)
    np.testing.assert_array_equal(bin_means(grid, 3), [[2.0, 5.0, 8.0], [12.0, 15.0, 18.0]])
    with pytest.raises(ValueError):
        bin_means(np.arange(10.0), 11)


def test_jackknife_of_a_linear_function_is_the_binned_mean_and_error():
    x = np.random.default_rng(6).standard_normal((3, 1000))
    value, error = jackknife(lambda mean: 2 * mean, x, n_bins=20)
    kept = x[:, 1000 - 20 * 50 :]
    np.testing.assert_allclose(value, 2 * kept.mean(axis=-1))
    np.testing.assert_allclose(error, 2 * binned_error(x, n_bins=20))


def test_jackknife_error_agrees_with_error_propagation():
    mu, n_repeats, n_meas = 2.0, 500, 2048
    x = mu + np.random.default_rng(7).standard_normal((n_repeats, n_meas))
    value, error = jackknife(lambda mean: mean**2, x)
    propagated = 2 * mu / np.sqrt(n_meas)  # |d(mu^2)/d mu| * sigma / sqrt(n)
    assert abs(np.mean(error) / propagated - 1) < 0.03
    assert abs(np.std(value) / np.mean(error) - 1) < 0.15  # error = actual scatter


def test_jackknife_removes_the_order_one_over_n_bias():
    mu, n_repeats, n_meas = 0.2, 4000, 32
    x = mu + np.random.default_rng(8).standard_normal((n_repeats, n_meas))
    corrected, _ = jackknife(lambda mean: mean**2, x, n_bins=n_meas)
    naive = x.mean(axis=-1) ** 2  # E[naive] = mu^2 + 1/n
    standard_error = corrected.std() / np.sqrt(n_repeats)
    assert abs(corrected.mean() - mu**2) < 4 * standard_error
    assert naive.mean() - mu**2 > 10 * standard_error
    np.testing.assert_allclose(naive.mean() - mu**2, 1 / n_meas, rtol=0.2)


def test_jackknife_handles_several_series_and_any_leading_shape():
    rng = np.random.default_rng(9)
    a, b = 1 + rng.standard_normal((2, 3, 640)), 2 + rng.standard_normal((2, 3, 640))
    value, error = jackknife(lambda p, q: p / q, a, b)
    assert value.shape == error.shape == (2, 3)
    assert np.all(np.abs(value - 0.5) < 5 * error)
    value, error = jackknife(lambda p, q: p / q, a[0, 0], b[0, 0])
    assert value.shape == error.shape == ()
    with pytest.raises(ValueError):
        jackknife(lambda p, q: p / q, a, b[..., :-1])
    with pytest.raises(ValueError):  # func that mixes the jackknife samples
        jackknife(lambda p: p.sum(), a)


def test_specific_heat_equals_direct_variance_for_iid_energy():
    n_temps, n_meas, n_sites = 3, 4096, 64
    betas = np.array([0.3, 0.4, 0.5])
    energy = -1.5 + 0.1 * np.random.default_rng(10).standard_normal((n_temps, n_meas))
    direct = betas**2 * n_sites * energy.var(axis=-1, ddof=1)
    # With bins of one measurement the bias-corrected jackknife is the unbiased variance.
    value, _ = summarize({"energy": energy}, betas, n_sites, n_bins=n_meas)["specific_heat"]
    np.testing.assert_allclose(value, direct, rtol=1e-10)
    value, error = summarize({"energy": energy}, betas, n_sites)["specific_heat"]
    np.testing.assert_allclose(value, direct, rtol=0.02)
    # For Gaussian e, var(sample variance) = 2 var^2 / n.
    np.testing.assert_allclose(error, direct * np.sqrt(2 / n_meas), rtol=0.35)


def test_summarize_keys_and_shapes():
    rng = np.random.default_rng(11)
    n_temps, n_meas = 4, 512
    m = rng.standard_normal((n_temps, n_meas))
    observables = {
        "energy": rng.standard_normal((n_temps, n_meas)),
        "m2": m**2,
        "m4": m**4,
        "m_abs": np.abs(m),
        "corr_nn": rng.random((n_temps, n_meas)),
    }
    betas = np.linspace(0.3, 0.6, n_temps)
    summary = summarize(observables, betas, n_sites=16)
    assert set(summary) == set(observables) | {
        "specific_heat",
        "susceptibility",
        "susceptibility_connected",
        "binder",
        "tau_int_energy",
        "tau_int_m2",
        "error_bins",
    }
    value, error = summary["corr_nn"]
    np.testing.assert_allclose(value, observables["corr_nn"].mean(axis=-1))
    np.testing.assert_allclose(error, binned_error(observables["corr_nn"]))
    for name, (value, error) in summary.items():
        assert value.shape == error.shape == (n_temps,)
        assert np.all(error > 0) or name == "error_bins"
    single = summarize({name: x[0] for name, x in observables.items()}, betas[0], n_sites=16)
    for name, (value, error) in single.items():
        np.testing.assert_allclose(value, summary[name][0][0])
        assert value.shape == error.shape == ()
    assert set(summarize({"energy": observables["energy"]}, betas, 16)) == {
        "energy",
        "specific_heat",
        "tau_int_energy",
        "error_bins",
    }


def test_binder_cumulant_limits():
    rng = np.random.default_rng(12)
    gaussian = rng.standard_normal((1, 2**16))  # disordered: U = 0
    ordered = np.sign(rng.standard_normal((1, 2**16)))  # |m| = 1: U = 2/3
    for m, expected in [(gaussian, 0.0), (ordered, 2 / 3)]:
        value, error = summarize({"m2": m**2, "m4": m**4}, [0.5], 16)["binder"]
        assert abs(value[0] - expected) < max(4 * error[0], 1e-12)


def test_susceptibilities_and_helicity_modulus_formulas():
    rng = np.random.default_rng(13)
    n_meas, n_sites, beta, J = 1024, 100, 0.7, 1.3
    m_abs = rng.random(n_meas)
    cos_term, sin2_term = rng.random(n_meas), 0.01 * rng.random(n_meas)
    summary = summarize(
        {
            "m2": m_abs**2,
            "m_abs": m_abs,
            "helicity_cos": cos_term,
            "helicity_sin2": sin2_term,
        },
        beta,
        n_sites,
        J=J,
        n_bins=n_meas,
    )
    np.testing.assert_allclose(summary["susceptibility"][0], beta * n_sites * np.mean(m_abs**2))
    np.testing.assert_allclose(
        summary["susceptibility_connected"][0],
        beta * n_sites * n_meas / (n_meas - 1) * m_abs.var(),
    )
    np.testing.assert_allclose(
        summary["helicity_modulus"][0],
        J * cos_term.mean() - beta * J**2 * n_sites * sin2_term.mean(),
    )


def test_tau_int_of_a_constant_series_is_one_half():
    tau, tau_error, window = tau_int(np.ones((2, 100)))
    np.testing.assert_array_equal(tau, [0.5, 0.5])
    assert np.all(np.isfinite(tau_error)) and window.shape == (2,)


def test_tau_int_warns_when_the_series_is_too_short():
    with pytest.warns(RuntimeWarning):
        tau_int(ar1(0.99, (2000,), seed=14))


@pytest.mark.parametrize(
    ("value", "error", "text"),
    [
        (0.43214, 0.00123, "0.4321(12)"),
        (0.43214, 0.0996, "0.43(10)"),
        (1.5, 0.25, "1.50(25)"),
        (1234.4, 56.0, "1234(56)"),
        (12345.0, 123.0, "12340(120)"),
        (0.5, 0.0, "0.5"),
    ],
)
def test_format_value_error(value, error, text):
    assert format_value_error(value, error) == text


def test_format_summary_table_has_one_row_per_temperature():
    summary = {
        "energy": (np.array([-1.2, -0.8]), np.array([0.0012, 0.0021])),
        "binder": (np.array([0.61, 0.2]), np.array([0.01, 0.02])),
    }
    lines = format_summary_table(summary, np.array([2.0, 2.5])).splitlines()
    assert len(lines) == 3
    assert lines[0].split() == ["T", "energy", "binder"]
    assert lines[1].split() == ["2", "-1.2000(12)", "0.610(10)"]
    assert len({len(line) for line in lines}) == 1  # aligned columns
