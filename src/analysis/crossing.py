"""Where a measured curve y(x) crosses a level (a constant or a function of x), with an error bar.

Used for the stiffness criterion of the BKT transition (rho_s(T) = 2T/pi) and for the temperature at
which a classifier's output crosses 1/2.
"""

from __future__ import annotations

import numpy as np


class NoCrossing(ValueError):
    """The curve does not cross the level inside the measured range."""


def crossings(x, y, y_err, level, level_err: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(x*, errors) of every place where y - level changes sign between two measured points or is
    zero at one, in increasing x, by linear interpolation between the two points that bracket it;
    level is a number or an array over x. The errors propagate the independent errors of the two
    points and of a constant level: x* = x1 + (x2 - x1) d1 / (d1 - d2), d = y - level, so
    dx*/dd1 = -(x2 - x1) d2 / (d1 - d2)^2, dx*/dd2 = (x2 - x1) d1 / (d1 - d2)^2 and
    dx*/dlevel = -(x2 - x1) / (d1 - d2).
    """
    x, y, y_err = (np.asarray(a, dtype=float) for a in (x, y, y_err))
    d = y - np.broadcast_to(np.asarray(level, dtype=float), x.shape)
    # a zero at a point is taken through the segment that starts there (ends there, at the last one)
    k = np.union1d(np.flatnonzero(d[:-1] * d[1:] < 0), np.minimum(np.flatnonzero(d == 0), d.size - 2))
    x1, x2, d1, d2, e1, e2 = x[k], x[k + 1], d[k], d[k + 1], y_err[k], y_err[k + 1]
    gap = d1 - d2
    x1, x2, d1, d2, e1, e2, gap = (a[gap != 0] for a in (x1, x2, d1, d2, e1, e2, gap))
    roots = x1 + (x2 - x1) * d1 / gap
    spread = np.sqrt((d2 * e1) ** 2 + (d1 * e2) ** 2 + (gap * level_err) ** 2)
    return roots, (x2 - x1) / gap**2 * spread


def level_crossing(x, y, y_err, level) -> tuple[float, float]:
    """(x*, error) of the first crossing (see crossings)."""
    roots, errors = crossings(x, y, y_err, level)
    if not roots.size:
        x = np.asarray(x)
        raise NoCrossing(f"no crossing of the level between x = {x[0]:g} and x = {x[-1]:g}")
    return float(roots[0]), float(errors[0])
