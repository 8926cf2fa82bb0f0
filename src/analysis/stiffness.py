"""The BKT criterion of the XY models: where the stiffness of each run file crosses the universal
jump 2T/pi (Nelson-Kosterlitz), extrapolated in L, and its figure. The stiffness is the helicity
modulus Upsilon of the classical planar models (xy, clock; from the twist response of the energy)
or the spin stiffness rho_s of the quantum XY model (from the winding numbers of the world lines);
both are the summary entries their runs record, so the same criterion reads either.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from src.analysis.crossing import level_crossing
from src.analysis.fss import Extrapolation, extrapolate, mixed_models
from src.analysis.plotting import pyplot, save
from src.storage.reader import RunFile, RunFileError

# summary entries that hold a stiffness, and the symbol of each in reports
ESTIMATES = {"stiffness": "ρ_s", "helicity_modulus": "Υ"}


def stiffness_curves(paths) -> list[dict]:
    """Per file: L, the model, temperatures, stiffness and its error, the summary entry it came
    from, and the crossing with 2T/pi."""
    curves = []
    for path in paths:
        with RunFile(path) as run:
            name = next((k for k in ESTIMATES if k in run.summary), None)
            if name is None:
                raise RunFileError(
                    f"{path}: no stiffness or helicity modulus (a {run.model.name} file; "
                    "the criterion is for xy, clock and quantum_xy runs)"
                )
            rho, err = run.summary[name]
            T = run.temperatures
            model = run.model
        order = np.argsort(T)
        T, rho, err = T[order], rho[order], err[order]
        crossing = level_crossing(T, rho, err, 2 * T / np.pi)
        curves.append(
            {
                "path": str(path),
                "L": model.L,
                "model": model,
                "estimate": name,
                "T": T,
                "rho": rho,
                "err": err,
                "crossing": crossing,
            }
        )
    problem = mixed_models(curves)
    if problem:
        raise RunFileError(problem)
    return sorted(curves, key=lambda c: c["L"])


def symbol(curves) -> str:
    return ESTIMATES[curves[0]["estimate"]]


def plot_stiffness(curves, out: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for c in curves:
        ax.errorbar(c["T"], c["rho"], c["err"], marker="o", ms=3, capsize=2, label=f"L = {c['L']}")
    T = np.linspace(min(c["T"].min() for c in curves), max(c["T"].max() for c in curves), 50)
    ax.plot(T, 2 * T / np.pi, "k--", lw=1, label="2T/π")
    ax.set_xlabel("T / J")
    name = "spin stiffness" if curves[0]["estimate"] == "stiffness" else "helicity modulus"
    ax.set_ylabel(f"{name} {symbol(curves)}")
    ax.set_title(curves[0]["model"].label, fontsize=9)
    ax.legend(frameon=False)
    save(fig, out)


def extrapolate_crossings(curves) -> Extrapolation | None:
    """T_BKT + a / ln^2 L through the crossings (Kosterlitz-Thouless corrections), or None with
    fewer than two sizes."""
    if len({c["L"] for c in curves}) < 2:
        return None
    L, T, error = np.array([(c["L"], *c["crossing"]) for c in curves]).T
    return extrapolate(L, T, error, form="bkt")
