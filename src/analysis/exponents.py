"""Critical exponents from repeated super-resolution at T_c (Efthymiou, Beach, Melko, PRB 99,
075113 (2019)): a network applied again and again to configurations at T_c makes lattices of
L, 2L, 4L, ...; if it is a good inverse RG they stay critical, and their correlations decay with
the exponents of the critical point:

    G(L/2) ~ L^(-eta),   G(L/4) ~ L^(-eta),   chi / beta = L^2 <m^2> ~ L^(gamma/nu) = L^(2 - eta).

`python -m src.analyze exponents [MCFILE ...] --generated spin=DIR --generated graph=DIR --out DIR`
fits ln Y = a + s ln L by least squares over the sizes of each side (and of Monte Carlo files of the
same model, for reference) at the temperature nearest the literature T_c (or --temperature). The
observables come from the spins (src.analysis.reproduction: G from (q delta - 1)/(q - 1), m^2 per
site). The sizes of one generated folder come from the same source configurations, row by row, so
their estimates are correlated: the error of a slope is a delete-one jackknife over bins of the
rows, leaving the same rows out of every size at once. Monte Carlo files of different sizes are
independent: their slopes take the jackknife error of each size and propagate it through the fit.
Exact values (2D): Ising and 4-state Potts eta = 1/4, 3-state Potts eta = 4/15; gamma/nu = 2 - eta.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from src.analysis.inverse_rg import InverseRGError, generated_files, markdown, write_csv
from src.analysis.plotting import pyplot, save
from src.analysis.reproduction import N_BINS, per_snapshot
from src.models import Model
from src.stats.derived import format_value_error
from src.stats.jackknife import jackknife
from src.storage.atomic import write_text
from src.storage.reader import RunFile, RunFileError

# name -> (label, how the exponent follows from the slope s of ln Y against ln L)
QUANTITIES = {
    "g_half": ("G(L/2)", "η", lambda s: -s),
    "g_quarter": ("G(L/4)", "η", lambda s: -s),
    "chi": ("L² m²", "γ/ν", lambda s: s),
}


@dataclass(frozen=True)
class Series:
    """One side's per-configuration values at one temperature, sizes increasing: name -> (sizes, n)."""

    label: str
    model: Model  # of the smallest size
    T: float
    sizes: np.ndarray
    values: dict
    paired: bool  # rows of every size come from the same source configuration


def exact(model: Model, symbol: str) -> float | None:
    """The exact eta or gamma/nu = 2 - eta (Model.exact_exponents), None where unknown."""
    if model.exact_exponents is None:
        return None
    eta = model.exact_exponents["eta"]
    return eta if symbol == "η" else 2 - eta


