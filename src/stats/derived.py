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


def summarize(
    observables: dict[str, np.ndarray],
    betas: np.ndarray,
    n_sites: int,
    J: float = 1.0,
    n_bins: int = 32,
) -> dict[str, Estimate]:
    """(value, error) per temperature for every observable and derived quantity.

    Keys: each observable's name (its mean); `specific_heat`, `susceptibility`,
    `susceptibility_connected`, `binder`, `helicity_modulus` when their inputs
    are present (see the functions above for the formulas); `tau_int_energy`
    and `tau_int_m2` as (tau_int, its Madras-Sokal error). All other errors are
    jackknife errors over `n_bins` bins, for which the first n_meas mod n_bins
    measurements are dropped.
    """
    betas = np.asarray(betas, dtype=float)
    series = {name: np.asarray(x, dtype=float) for name, x in observables.items()}
    summary = {name: jackknife(lambda mean: mean, x, n_bins=n_bins) for name, x in series.items()}

    def present(*names: str) -> bool:
        return all(name in series for name in names)

    if present("energy"):
        summary["specific_heat"] = specific_heat(
            series["energy"], betas, n_sites, n_bins, kinks=series.get("kinks")
        )
    if present("m2"):
        summary["susceptibility"] = susceptibility(series["m2"], betas, n_sites, n_bins)
    if present("m2", "m_abs"):
        summary["susceptibility_connected"] = susceptibility_connected(
            series["m2"], series["m_abs"], betas, n_sites, n_bins
        )
    if present("m2", "m4"):
        summary["binder"] = binder_cumulant(series["m2"], series["m4"], n_bins)
    if present("helicity_cos", "helicity_sin2"):
        summary["helicity_modulus"] = helicity_modulus(
            series["helicity_cos"], series["helicity_sin2"], betas, n_sites, J, n_bins
        )
    for name in ("energy", "m2"):
        if present(name):
            tau, tau_error, _ = tau_int(series[name])
            summary[f"tau_int_{name}"] = (tau, tau_error)
    return summary


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
