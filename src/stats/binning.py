"""Binning (blocking) of Monte Carlo time series along the last axis."""

import numpy as np


def _bin_reshape(x: np.ndarray, n_bins: int, bin_size: int) -> np.ndarray:
    """Means of `n_bins` bins of `bin_size`, taken from the end of the series.

    The leftover measurements are dropped at the start, where residual
    thermalisation is most likely.
    """
    kept = x[..., x.shape[-1] - n_bins * bin_size :]
    return kept.reshape(*x.shape[:-1], n_bins, bin_size).mean(axis=-1)


def _error_of_bin_means(means: np.ndarray) -> np.ndarray:
    """Standard error of the mean of independent bin means along the last axis."""
    return means.std(axis=-1, ddof=1) / np.sqrt(means.shape[-1])


def bin_means(x, n_bins: int) -> np.ndarray:
    """Means of `n_bins` equal-size bins along the last axis, shape (..., n_bins).

    The bin size is n // n_bins; the remainder is dropped at the start of the series.
    """
    x = np.asarray(x, dtype=float)
    n_meas = x.shape[-1]
    if not 1 <= n_bins <= n_meas:
        raise ValueError(f"n_bins={n_bins} must lie in [1, {n_meas}] (the series length)")
    return _bin_reshape(x, n_bins, n_meas // n_bins)


def binned_error(x, n_bins: int = 32) -> np.ndarray:
    """Standard error of the mean from the scatter of `n_bins` bin means.

    Valid when the bins are much longer than the autocorrelation time, so that
    the bin means are independent.
    """
    if n_bins < 2:
        raise ValueError("at least two bins are needed for an error estimate")
    return _error_of_bin_means(bin_means(x, n_bins))


def error_vs_bin_size(x, min_bins: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Standard error of the mean at bin sizes 1, 2, 4, ... (binning analysis).

    Sizes grow while at least `min_bins` bins remain. For correlated data the
    error rises with the bin size and levels off at the true error, once the
    bins are longer than a few autocorrelation times; the ratio of the plateau
    to the size-1 error squared is 2 tau_int.

    Returns (bin_sizes, errors) with errors shaped (..., len(bin_sizes)).
    """
    x = np.asarray(x, dtype=float)
    n_meas = x.shape[-1]
    if n_meas < 2 * min_bins:
        raise ValueError(f"series of {n_meas} is too short for {min_bins} bins of size >= 2")
    bin_sizes = 2 ** np.arange(int(np.log2(n_meas // min_bins)) + 1)
    errors = [_error_of_bin_means(_bin_reshape(x, n_meas // size, size)) for size in bin_sizes]
    return bin_sizes, np.stack(errors, axis=-1)