def critical_values(model: Model, spins: np.ndarray) -> dict[str, np.ndarray]:
    """G(L/2), G(L/4) and L^2 m^2 of every configuration of stored spins (n, L, L)."""
    state = model.labels_from_spin(spins)
    n = len(spins)

    def g(r):
        return model.correlation(state, r, np).reshape(n, -1).mean(axis=1)

    m2 = model.measure(state, None, np)["m2"]
    return {"g_half": g(model.L // 2), "g_quarter": g(model.L // 4), "chi": model.n_sites * m2}


def read_values(path, temperature: float | None) -> tuple[Model, float, dict]:
    """(model, T, critical_values of all its spin snapshots) at the row nearest `temperature`
    (default: the literature T_c)."""
    with RunFile(path) as run:
        if not run.attrs.get("complete"):
            raise RunFileError(f"{path}: the run is not complete")
        model = run.model
        target = model.literature_tc if temperature is None else temperature
        if target is None:
            raise InverseRGError(f"{path}: no literature T_c of the {model.label} model; give --temperature")
        if model.L % 4:
            raise InverseRGError(f"{path}: L = {model.L}; G(L/4) needs L divisible by 4")
        t = int(np.argmin(np.abs(run.temperatures - target)))
        return model, float(run.temperatures[t]), per_snapshot(run, "spin", t, critical_values)


def series_of(label: str, paths, temperature: float | None, paired: bool) -> Series:
    read = [read_values(p, temperature) for p in paths]
    read.sort(key=lambda r: r[0].L)
    models = {(m.name, m.attributes()["q"], m.J) for m, _, _ in read}
    if len(models) > 1:
        raise InverseRGError(f"{label}: the files hold different models: {sorted(models)}")
    sizes = np.array([m.L for m, _, _ in read])
    if len(set(sizes)) != len(sizes) or len(sizes) < 3:
        raise InverseRGError(
            f"{label}: the fit needs three or more different sizes (have L = {sizes.tolist()})"
        )
    temperatures = {round(T, 9) for _, T, _ in read}
    if len(temperatures) > 1:
        raise InverseRGError(f"{label}: the sizes are at different temperatures {sorted(temperatures)}")
    n = {len(v["chi"]) for _, _, v in read}
    if paired and len(n) > 1:
        raise InverseRGError(f"{label}: the sizes hold different numbers of configurations {sorted(n)}")
    values = {k: [v[k] for _, _, v in read] for k in QUANTITIES}
    if paired:
        values = {k: np.stack(v) for k, v in values.items()}
    return Series(label, read[0][0], read[0][1], sizes, values, paired)


def slope(sizes, logs) -> np.ndarray:
    """Least-squares slope of logs (..., n_sizes) against ln L."""
    x = np.log(sizes) - np.log(sizes).mean()
    return (logs - logs.mean(axis=-1, keepdims=True)) @ x / (x @ x)


def fit(series: Series, name: str) -> dict:
    """The exponent of one quantity: value, error, and the effective exponents of successive sizes."""
    label, symbol, exponent = QUANTITIES[name]
    sizes, values = series.sizes, series.values[name]
    if series.paired:
        n_bins = min(N_BINS, values.shape[1])
        (value, *local), (error, *local_error) = jackknife(
            lambda means: _exponents(sizes, means, exponent), values, n_bins=n_bins
        )
    else:  # independent sizes: ln of each mean with its error, propagated through the linear fit
        means, errors = zip(*(jackknife(lambda m: m, v, n_bins=min(N_BINS, v.size)) for v in values))
        means, errors = np.array(means), np.array(errors)
        value, *local = _exponents(sizes, means, exponent)
        x = np.log(sizes) - np.log(sizes).mean()
        error = np.sqrt(((x / (x @ x)) ** 2 * (errors / means) ** 2).sum())
        step = np.log(sizes[1:] / sizes[:-1])
        local_error = np.hypot(errors[1:] / means[1:], errors[:-1] / means[:-1]) / step
    return {
        "side": series.label,
        "model": series.model.label,
        "T": series.T,
        "sizes": " ".join(map(str, sizes)),
        "quantity": label,
        "exponent": symbol,
        "value": float(value),
        "error": float(error),
        "exact": exact(series.model, symbol),
        "local": [float(v) for v in local],
        "local_error": [float(e) for e in local_error],
    }


def _exponents(sizes, means, exponent) -> np.ndarray:
    """(fit exponent, effective exponent of each pair of successive sizes) from means (..., n_sizes)."""
    logs = np.log(np.clip(means, 1e-300, None))
    local = np.diff(logs, axis=-1) / np.diff(np.log(sizes))
    return np.concatenate([exponent(slope(sizes, logs))[..., None], exponent(local)], axis=-1)


def plot_exponents(all_series: list[Series], path: Path) -> None:
    """ln Y against ln L per quantity, every side, with the exact slope through the largest size."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(QUANTITIES), figsize=(4.4 * len(QUANTITIES), 3.6), squeeze=False)
    for ax, (name, (label, symbol, _)) in zip(axes[0], QUANTITIES.items()):
        for k, s in enumerate(all_series):
            means = np.array([np.mean(v) for v in s.values[name]])
            ax.loglog(s.sizes, means, "osD^v"[k % 5] + "-", mfc="none", label=s.label)
        target = exact(all_series[0].model, symbol)
        if target is not None:
            s = all_series[0]
            end = np.mean(s.values[name][-1])
            power = -target if symbol == "η" else target
            ax.loglog(
                s.sizes, end * (s.sizes / s.sizes[-1]) ** power, "k:", label=f"exact {symbol} = {target:.4g}"
            )
        ax.set_xlabel("L")
        ax.set_ylabel(label)
        ax.legend(frameon=False, fontsize=7)
    fig.suptitle(f"{all_series[0].model.label} at T = {all_series[0].T:g}: repeated super-resolution")
    save(fig, path)


def exponents_report(mc_files, generated_dirs: dict, out, temperature: float | None = None) -> str:
    """Every side's exponents (and Monte Carlo's, when files are given); writes exponents.md (the
    returned text), exponents.csv and exponents.png to `out`."""
    if not generated_dirs:
        raise InverseRGError("no generated directories given")
    all_series = [
        series_of(label, generated_files(d), temperature, True) for label, d in generated_dirs.items()
    ]
    if mc_files:
        all_series.append(series_of("Monte Carlo", mc_files, temperature, False))
    rows = [fit(s, name) for s in all_series for name in QUANTITIES]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cells = []
    for r in rows:
        local = ", ".join(format_value_error(v, e) for v, e in zip(r["local"], r["local_error"]))
        deviation = f"{100 * (r['value'] / r['exact'] - 1):+.1f} %" if r["exact"] else "—"
        exact_value = f"{r['exact']:.4g}" if r["exact"] else "—"
        cells.append(
            [
                r["side"],
                r["sizes"],
                f"{r['exponent']} from {r['quantity']}",
                format_value_error(r["value"], r["error"]),
                exact_value,
                deviation,
                local,
            ]
        )
    model = all_series[0].model
    text = "\n\n".join(
        [
            f"# Critical exponents from repeated super-resolution: {model.label} at T = {all_series[0].T:g}",
            "Least-squares slope of ln Y against ln L over the sizes; effective exponents of successive "
            "sizes beside it.",
            markdown(["side", "L", "exponent", "fit", "exact", "deviation", "successive sizes"], cells),
        ]
    )
    write_text(out / "exponents.md", text + "\n")
    write_csv(
        [
            {
                **r,
                "local": " ".join(map(str, r["local"])),
                "local_error": " ".join(map(str, r["local_error"])),
            }
            for r in rows
        ],
        out / "exponents.csv",
    )
    plot_exponents(all_series, out / "exponents.png")
    return f"{text}\n\nwritten to {out}: exponents.md, exponents.csv, exponents.png"
