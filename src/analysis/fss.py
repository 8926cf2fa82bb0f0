"""Finite-size extrapolation of a pseudo-critical temperature T_x(L) to L = infinity.

Both forms are linear in a scaling variable x(L), T_x(L) = T_c + a x(L):
- power (a second-order transition): x = L^(-1/nu), nu given (1 for the 2D Ising model);
- bkt (Kosterlitz-Thouless): x = 1 / (ln L)^2, from xi ~ exp(b / sqrt(T - T_BKT)).
The fit is generalised least squares with the errors (or the covariance) of T_x taken as absolute,
so the error of T_c is the propagation of those errors; with two sizes the line goes through both
points and that propagation is exact.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from src.stats.derived import format_value_error

FORMS = ("power", "bkt")


@dataclass(frozen=True)
class Extrapolation:
    form: str
    nu: float
    T_c: float
    T_c_error: float
    slope: float
    chi2: float
    dof: int

    def at(self, x) -> np.ndarray:
        """The fitted T_x at scaling variable(s) x."""
        return self.T_c + self.slope * np.asarray(x, dtype=float)

    def line(self, symbol: str) -> str:
        """'extrapolated T_c = 2.2607(25)  (the form; chi2/dof = ...)' for reports."""
        quality = f"chi2/dof = {self.chi2:.2g}/{self.dof}" if self.dof else "exact through two sizes"
        estimate = format_value_error(self.T_c, self.T_c_error)
        return f"extrapolated {symbol} = {estimate}  ({self.describe()}; {quality})"

    def describe(self) -> str:
        if self.form == "bkt":
            return "T_x(L) = T_BKT + a / (ln L)^2"
        return f"T_x(L) = T_c + a L^(-1/nu), nu = {self.nu:g}"


def mixed_models(curves) -> str | None:
    """Why curves (dicts with "model", "L" and "path") cannot be extrapolated together, or None: an
    extrapolation in L is of one model with the same parameters at every size."""
    first = curves[0]
    for c in curves[1:]:
        if replace(c["model"], L=first["L"]) != first["model"]:
            return (
                f"{c['path']}: holds the {c['model'].label} model, {first['path']} the "
                f"{first['model'].label} model (one model per extrapolation)"
            )
    return None


def scaling_variable(L, form: str = "power", nu: float = 1.0) -> np.ndarray:
    L = np.asarray(L, dtype=float)
    if form == "bkt":
        return 1.0 / np.log(L) ** 2
    if form == "power":
        return L ** (-1.0 / nu)
    raise ValueError(f"unknown scaling form {form!r} (allowed: {', '.join(FORMS)})")


def extrapolate(L, T_x, T_x_error, form: str = "power", nu: float = 1.0) -> Extrapolation:
    """T_c with its error from T_x(L) at two or more distinct sizes: T_x_error is the error of each
    T_x (independent) or their covariance matrix. Generalised least squares, exact for the line."""
    x = scaling_variable(L, form, nu)
    T_x, error = np.asarray(T_x, dtype=float), np.asarray(T_x_error, dtype=float)
    if np.unique(x).size < 2:
        raise ValueError("the extrapolation needs at least two different lattice sizes")
    weight = np.linalg.inv(error if error.ndim == 2 else np.diag(error**2))
    design = np.column_stack([np.ones_like(x), x])
    cov = np.linalg.inv(design.T @ weight @ design)
    T_c, slope = cov @ design.T @ weight @ T_x
    residual = T_x - design @ (T_c, slope)
    chi2 = float(residual @ weight @ residual)
    return Extrapolation(form, nu, float(T_c), float(np.sqrt(cov[0, 0])), float(slope), chi2, x.size - 2)
