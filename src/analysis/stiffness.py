"""The BKT criterion of the quantum XY model: where the spin stiffness rho_s(T; L) of each run file
crosses the universal jump 2T/pi (Nelson-Kosterlitz), and its figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from src.analysis.crossing import level_crossing
from src.analysis.fss import Extrapolation, extrapolate
from src.analysis.plotting import pyplot, save
from src.storage.reader import RunFile, RunFileError


def stiffness_curves(paths) -> list[dict]:
    """Per file: L, temperatures, stiffness and its error, and the crossing with 2T/pi."""
    curves = []
    for path in paths:
        with RunFile(path) as run:
            if "stiffness" not in run.summary:
                raise RunFileError(f"{path}: no stiffness (a {run.model.name} file, not a quantum one)")
            rho, err = run.summary["stiffness"]
            T = run.temperatures
            L = run.model.L
        crossing = level_crossing(T, rho, err, 2 * T / np.pi)
        curves.append({"path": str(path), "L": L, "T": T, "rho": rho, "err": err, "crossing": crossing})
    return sorted(curves, key=lambda c: c["L"])


def plot_stiffness(curves, out: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for c in curves:
        ax.errorbar(c["T"], c["rho"], c["err"], marker="o", ms=3, capsize=2, label=f"L = {c['L']}")
    T = np.linspace(min(c["T"].min() for c in curves), max(c["T"].max() for c in curves), 50)
    ax.plot(T, 2 * T / np.pi, "k--", lw=1, label="2T/π")
    ax.set_xlabel("T / J")
    ax.set_ylabel("spin stiffness ρ_s")
    ax.legend(frameon=False)
    save(fig, out)


def extrapolate_crossings(curves) -> Extrapolation | None:
    """T_BKT + a / ln^2 L through the crossings (Kosterlitz-Thouless corrections), or None with
    fewer than two sizes."""
    if len({c["L"] for c in curves}) < 2:
        return None
    L, T, error = np.array([(c["L"], *c["crossing"]) for c in curves]).T
    return extrapolate(L, T, error, form="bkt")
