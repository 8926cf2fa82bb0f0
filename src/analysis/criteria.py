"""Where a classifier says the transition is: criteria on the averaged output curves P_L(T) of a
network (or of one network per size), the combination over networks trained with different seeds,
and the finite-size extrapolation of the result.

Criteria (each gives one temperature per size, or per pair of sizes):
- half: T_x(L) where P_L(T) = 1/2. With one network for every L this is a fixed threshold on what
  the network measures (for a CNN ending in a lattice mean, on G(L/2) for correlation inputs), so
  T_x(L) converges to T_c only where that quantity is scale invariant at T_c: with inputs rescaled
  by L^eta (`data.rescale` of the training config), or with one network per L trained on windows
  that scale with L (Carrasquilla-Melko).
- pairs: T_x(L1, L2) where P_L1(T) = P_L2(T) for successive sizes L1 < L2 (like a Binder-ratio
  crossing). It assumes P_L(T) = f((T - T_c) L^(1/nu)) near T_c up to corrections, i.e. that the
  output is a function of a scale-invariant quantity: inputs rescaled by L^eta_c, or one network per
  L. Where several sign changes occur (noise on the plateaus), the one where the mean of the two
  curves is closest to 1/2 is taken. The sizes must share their temperatures. For the fit, a pair
  stands at L = sqrt(L1 L2).

Networks trained with different seeds ("members") give each temperature several values v_k with
bootstrap errors s_k. Their combination is the mean of v_k with the error
sqrt(mean(s_k)^2 + sd(v)^2 / n): the members read the same snapshots, so the statistical errors do
not average down, while the training spread does. The seed s.d. is reported beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from src.analysis.crossing import NoCrossing, crossings, level_crossing
from src.analysis.fss import Extrapolation, extrapolate
from src.stats.derived import format_value_error

CRITERIA = {
    "half": "P_L(T) = 1/2 at each size",
    "pairs": "P_L1(T) = P_L2(T) for successive sizes",
}


class CriterionError(ValueError):
    """Curves that a criterion cannot be applied to; one-line message."""


@dataclass(frozen=True)
class Combined:
    """One pseudo-critical temperature over the members (networks of different seeds)."""

    label: str  # "16" or "16/32"
    L: float  # the size it stands at in the extrapolation
    members: tuple  # (T_x, error) of each member, None where it has no crossing

    @property
    def complete(self) -> bool:
        return all(m is not None for m in self.members)

    @property
    def value(self) -> float:
        return float(np.mean([m[0] for m in self.members]))

    @property
    def statistical(self) -> float:
        return float(np.mean([m[1] for m in self.members]))

    @property
    def seed_sd(self) -> float:
        values = [m[0] for m in self.members]
        return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0

    @property
    def error(self) -> float:
        return math.hypot(self.statistical, self.seed_sd / math.sqrt(len(self.members)))

    def line(self) -> str:
        if not self.complete:
            missing = sum(m is None for m in self.members)
            return f"no crossing ({missing} of {len(self.members)} networks)"
        text = format_value_error(self.value, self.error)
        if len(self.members) == 1:
            return text
        each = ", ".join(f"{m[0]:.4f}" for m in self.members)
        return (
            f"{text}  [bootstrap {self.statistical:.2g}, seed s.d. {self.seed_sd:.2g} over "
            f"{len(self.members)} networks: {each}]"
        )


def half_crossing(curve: dict) -> tuple[float, float] | None:
    try:
        return level_crossing(curve["T"], curve["output"], curve["error"], 0.5)
    except NoCrossing:
        return None


def pair_crossing(small: dict, large: dict) -> tuple[float, float] | None:
    """Where the output curves of two sizes cross (see the module's docstring), or None."""
    if small["T"].shape != large["T"].shape or not np.allclose(small["T"], large["T"], rtol=1e-9):
        raise CriterionError(
            f"criterion pairs: {small['path']} and {large['path']} have different temperatures "
            "(the curves of successive sizes are compared point by point)"
        )
    T = small["T"]
    difference = small["output"] - large["output"]
    error = np.hypot(small["error"], large["error"])  # different files: independent
    roots, errors = crossings(T, difference, error, 0.0)
    if not roots.size:
        return None
    middle = np.interp(roots, T, (small["output"] + large["output"]) / 2)
    k = int(np.argmin(np.abs(middle - 0.5)))
    return float(roots[k]), float(errors[k])


def estimates(criterion: str, members: list[list[dict]]) -> list[Combined]:
    """The criterion's temperatures, combined over the members; members[k] is the list of curves
    of member k, one per size, sorted by L."""
    sizes = [c["L"] for c in members[0]]
    if criterion == "half":
        return [Combined(str(L), L, tuple(half_crossing(m[i]) for m in members)) for i, L in enumerate(sizes)]
    if criterion == "pairs":
        if len(sizes) < 2:
            raise CriterionError("criterion pairs: needs files of at least two sizes")
        return [
            Combined(f"{a}/{b}", math.sqrt(a * b), tuple(pair_crossing(m[i], m[i + 1]) for m in members))
            for i, (a, b) in enumerate(zip(sizes, sizes[1:]))
        ]
    raise CriterionError(f"unknown criterion {criterion!r} (allowed: {', '.join(CRITERIA)})")


def fit(points: list[Combined], form: str, nu: float, member: int | None = None) -> Extrapolation | None:
    """The extrapolation of the combined values (or of one member's) over the points that have
    them; None with fewer than two sizes."""
    if member is None:
        rows = [(p.L, p.value, p.error) for p in points if p.complete]
    else:
        rows = [(p.L, *p.members[member]) for p in points if p.members[member] is not None]
    if len({r[0] for r in rows}) < 2:
        return None
    return extrapolate(*np.array(rows).T, form=form, nu=nu)
