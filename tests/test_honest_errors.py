"""Error bars that hold (src/stats/derived.py: bins of at least 20 tau_int per series and
temperature): against the exact variance of the mean of an autocorrelated process, and against the
scatter of independent Metropolis chains at the Ising critical point, where bins of a fixed number
make the errors too small."""

import numpy as np
import pytest
from helpers import N_SIGMA, sample_runs
from test_stats import ar1

from src.stats.derived import MIN_BINS, short_series, summarize
from src.storage.reader import RunFile


def test_errors_of_an_autocorrelated_series_match_the_exact_variance_of_its_mean():
    """400 AR(1) series, rho = 0.96 (tau_int = 24.5), 5000 steps each: the mean squared error the
    summary reports is the exact variance of the mean within 4 sigma (measured 0.986(30) of it). With
    32 bins regardless of tau (6.4 tau long) it is too small by more than 4 sigma (measured 0.851(11))."""
    rho, n, rows = 0.96, 5000, 400
    x = ar1(rho, (rows, n), seed=21)
    lags = np.arange(1, n)
    exact = (1 + 2 * np.sum((1 - lags / n) * rho**lags)) / n
    ratios = {}
    for bin_in_tau in (True, False):
        _, error = summarize({"x": x}, np.ones(rows), 1, bin_in_tau=bin_in_tau)["x"]
        ratios[bin_in_tau] = (np.mean(error**2) / exact, np.std(error**2) / rows**0.5 / exact)
    (ratio, sigma), (fixed, fixed_sigma) = ratios[True], ratios[False]
    assert abs(ratio - 1) < N_SIGMA * sigma, ratios
    assert fixed < 1 - N_SIGMA * fixed_sigma, ratios


@pytest.fixture(scope="module")
def critical_metropolis(tmp_path_factory):
    """128 independent Metropolis chains of the Ising model, L = 32 at T_c (tau_int of m^2 ~ 36)."""
    sets = ["model.L=32", "update=metropolis", "temperatures=[2.269185]", "replicas=128", "seed=3"]
    sets += ["sweeps.thermalize=3000", "sweeps.measure=6000", "snapshots.representations=[spin]"]
    sets += ["snapshots.every=6000"]
    path = sample_runs(tmp_path_factory.mktemp("metropolis"), {"run": sets})["run"]
    with RunFile(path) as run:
        return run.observable("m2")[0].reshape(128, -1)


def test_errors_of_independent_critical_chains_match_their_scatter(critical_metropolis):
    """Each chain's m^2 with its own error: the variance of the 128 means over the mean squared
    error is 1 within 4 sigma of its own statistical error sqrt(2/127) (measured 1.24 with bins of
    20 tau_int, about 650 sweeps, 9 per chain). With 32 bins of 190 sweeps (5 tau_int) the errors are
    too small: the ratio is 1.57, beyond that bound."""
    chains = len(critical_metropolis)
    bound = N_SIGMA * (2 / (chains - 1)) ** 0.5
    ratios = {}
    for bin_in_tau in (True, False):
        summary = summarize({"m2": critical_metropolis}, np.ones(chains), 1024, bin_in_tau=bin_in_tau)
        value, error = summary["m2"]
        ratios[bin_in_tau] = value.var(ddof=1) / np.mean(error**2)
    assert abs(ratios[True] - 1) < bound, ratios
    assert ratios[False] > 1 + bound, ratios


def test_series_too_short_for_their_autocorrelation_are_flagged(critical_metropolis):
    """A few hundred sweeps of a chain with tau_int ~ 36: fewer than MIN_BINS bins of 20 tau_int, and
    the summary says so in one line naming the temperature. 20000 steps of tau_int = 1.5 are enough."""
    short = summarize({"m2": critical_metropolis[:2, :400]}, [0.4, 0.5], 1024)
    assert (short["error_bins"][0] < MIN_BINS).all()
    assert short_series(short, [2.5, 2.0]) == (
        "warning: at T = 2.5, 2 the series is shorter than 8 bins of 20 tau_int: the errors there are "
        "unreliable; measure longer"
    )
    enough = summarize({"m2": ar1(0.5, (1, 20000), seed=4)}, [0.44], 1024)
    assert enough["error_bins"][0][0] == 32 and short_series(enough, [2.269185]) is None
