"""One-step reproduction, the inverse-RG test of Shiina et al. (Sci. Rep. 11, 9617 (2021)): a network
super-resolves the block transform of each Monte Carlo configuration of L, and the generated L
configuration is compared with the configuration it came from, at every temperature of the run.

`python -m src.analyze onestep SOURCE --generated spin=DIR --generated graph=DIR --out DIR`, with
DIR/L<L>.h5 generated from SOURCE by `python -m src.analyze superres ... --block --steps 1` (row
[t, i] of the generated file comes from snapshot [t, i] of SOURCE). Per side, temperature and
observable: the mean over the originals and over the generated configurations, their paired
difference and relative deviation with a delete-one jackknife over bins of the pairs (so the
correlation of a pair and of successive snapshots is in the error), and Monte Carlo of the whole
run at that T (the summary of its measurements, or all its snapshots, from the spins):

- e: the energy per site; m²: the squared order parameter per site;
- G(L/2): the order-parameter correlation at distance L/2, (q δ(s_i, s_{i+r}) − 1)/(q − 1) averaged
  over the sites and both axes (s_i s_{i+r} for Ising).

Each side is measured in its own representation, originals and generated alike: a spin side on the
spins, a graph side (generated files with `fk_bonds`; SOURCE must hold them too) with the improved
estimators of its clusters (cluster_observables), which have the same means and much less noise
than the spins drawn for the clusters.

The side comparison takes, over the temperatures below and above the literature T_c separately,
the mean |relative deviation| of e and m² and the mean |difference| of G(L/2) (a correlation
between 0 and 1 that vanishes at high T, where a relative deviation means nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from src.analysis.inverse_rg import InverseRGError, generated_files, markdown, write_csv
from src.analysis.plotting import pyplot, save
from src.models import Model
from src.sampling.graph.configurations import label_identity
from src.sampling.graph.labelling import cluster_labels
from src.stats.derived import format_value_error
from src.stats.jackknife import jackknife
from src.storage.atomic import write_text
from src.storage.reader import RunFile, RunFileError
from src.storage.schema import GENERATED_UPDATE

OBSERVABLES = {"energy": "e", "m2": "m²", "g_half": "G(L/2)"}
RELATIVE = ("energy", "m2")  # compared by relative deviation; G(L/2) by its difference
N_BINS = 32
SNAPSHOT_CHUNK = 1024


@dataclass(frozen=True)
class Reproduction:
    """One side's generated file against its source: rows of (T, observable) estimates."""

    side: str
    path: str
    model: Model
    rows: list


