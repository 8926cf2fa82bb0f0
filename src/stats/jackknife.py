"""Delete-one jackknife over bins, for nonlinear functions of several means."""

from collections.abc import Callable

import numpy as np

from .binning import bin_means


def jackknife(func: Callable[..., np.ndarray], *series, n_bins: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Bias-corrected estimate and error of func(<series_1>, <series_2>, ...).

    Every series (time on the last axis, equal lengths) is cut into the same
    `n_bins` bins. `func` receives one mean per series, each shaped
    (k, *leading_shape), and must act independently along that prepended axis
    k (elementwise numpy arithmetic does; arrays of the leading shape, such as
    betas of shape (n_T,), broadcast against it). All leave-one-out means and
    the full mean go through a single call, so there is no loop over bins.

    With f_i the value with bin i left out and f the value on all bins,
        estimate = n f - (n - 1) mean_i(f_i)          (removes the O(1/n) bias)
        error    = sqrt((n - 1)/n * sum_i (f_i - mean_i f_i)^2)
    For a linear func this reduces to the mean and the binned standard error.
    """
    if not series:
        raise ValueError("jackknife needs at least one series")
    if n_bins < 2:
        raise ValueError("the jackknife needs at least two bins")
    lengths = {np.shape(s)[-1] for s in series}
    if len(lengths) != 1:
        raise ValueError(f"series lengths differ: {sorted(lengths)}")

    # Bin axis first: row 0 holds the full mean, rows 1..n the leave-one-out means.
    stacked_means = []
    for s in series:
        bins = np.moveaxis(bin_means(s, n_bins), -1, 0)
        total = bins.sum(axis=0)
        leave_one_out = (total - bins) / (n_bins - 1)
        stacked_means.append(np.concatenate([total[None] / n_bins, leave_one_out]))

    values = np.asarray(func(*stacked_means), dtype=float)
    if values.ndim == 0 or values.shape[0] != n_bins + 1:
        raise ValueError("func must act independently along a prepended axis of its inputs")
    full, leave_one_out = values[0], values[1:]
    loo_mean = leave_one_out.mean(axis=0)
    estimate = n_bins * full - (n_bins - 1) * loo_mean
    error = np.sqrt((n_bins - 1) / n_bins * ((leave_one_out - loo_mean) ** 2).sum(axis=0))
    return estimate, error
