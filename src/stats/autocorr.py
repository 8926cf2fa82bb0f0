"""Autocorrelation function and integrated autocorrelation time of time series."""

import warnings

import numpy as np

# Series shorter than this many tau_int give unreliable tau_int estimates.
MIN_LENGTH_IN_TAU = 50


def autocorrelation(x) -> np.ndarray:
    """Normalised autocorrelation rho(t), t = 0 .. n-1, along the last axis.

    Uses the FFT with zero padding (no circular wrap-around) and the
    1/n-normalised autocovariance, which is lower in variance than the
    1/(n - t) form and keeps the estimate positive definite. A series without
    fluctuations gets rho(t > 0) = 0, i.e. it counts as uncorrelated.
    """
    x = np.asarray(x, dtype=float)
    n_meas = x.shape[-1]
    fluctuation = x - x.mean(axis=-1, keepdims=True)
    spectrum = np.fft.rfft(fluctuation, n=2 * n_meas)
    autocov = np.fft.irfft(spectrum * spectrum.conj(), n=2 * n_meas)[..., :n_meas] / n_meas
    variance = autocov[..., :1]
    rho = np.divide(autocov, variance, out=np.zeros_like(autocov), where=variance > 0)
    rho[..., 0] = 1.0
    return rho


def tau_int(x, c: float = 6.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integrated autocorrelation time with Sokal's automatic window.

    tau_int(W) = 1/2 + sum_{t=1}^{W} rho(t); the window W is the smallest with
    W >= c tau_int(W). Convention: tau_int = 1/2 for uncorrelated data, so the
    error of the mean is sqrt(2 tau_int var / n). The error of tau_int is the
    Madras-Sokal estimate tau_int * sqrt(2 (2W + 1) / n).

    Returns (tau, tau_error, window), each of the leading shape of x. A
    RuntimeWarning flags series shorter than MIN_LENGTH_IN_TAU * tau, for which
    the estimate is unreliable (typically too small).
    """
    rho = autocorrelation(x)
    n_meas = rho.shape[-1]
    if n_meas < 2:
        raise ValueError("tau_int needs at least two measurements")
    windows = np.arange(1, n_meas)
    tau_of_window = 0.5 + np.cumsum(rho[..., 1:], axis=-1)
    # The mean-subtracted autocovariance sums to zero over all lags, so
    # tau_of_window vanishes at the largest window and a window always exists.
    index = (windows >= c * tau_of_window).argmax(axis=-1)
    tau = np.take_along_axis(tau_of_window, index[..., None], axis=-1)[..., 0]
    window = windows[index]
    if np.any(n_meas < MIN_LENGTH_IN_TAU * tau):
        warnings.warn(
            f"series of {n_meas} is shorter than {MIN_LENGTH_IN_TAU} tau_int "
            f"(max tau_int {np.max(tau):.3g}): tau_int is unreliable",
            RuntimeWarning,
            stacklevel=2,
        )
    tau_error = tau * np.sqrt(2 * (2 * window + 1) / n_meas)
    return tau, tau_error, window
