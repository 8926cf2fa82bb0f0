"""Where a measured curve y(x) crosses a level (a constant or a function of x), with an error bar.

Used for the stiffness criterion of the BKT transition (rho_s(T) = 2T/pi) and for the temperature at
which a classifier's output crosses 1/2.
"""

from __future__ import annotations

import numpy as np


class NoCrossing(ValueError):
    """The curve does not cross the level inside the measured range."""


def crossing_derivatives(x, y, level) -> tuple[np.ndarray, ...]:
    """(x*, k, dx*/dy_k, dx*/dy_k+1, dx*/dlevel) of every place where y - level changes sign
    between two measured points or is zero at one, in increasing x, by linear interpolation between
    the two points y_k, y_k+1 that bracket it; level is a number or an array over x (its derivative
    is that of a constant level). With d = y - level: x* = x1 + (x2 - x1) d1 / (d1 - d2), so
    dx*/dd1 = -(x2 - x1) d2 / (d1 - d2)^2, dx*/dd2 = (x2 - x1) d1 / (d1 - d2)^2 and
    dx*/dlevel = -(x2 - x1) / (d1 - d2).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    d = y - np.broadcast_to(np.asarray(level, dtype=float), x.shape)
    # a zero at a point is taken through the segment that starts there (ends there, at the last one)
    k = np.union1d(np.flatnonzero(d[:-1] * d[1:] < 0), np.minimum(np.flatnonzero(d == 0), d.size - 2))
    k = k[d[k] != d[k + 1]]
    x1, x2, d1, d2 = x[k], x[k + 1], d[k], d[k + 1]
    gap = d1 - d2
    return x1 + (x2 - x1) * d1 / gap, k, -(x2 - x1) * d2 / gap**2, (x2 - x1) * d1 / gap**2, -(x2 - x1) / gap


def crossings(x, y, y_err, level, level_err: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(x*, errors) of every crossing of y with level (crossing_derivatives), the errors propagated
    from the independent errors of the two points that bracket it and of a constant level."""
    roots, k, g1, g2, g_level = crossing_derivatives(x, y, level)
    y_err = np.asarray(y_err, dtype=float)
    return roots, np.sqrt((g1 * y_err[k]) ** 2 + (g2 * y_err[k + 1]) ** 2 + (g_level * level_err) ** 2)


def level_crossing(x, y, y_err, level) -> tuple[float, float]:
    """(x*, error) of the first crossing (see crossings)."""
    roots, errors = crossings(x, y, y_err, level)
    if not roots.size:
        x = np.asarray(x)
        raise NoCrossing(f"no crossing of the level between x = {x[0]:g} and x = {x[-1]:g}")
    return float(roots[0]), float(errors[0])
