"""Physical quantities with jackknife errors from per-measurement observable series.

Every series is shaped (n_T, n_meas) (or (n_meas,) for a single temperature),
holding one value per measurement:
    energy          e = E / N, the energy per site
    m2, m4, m_abs   m^2, m^4 and |m| of the order parameter per site m = M / N
    helicity_cos    (1/(2N)) sum_i [cos(th_i - th_{i+x}) + cos(th_i - th_{i+y})]
    helicity_sin2   [(sum_i sin(th_i - th_{i+x}))^2 + (sum_i sin(th_i - th_{i+y}))^2] / (2 N^2)
    kinks           the expansion order per site (quantum models; enters the specific heat)
and any others (corr_nn, improved_nn, m, chi_z, stiffness, ...), of which only the mean is taken.
"""

import warnings
from collections.abc import Sequence

import numpy as np

from .autocorr import tau_int
from .jackknife import jackknife

Estimate = tuple[np.ndarray, np.ndarray]


def specific_heat(energy, beta, n_sites: int, n_bins: int = 32, kinks=None) -> Estimate:
    """Specific heat per site c = beta^2 N (<e^2> - <e>^2), e the energy per site.

    Continuous-time quantum Monte Carlo: c = beta^2 N (<e^2> - <e>^2) - <kinks>, kinks the
    expansion order per site (derived in src.sampling.quantum.estimators).
    """
    energy = np.asarray(energy, dtype=float)
    # c does not depend on a shift of e; centring avoids cancellation in <e^2> - <e>^2.
    energy = energy - energy.mean(axis=-1, keepdims=True)
    if kinks is None:
        return jackknife(lambda e, e2: beta**2 * n_sites * (e2 - e**2), energy, energy**2, n_bins=n_bins)
    return jackknife(
        lambda e, e2, k: beta**2 * n_sites * (e2 - e**2) - k, energy, energy**2, kinks, n_bins=n_bins
    )


def susceptibility(m2, beta, n_sites: int, n_bins: int = 32) -> Estimate:
    """Susceptibility per site chi = beta N <m^2>.

    Not subtracting <m>^2 is right in a finite system, where <m> = 0 by symmetry.
    """
    return jackknife(lambda sq: beta * n_sites * sq, m2, n_bins=n_bins)


def susceptibility_connected(m2, m_abs, beta, n_sites: int, n_bins: int = 32) -> Estimate:
    """Connected susceptibility per site chi' = beta N (<m^2> - <|m|>^2).

    The finite-size stand-in for the susceptibility below the critical temperature.
    """
    return jackknife(lambda sq, ab: beta * n_sites * (sq - ab**2), m2, m_abs, n_bins=n_bins)


def binder_cumulant(m2, m4, n_bins: int = 32) -> Estimate:
    """Binder cumulant U = 1 - <m^4> / (3 <m^2>^2).

    Normalised for a scalar order parameter: U -> 2/3 in the ordered phase and
    U -> 0 in the disordered one. For an n-component vector order parameter the
    disordered limit is 1 - (n + 2)/(3n) instead (1/3 for n = 2).
    """
    return jackknife(lambda sq, qu: 1.0 - qu / (3.0 * sq**2), m2, m4, n_bins=n_bins)


def helicity_modulus(
    helicity_cos, helicity_sin2, beta, n_sites: int, J: float = 1.0, n_bins: int = 32
) -> Estimate:
    """Helicity modulus (spin stiffness) Y = J <helicity_cos> - beta J^2 N <helicity_sin2>.

    This is Y = (1/N) [<sum_i J cos(th_i - th_{i+mu})> - beta <(sum_i J sin(th_i - th_{i+mu}))^2>]
    averaged over mu = x, y; the term beta <sum_i J sin>^2 / N vanishes by symmetry
    and is left out. Kosterlitz-Thouless: Y jumps to 0 from 2 T / pi in the
    thermodynamic limit.
    """
    return jackknife(
        lambda hc, hs2: J * hc - beta * J**2 * n_sites * hs2,
        helicity_cos,
        helicity_sin2,
        n_bins=n_bins,
    )


