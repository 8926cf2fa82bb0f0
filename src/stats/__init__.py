"""Statistics of Monte Carlo time series: binning, jackknife, autocorrelation, derived quantities."""

from .autocorr import autocorrelation, tau_int
from .binning import bin_means, binned_error, error_vs_bin_size
from .derived import format_summary_table, format_value_error, summarize
from .jackknife import jackknife

__all__ = [
    "autocorrelation",
    "bin_means",
    "binned_error",
    "error_vs_bin_size",
    "format_summary_table",
    "format_value_error",
    "jackknife",
    "summarize",
    "tau_int",
]