def spin_observables(model: Model, spins: np.ndarray) -> dict[str, np.ndarray]:
    """e, m² and G(L/2) of every configuration of stored spins (n, L, L)."""
    state = model.labels_from_spin(spins)
    measured = model.measure(state, None, np)
    g_half = model.correlation(state, model.L // 2, np).reshape(len(spins), -1).mean(axis=1)
    return {"energy": measured["energy"], "m2": measured["m2"], "g_half": g_half}


def cluster_observables(model: Model, bonds: np.ndarray) -> dict[str, np.ndarray]:
    """The improved estimators of e, m² and G(L/2) of FK bond configurations (n, 2, L, L), whose
    means are those of the spins' (every cluster a uniform label): G(r) = <delta(C_i, C_{i+r})>,
    m² = sum_C |C|² / N², and e from the nearest-neighbour correlation improved_nn, with which it is
    linear (Model.corr_nn_from_energy)."""
    labels = cluster_labels(bonds)
    n = len(bonds)
    flat = labels.reshape(n, -1)
    sizes = [np.bincount(row).astype(float) for row in flat]
    m2 = np.array([(s**2).sum() for s in sizes]) / model.n_sites**2
    nn = label_identity(labels, 1).reshape(n, -1).mean(axis=1)
    offset = model.corr_nn_from_energy(np.zeros(1))[0]
    slope = model.corr_nn_from_energy(np.ones(1))[0] - offset
    g_half = label_identity(labels, model.L // 2).reshape(n, -1).mean(axis=1)
    return {"energy": (nn - offset) / slope, "m2": m2, "g_half": g_half}


ESTIMATORS = {"spins": ("spin", spin_observables), "clusters": ("fk_bonds", cluster_observables)}


def read_observables(run: RunFile, t: int, n: int | None = None, estimator: str = "spins") -> dict:
    """The observables of the first n (default all) snapshots of temperature row t, in chunks, from
    the spins or (estimator "clusters") from the FK bonds."""
    representation, observables = ESTIMATORS[estimator]
    return per_snapshot(run, representation, t, observables, n)


def per_snapshot(run: RunFile, representation: str, t: int, observables, n: int | None = None) -> dict:
    """observables(model, snapshots) -> {name: (k,)} of the first n (default all) snapshots of
    temperature row t, read SNAPSHOT_CHUNK at a time."""
    data = run.snapshot_array(representation)
    n = data.shape[1] if n is None else n
    parts = [
        observables(run.model, data[t, start : min(n, start + SNAPSHOT_CHUNK)])
        for start in range(0, n, SNAPSHOT_CHUNK)
    ]
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def _check_source(path, run: RunFile, source: RunFile) -> None:
    """The generated file must be one step from the blocks of SOURCE's own snapshots."""
    a, s = run.attrs, source.attrs
    if a.get("update") != GENERATED_UPDATE:
        raise InverseRGError(f"{path}: not generated by a super-resolution network")
    same_run = (a.get("source_seed"), a.get("source_started")) == (s.get("seed"), s.get("started"))
    if not same_run:
        raise InverseRGError(f"{path}: generated from {a.get('source_path')}, not from {source.path}")
    if not (a.get("block") and run.model == source.model):
        raise InverseRGError(
            f"{path}: not one step from the blocks of {source.path} "
            f"(generate with --block --steps 1: L = {run.model.L}, source L = {source.model.L})"
        )


def _paired(relative: bool):
    """The jackknife's function of (original, generated) means: both, their difference and, for
    the quantities compared relatively, generated/original - 1 (G(L/2) vanishes at high T: 0)."""

    def parts(a, b):
        ratio = b / a - 1 if relative else np.zeros_like(a)
        return np.stack([a, b, b - a, ratio], axis=-1)

    return parts


def reproduce(side: str, path, source: RunFile, mc: dict) -> Reproduction:
    """The rows of one generated file: per temperature and observable the original, generated,
    difference, relative deviation and Monte Carlo (`mc`: name -> (values, errors) per source row)."""
    rows = []
    with RunFile(path) as run:
        _check_source(path, run, source)
        estimator = "clusters" if "fk_bonds" in run.representations else "spins"
        n = run.snapshot_array("spin").shape[1]
        if n < 2:
            raise RunFileError(f"{path}: {n} configuration per temperature, at least 2 are needed")
        bins = min(N_BINS, n)
        for g, T in enumerate(run.temperatures):
            t = int(np.argmin(np.abs(source.temperatures - T)))
            original, generated = (
                read_observables(source, t, n, estimator),
                read_observables(run, g, n, estimator),
            )
            for name in OBSERVABLES:
                o, x = original[name], generated[name]
                (o_mean, x_mean, diff, rel), (o_err, x_err, diff_err, rel_err) = jackknife(
                    _paired(name in RELATIVE), o, x, n_bins=bins
                )
                rows.append(
                    {
                        "side": side,
                        "model": run.model.label,
                        "L": run.model.L,
                        "T": float(T),
                        "observable": name,
                        "estimator": estimator,
                        "n": n,
                        "original": o_mean,
                        "original_error": o_err,
                        "generated": x_mean,
                        "generated_error": x_err,
                        "difference": diff,
                        "difference_error": diff_err,
                        "z": diff / diff_err if diff_err > 0 else np.nan,
                        "relative": rel if name in RELATIVE else np.nan,
                        "relative_error": rel_err if name in RELATIVE else np.nan,
                        "mc": mc[name][0][t],
                        "mc_error": mc[name][1][t],
                    }
                )
        return Reproduction(side, str(path), run.model, rows)


def monte_carlo(source: RunFile) -> dict:
    """name -> (values, errors) per temperature row of the whole run: e and m² from its summary,
    G(L/2) from all its snapshots (jackknife over min(32, n) bins)."""
    summary = source.summary
    out = {name: summary[name] for name in RELATIVE}
    g = [read_observables(source, t)["g_half"] for t in range(source.temperatures.size)]
    out["g_half"] = tuple(
        np.array(v) for v in zip(*(jackknife(lambda m: m, s, n_bins=min(N_BINS, s.size)) for s in g))
    )
    return out


def reproductions(source_path, generated_dirs: dict) -> list[Reproduction]:
    """Every side's generated file of SOURCE's L, one step from SOURCE's blocks."""
    if not generated_dirs:
        raise InverseRGError("no generated directories given")
    with RunFile(source_path) as source:
        if not source.attrs.get("complete"):
            raise RunFileError(f"{source_path}: the run is not complete")
        if source.attrs.get("update") == GENERATED_UPDATE:
            raise InverseRGError(f"{source_path}: generated by a super-resolution network, not Monte Carlo")
        mc = monte_carlo(source)
        out = []
        for side, directory in generated_dirs.items():
            path = Path(directory) / f"L{source.model.L}.h5"
            if not path.exists():
                have = ", ".join(p.name for p in generated_files(directory))
                raise InverseRGError(f"{directory}: no L{source.model.L}.h5, SOURCE's size (has: {have})")
            out.append(reproduce(side, path, source, mc))
        return out


def phase_rows(reps: list[Reproduction]) -> list[dict]:
    """Per side, observable and phase (below / above the literature T_c): the mean |relative
    deviation| (e, m²) or |difference| (G(L/2)) over the temperatures, and the mean z²."""
    out = []
    for rep in reps:
        tc = rep.model.literature_tc
        for name in OBSERVABLES:
            for phase, sign in (("below", -1), ("above", 1)):
                rows = [r for r in rep.rows if r["observable"] == name and sign * (r["T"] - tc) > 0]
                if not rows:
                    continue
                key = "relative" if name in RELATIVE else "difference"
                out.append(
                    {
                        "side": rep.side,
                        "model": rep.model.label,
                        "L": rep.model.L,
                        "observable": name,
                        "phase": phase,
                        "n_T": len(rows),
                        "measure": "mean |relative|" if name in RELATIVE else "mean |difference|",
                        "deviation": float(np.mean([abs(r[key]) for r in rows])),
                        "mean_z2": float(np.mean([r["z"] ** 2 for r in rows])),
                    }
                )
    return out


def _deviation(row: dict) -> str:
    return f"{100 * row['deviation']:.2f} %" if row["observable"] in RELATIVE else f"{row['deviation']:.4f}"


def side_text(rep: Reproduction) -> str:
    """A table over T: original → generated per observable, with the relative deviation (e, m²) or
    the difference (G) and its distance from 0 in errors."""
    cells = []
    for T in sorted({r["T"] for r in rep.rows}):
        line = [f"{T:.5g}"]
        for name in OBSERVABLES:
            [r] = [r for r in rep.rows if r["T"] == T and r["observable"] == name]
            change = (
                format_value_error(100 * r["relative"], 100 * r["relative_error"]) + " %"
                if name in RELATIVE
                else format_value_error(r["difference"], r["difference_error"])
            )
            line.append(
                f"{format_value_error(r['original'], r['original_error'])} → "
                f"{format_value_error(r['generated'], r['generated_error'])} ({change}, {r['z']:+.1f}σ)"
            )
        cells.append(line)
    n, estimator = rep.rows[0]["n"], rep.rows[0]["estimator"]
    title = (
        f"### {rep.side}: {rep.model.label} L = {rep.model.L}, {n} configurations per T, measured on the "
        f"{estimator} ({rep.path})"
    )
    return "\n\n".join([title, markdown(["T", *OBSERVABLES.values()], cells)])


def comparison_text(phases: list[dict]) -> str:
    """The sides side by side: per model, observable and phase the deviation of each side, the
    smallest marked."""
    sides = list(dict.fromkeys(r["side"] for r in phases))
    keys = list(dict.fromkeys((r["model"], r["L"], r["observable"], r["phase"]) for r in phases))
    cells = []
    for model, L, name, phase in keys:
        found = {
            r["side"]: r
            for r in phases
            if (r["model"], r["L"], r["observable"], r["phase"]) == (model, L, name, phase)
        }
        best = min(found, key=lambda s: found[s]["deviation"])
        row = [model, str(L), OBSERVABLES[name], f"{phase} T_c ({found[best]['n_T']} T)"]
        row += [
            (f"**{_deviation(found[s])}**" if s == best and len(found) > 1 else _deviation(found[s]))
            if s in found
            else "—"
            for s in sides
        ]
        cells.append(row)
    return markdown(["model", "L", "observable", "temperatures", *sides], cells)


def plot_reproduction(reps: list[Reproduction], path: Path) -> None:
    """Per observable: the originals (line) and each side's generated configurations (markers)
    against T, and below them the deviation (relative for e and m², difference for G)."""
    plt = pyplot()
    fig, axes = plt.subplots(
        2, len(OBSERVABLES), figsize=(4.4 * len(OBSERVABLES), 6.4), sharex=True, squeeze=False
    )
    tc = reps[0].model.literature_tc
    for k, name in enumerate(OBSERVABLES):
        top, bottom = axes[0, k], axes[1, k]
        for i, rep in enumerate(reps):
            rows = sorted((r for r in rep.rows if r["observable"] == name), key=lambda r: r["T"])
            T = np.array([r["T"] for r in rows])

            def get(key, rows=rows):
                return np.array([r[key] for r in rows])

            if i == 0:
                top.errorbar(
                    T, get("original"), get("original_error"), color="k", lw=1, label="original (MC)"
                )
            top.errorbar(
                T,
                get("generated"),
                get("generated_error"),
                fmt="os"[i % 2],
                mfc="none",
                ms=4,
                capsize=2,
                label=rep.side,
            )
            key = "relative" if name in RELATIVE else "difference"
            bottom.errorbar(
                T,
                get(key),
                get(f"{key}_error"),
                fmt="os"[i % 2] + "-",
                mfc="none",
                ms=4,
                capsize=2,
                label=rep.side,
            )
        bottom.axhline(0, color="k", lw=0.8)
        for ax in (top, bottom):
            if tc is not None:
                ax.axvline(tc, color="grey", ls=":", lw=1)
        top.set_ylabel(OBSERVABLES[name])
        bottom.set_ylabel(
            f"relative deviation of {OBSERVABLES[name]}" if name in RELATIVE else f"Δ{OBSERVABLES[name]}"
        )
        bottom.set_xlabel("T / J")
        top.legend(frameon=False, fontsize=7)
    fig.suptitle(
        f"{reps[0].model.label} L = {reps[0].model.L}: one step from the blocks of each configuration"
    )
    save(fig, path)


def reproduction_report(source_path, generated_dirs: dict, out) -> str:
    """The whole analysis; writes to `out` onestep.md (the returned text), onestep.csv (per side, T
    and observable), onestep_phases.csv (the side comparison) and onestep.png."""
    text = reproduction_report_files(reproductions(source_path, generated_dirs), out)
    return f"{text}\n\nwritten to {out}: onestep.md, onestep.csv, onestep_phases.csv, onestep.png"


def reproduction_report_files(reps: list[Reproduction], out) -> str:
    """The files of reproduction_report for reproductions already made; returns the text."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    phases = phase_rows(reps)
    model = reps[0].model
    text = "\n\n".join(
        [
            f"# One-step reproduction: {model.label} L = {model.L} "
            f"(literature T_c = {model.literature_tc:.7g})",
            "Each configuration's block transform super-resolved once and compared with the configuration "
            "(original → generated (deviation, paired difference in errors)).",
            *(side_text(rep) for rep in reps),
            "### The sides compared (mean over the temperatures; e, m²: |relative deviation|, "
            "G(L/2): |difference|; the smallest in bold)",
            comparison_text(phases),
        ]
    )
    write_text(out / "onestep.md", text + "\n")
    write_csv([r for rep in reps for r in rep.rows], out / "onestep.csv")
    write_csv(phases, out / "onestep_phases.csv")
    plot_reproduction(reps, out / "onestep.png")
    return text