BIN_LENGTH_IN_TAU = 20  # error bins span at least this many autocorrelation times
MIN_BINS = 8  # fewer bins of that length: the series is too short for a reliable error


def error_bins(tau, n_meas: int, most: int) -> np.ndarray:
    """Bins per temperature for the jackknife: as many as `most` whose length is at least
    BIN_LENGTH_IN_TAU (tau - 1/2) measurements (tau - 1/2 is the correlation beyond that of
    independent data, so an uncorrelated series keeps `most` bins), and at least two."""
    excess = np.maximum(np.asarray(tau, dtype=float) - 0.5, 0.0)
    length = np.maximum(1.0, np.ceil(BIN_LENGTH_IN_TAU * excess))
    return np.clip(n_meas // length, 2, min(most, n_meas)).astype(int)


def summarize(
    observables: dict[str, np.ndarray],
    betas: np.ndarray,
    n_sites: int,
    J: float = 1.0,
    n_bins: int = 32,
    bin_in_tau: bool = True,
) -> dict[str, Estimate]:
    """(value, error) per temperature for every observable and derived quantity.

    Keys: each observable's name (its mean); `specific_heat`, `susceptibility`,
    `susceptibility_connected`, `binder`, `helicity_modulus` when their inputs
    are present (see the functions above for the formulas); `tau_int_energy`
    and `tau_int_m2` as (tau_int, its Madras-Sokal error); `error_bins`, the fewest
    bins any quantity's error used at each temperature (with error 0).

    Errors are delete-one jackknife errors over at most `n_bins` bins per temperature (the first
    n_meas mod bins measurements dropped). With bin_in_tau the bins of a quantity are long enough for
    its most correlated input series at that temperature (error_bins, from each series' tau_int);
    fewer than MIN_BINS bins means the series is too short for a reliable error (`short_series`).
    """
    betas = np.asarray(betas, dtype=float)
    single = np.ndim(next(iter(observables.values()))) == 1
    series = {name: np.atleast_2d(np.asarray(x, dtype=float)) for name, x in observables.items()}
    betas = np.atleast_1d(betas)
    n_T, n_meas = next(iter(series.values())).shape
    with warnings.catch_warnings():  # short series are flagged through their bins instead
        warnings.simplefilter("ignore", RuntimeWarning)
        taus = {name: tau_int(x) for name, x in series.items()}
    fewest = np.full(n_T, min(n_bins, n_meas))

    def estimate(compute, *inputs: str) -> Estimate:
        """compute(rows, bins) for the temperature rows that share a number of bins."""
        nonlocal fewest
        if bin_in_tau:
            bins = error_bins(np.max([taus[name][0] for name in inputs], axis=0), n_meas, n_bins)
        else:
            bins = np.full(n_T, min(n_bins, n_meas))
        fewest = np.minimum(fewest, bins)
        value, error = np.empty(n_T), np.empty(n_T)
        for b in np.unique(bins):
            rows = bins == b
            value[rows], error[rows] = compute(rows, int(b))
        return value, error

    summary = {
        name: estimate(lambda rows, b, x=x: jackknife(lambda mean: mean, x[rows], n_bins=b), name)
        for name, x in series.items()
    }

    def present(*names: str) -> bool:
        return all(name in series for name in names)

    if present("energy"):
        kinks = series.get("kinks")
        summary["specific_heat"] = estimate(
            lambda rows, b: specific_heat(
                series["energy"][rows], betas[rows], n_sites, b, kinks=None if kinks is None else kinks[rows]
            ),
            "energy",
            *(["kinks"] if kinks is not None else []),
        )
    if present("m2"):
        summary["susceptibility"] = estimate(
            lambda rows, b: susceptibility(series["m2"][rows], betas[rows], n_sites, b), "m2"
        )
    if present("m2", "m_abs"):
        summary["susceptibility_connected"] = estimate(
            lambda rows, b: susceptibility_connected(
                series["m2"][rows], series["m_abs"][rows], betas[rows], n_sites, b
            ),
            "m2",
            "m_abs",
        )
    if present("m2", "m4"):
        summary["binder"] = estimate(
            lambda rows, b: binder_cumulant(series["m2"][rows], series["m4"][rows], b), "m2", "m4"
        )
    if present("helicity_cos", "helicity_sin2"):
        summary["helicity_modulus"] = estimate(
            lambda rows, b: helicity_modulus(
                series["helicity_cos"][rows], series["helicity_sin2"][rows], betas[rows], n_sites, J, b
            ),
            "helicity_cos",
            "helicity_sin2",
        )
    for name in ("energy", "m2"):
        if present(name):
            tau, tau_error, _ = taus[name]
            summary[f"tau_int_{name}"] = (tau, tau_error)
    summary["error_bins"] = (fewest.astype(float), np.zeros(n_T))
    if single:
        summary = {name: (v[0], e[0]) for name, (v, e) in summary.items()}
    return summary


def short_series(summary: dict, temperatures) -> str | None:
    """A one-line warning naming the temperatures whose series were too short for reliable errors
    (fewer than MIN_BINS bins of BIN_LENGTH_IN_TAU tau_int), or None."""
    if "error_bins" not in summary:
        return None
    bins = np.atleast_1d(summary["error_bins"][0])
    short = np.atleast_1d(temperatures)[bins < MIN_BINS]
    if not short.size:
        return None
    return (
        f"warning: at T = {', '.join(f'{T:.5g}' for T in short)} the series is shorter than "
        f"{MIN_BINS} bins of {BIN_LENGTH_IN_TAU} tau_int: the errors there are unreliable; measure longer"
    )


def format_value_error(value: float, error: float, error_digits: int = 2) -> str:
    """Compact notation with the error in the last digits: 0.4321(12), 1234(56), 12340(120)."""
    if not (np.isfinite(value) and np.isfinite(error)) or error <= 0:
        return f"{value:.6g}"
    # Round the error first so that e.g. 0.0996 becomes 0.10, not 0.100.
    rounded_error = float(f"{error:.{error_digits - 1}e}")
    decimals = error_digits - 1 - int(np.floor(np.log10(rounded_error)))
    if decimals >= 0:
        return f"{value:.{decimals}f}({round(rounded_error * 10**decimals)})"
    scale = 10.0**-decimals
    return f"{round(value / scale) * scale:.0f}({round(rounded_error / scale) * scale:.0f})"


def format_summary_table(
    summary: dict[str, Estimate],
    temperatures: np.ndarray,
    columns: Sequence[str] | None = None,
) -> str:
    """Plain-text table, one row per temperature, entries as value(error).

    `columns` picks and orders the quantities; by default all, in summary order.
    """
    columns = list(summary) if columns is None else list(columns)
    temperatures = np.atleast_1d(np.asarray(temperatures, dtype=float))
    rows = [["T", *columns]]
    for i, temperature in enumerate(temperatures):
        cells = [f"{temperature:.5g}"]
        for name in columns:
            value, error = (np.atleast_1d(a)[i] for a in summary[name])
            cells.append(format_value_error(value, error))
        rows.append(cells)
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in rows)


HEADLINE = [
    "energy",
    "specific_heat",
    "m_abs",
    "susceptibility",
    "binder",
    "helicity_modulus",
    "stiffness",
    "chi_z",
    "chi_x",
    "corr_nn",
    "improved_nn",
    "czz_nn",
    "cxx_nn",
    "tau_int_energy",
]


def headline_columns(summary: dict) -> list[str]:
    """The columns worth a first look, of those present."""
    return [c for c in HEADLINE if c in summary]
