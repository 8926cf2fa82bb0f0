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

The extrapolation is a generalised least-squares fit with the covariance of the temperatures it
fits. Statistical part: the files of different sizes are independent, but two pairs that share a
file (16/32 and 32/64) are not: their covariance is propagated through the crossings from the
shared curve's errors. Training part: one network (or one seed of networks per size) gives every
size its temperature, so a network that sits high sits high everywhere: the covariance over the
members of their temperatures, divided by n, is added in full.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from src.analysis.crossing import NoCrossing, crossing_derivatives, crossings, level_crossing
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
    # each member's statistical covariance of its T_x with the next point's (pairs sharing a file)
    next_covariance: tuple | None = None

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


def pair_crossing(small: dict, large: dict) -> tuple[float, float, np.ndarray] | None:
    """Where the output curves of two sizes cross (see the module's docstring), with its error and
    its derivatives with respect to P_L1 - P_L2 at every temperature, or None."""
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
    i = int(np.argmin(np.abs(middle - 0.5)))
    _, k, g1, g2, _ = crossing_derivatives(T, difference, 0.0)
    gradient = np.zeros(T.size)
    gradient[k[i]], gradient[k[i] + 1] = g1[i], g2[i]
    return float(roots[i]), float(errors[i]), gradient


def shared_covariance(first, second, shared: dict) -> float:
    """Covariance of two pair crossings through the file they share, the larger of the first pair
    and the smaller of the second: d(first)/dP = -gradient, d(second)/dP = +gradient."""
    if first is None or second is None:
        return 0.0
    return float(np.sum(-first[2] * second[2] * shared["error"] ** 2))


def estimates(criterion: str, members: list[list[dict]]) -> list[Combined]:
    """The criterion's temperatures, combined over the members; members[k] is the list of curves
    of member k, one per size, sorted by L."""
    sizes = [c["L"] for c in members[0]]
    if criterion == "half":
        return [Combined(str(L), L, tuple(half_crossing(m[i]) for m in members)) for i, L in enumerate(sizes)]
    if criterion == "pairs":
        if len(sizes) < 2:
            raise CriterionError("criterion pairs: needs files of at least two sizes")
        pairs = [[pair_crossing(m[i], m[i + 1]) for i in range(len(sizes) - 1)] for m in members]
        points = []
        for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
            last = i == len(sizes) - 2
            covariance = tuple(
                0.0 if last else shared_covariance(p[i], p[i + 1], m[i + 1]) for p, m in zip(pairs, members)
            )
            crossing = tuple(None if p[i] is None else p[i][:2] for p in pairs)
            points.append(Combined(f"{a}/{b}", math.sqrt(a * b), crossing, covariance))
        return points
    raise CriterionError(f"unknown criterion {criterion!r} (allowed: {', '.join(CRITERIA)})")


def covariance(points: list[Combined], indices: list[int], member: int | None = None) -> np.ndarray:
    """The covariance of the temperatures of points[i] for i in indices (see the module's
    docstring): of one member's, or of the members' mean."""
    chosen = [points[i] for i in indices]
    if member is None:
        errors = np.array([p.statistical for p in chosen])
        shared = [np.mean(p.next_covariance) if p.next_covariance else 0.0 for p in chosen]
    else:
        errors = np.array([p.members[member][1] for p in chosen])
        shared = [p.next_covariance[member] if p.next_covariance else 0.0 for p in chosen]
    C = np.diag(errors**2)
    for j in range(len(indices) - 1):
        if indices[j + 1] == indices[j] + 1:
            C[j, j + 1] = C[j + 1, j] = shared[j]
    n = len(chosen[0].members)
    if member is None and n > 1:
        values = np.array([[m[0] for m in p.members] for p in chosen])
        C += np.atleast_2d(np.cov(values)) / n  # the training spread, correlated over the sizes
    return C


def fit(points: list[Combined], form: str, nu: float, member: int | None = None) -> Extrapolation | None:
    """The extrapolation of the combined values (or of one member's) over the points that have
    them, with their covariance; None with fewer than two sizes."""
    if member is None:
        indices = [i for i, p in enumerate(points) if p.complete]
        values = [points[i].value for i in indices]
    else:
        indices = [i for i, p in enumerate(points) if p.members[member] is not None]
        values = [points[i].members[member][0] for i in indices]
    L = [points[i].L for i in indices]
    if len(set(L)) < 2:
        return None
    return extrapolate(L, values, covariance(points, indices, member), form=form, nu=nu)
