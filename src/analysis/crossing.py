"""Where a measured curve y(x) crosses a level (a constant or a function of x), with an error bar.

Used for the stiffness criterion of the BKT transition (rho_s(T) = 2T/pi) and for the temperature at
which a classifier's output crosses 1/2.
"""

from __future__ import annotations

import numpy as np


class NoCrossing(ValueError):
    """The curve does not cross the level inside the measured range."""


def level_crossing(x, y, y_err, level) -> tuple[float, float]:
    """(x*, error) where y - level changes sign, by linear interpolation between the two measured
    points that bracket the first sign change; level is a number or an array over x. The error
    propagates the independent errors of the two points: x* = x1 + (x2 - x1) d1 / (d1 - d2),
    d = y - level, so dx*/dd1 = -(x2 - x1) d2 / (d1 - d2)^2 and dx*/dd2 = (x2 - x1) d1 / (d1 - d2)^2.
    """
    x, y, y_err = (np.asarray(a, dtype=float) for a in (x, y, y_err))
    d = y - np.broadcast_to(np.asarray(level, dtype=float), x.shape)
    changes = np.nonzero(np.sign(d[:-1]) * np.sign(d[1:]) < 0)[0]
    if not changes.size:
        raise NoCrossing(f"no crossing of the level between x = {x[0]:g} and x = {x[-1]:g}")
    k = changes[0]
    (x1, x2), (d1, d2), (e1, e2) = x[k : k + 2], d[k : k + 2], y_err[k : k + 2]
    gap = d1 - d2
    crossing = x1 + (x2 - x1) * d1 / gap
    error = (x2 - x1) / gap**2 * np.hypot(d2 * e1, d1 * e2)
    return float(crossing), float(error)
