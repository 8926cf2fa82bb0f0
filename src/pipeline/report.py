"""results/report.md: every estimate of the study beside its literature value, the inverse-RG error
table, and the figures, from the stages' outputs (src.pipeline.stages)."""

from __future__ import annotations

import math
from pathlib import Path

from src.analysis.classify import classify_report
from src.analysis.criteria import CRITERIA
from src.analysis.inverse_rg import (
    OBSERVABLES,
    comparisons,
    error_rows,
    markdown,
    write_report,
)
from src.analysis.pictures import show
from src.analysis.reproduction import comparison_text, phase_rows, reproduction_report_files, reproductions
from src.analysis.stiffness import extrapolate_crossings, plot_stiffness, stiffness_curves, symbol
from src.pipeline.config import PipelineConfig
from src.pipeline.stages import SIDES, StudyPaths
from src.provenance import now, provenance
from src.stats.derived import format_value_error
from src.storage.atomic import write_text
from src.storage.reader import RunFile


def _literature(path) -> str:
    """The literature T_c (T_BKT) of the model a file holds."""
    with RunFile(path) as run:
        return f"{run.model.literature_tc}"


def _estimate(value: float, error: float) -> str:
    return format_value_error(value, error) if math.isfinite(value) else "none"


def _crossings(curves) -> str:
    return ", ".join(
        f"{_estimate(*c['crossing'])} (L = {c['L']})" if c["crossing"] else f"none (L = {c['L']})"
        for c in curves
    )


def _classifier_method(c, ev) -> str:
    scaled = f" × L^{c.train['data']['rescale']:g}" if c.train.get("data", {}).get("rescale") else ""
    networks = f"{len(ev.members)} networks{' per size' if ev.mode == 'per size' else ''} (seeds)"
    temperatures = "; ".join(f"{p.label}: {p.line().split('  [')[0]}" for p in ev.points)
    return (
        f"CNN on `improved` (r = L/2){scaled}, {networks}, {CRITERIA[c.criterion]}: {temperatures}; "
        "T_x = T_BKT + a/ln²L"
    )


def _stiffness_row(label: str, files, figure: Path) -> list[str]:
    curves = stiffness_curves(files)
    plot_stiffness(curves, figure)
    fit = extrapolate_crossings(curves)
    sizes = ", ".join(str(c["L"]) for c in curves)
    return [
        label,
        f"{symbol(curves)}(T*) = 2T*/π at L = {sizes}: {_crossings(curves)}; T* = T_BKT + a/ln²L",
        _estimate(fit.T_c, fit.T_c_error),
        _literature(files[0]),
    ]


def estimates(cfg: PipelineConfig, figures: Path) -> tuple[list[list[str]], list]:
    """(rows of the estimates table: quantity, method, estimate, literature; the inverse-RG
    comparisons of src.analysis.inverse_rg), writing the analyses' files and figures under `figures`.
    Every classifier row is followed by the stiffness crossing of the same files."""
    at = StudyPaths(cfg.data)
    c, r = cfg.classification, cfg.inverse_rg
    networks = [at.model(id) / "best.pt" for id, _, _ in c.classifiers()]
    rows = []
    for label, prefix, folder, stiffness in (
        ("T_BKT, classical XY", "xy", "classify_xy", "T_BKT, classical XY (helicity modulus)"),
        (
            "T_BKT, quantum XY (classical-XY network)",
            "qxy",
            "classify_quantum_xy",
            "T_BKT, quantum XY (spin stiffness)",
        ),
    ):  # the stages' file prefixes (src.pipeline.stages)
        files = [at.run(f"{prefix}_L{L}") for L in c.sizes]
        _, (ev,), _ = classify_report(networks, files, figures / folder, form="bkt", judged=[c.criterion])
        value = _estimate(ev.fit.T_c, ev.fit.T_c_error) if ev.fit else "none (fewer than two sizes)"
        rows.append([label, _classifier_method(c, ev), value, _literature(files[0])])
        rows.append(_stiffness_row(stiffness, files, figures / f"stiffness_{folder.split('_', 1)[1]}.png"))
    generated = {side: at.generated(side) for side in SIDES}
    references = [at.run(f"ising_L{L}") for L in r.reference_sizes]
    comps = comparisons(references, generated)
    write_report(comps, figures / "inverse_rg")
    for e in error_rows(comps):
        if e["L"] == max(r.reference_sizes):
            rows.append(
                [
                    f"T_c, Ising: fixed point of the inverse-RG flow of {OBSERVABLES[e['observable']]}",
                    f"{e['side']} network trained {trained_on(r)} of L = {r.size}, "
                    f"generated L = {e['L']} against Monte Carlo",
                    _estimate(e["T_fixed"], e["T_fixed_error"]),
                    _literature(references[0]),
                ]
            )
    return rows, comps


def trained_on(r) -> str:
    """Which temperatures the inverse-RG networks learnt from, in words."""
    if r.train_temperatures == "all":
        return "on every temperature (one network for all T)"
    return f"at T = {', '.join(f'{T:g}' for T in r.train_temperatures)}"


def one_step(cfg: PipelineConfig, folder: Path) -> str:
    """The side comparison of the one-step reproduction (src.analysis.reproduction) on the test run;
    its tables and figure go to `folder`."""
    at, r = StudyPaths(cfg.data), cfg.inverse_rg
    reps = reproductions(at.run(f"ising_L{r.size}_test"), {side: at.onestep(side) for side in SIDES})
    reproduction_report_files(reps, folder)
    return comparison_text(phase_rows(reps))


def gallery(cfg: PipelineConfig, folder: Path) -> list[Path]:
    """Snapshots below, near and above the transition (src.analysis.pictures) of the largest
    classical and quantum XY files and of the Ising file the super-resolution networks learn from:
    spin and graph inputs side by side."""
    at = StudyPaths(cfg.data)
    c, r = cfg.classification, cfg.inverse_rg
    L = max(c.sizes)
    sources = {
        f"xy_L{L}": at.run(f"xy_L{L}"),
        f"qxy_L{L}": at.run(f"qxy_L{L}"),
        "ising": at.run(f"ising_L{r.size}"),
    }
    return [show(path, folder / f"{name}.png") for name, path in sources.items()]


def error_table(comps: list) -> str:
    """Spin against graph side per generated L and observable: the mean |relative error| against
    Monte Carlo of that L over the temperatures (which includes the flow T -> T') and the fixed
    point of the flow."""
    errors = {(e["side"], e["L"], e["observable"]): e for e in error_rows(comps)}
    keys = sorted({k[1:] for k in errors}, key=lambda k: (k[0], list(OBSERVABLES).index(k[1])))
    cells = []
    for L, name in keys:
        row = [str(L), OBSERVABLES[name]]
        for side in SIDES:
            e = errors.get((side, L, name))
            row.append(f"{100 * e['mean_abs_relative']:.3g} %" if e else "—")
            row.append(_estimate(e["T_fixed"], e["T_fixed_error"]) if e else "—")
        cells.append(row)
    header = ["L", "observable"]
    for side in SIDES:
        header += [f"{side}: mean over T", f"{side}: fixed point"]
    return markdown(header, cells)


def write(cfg: PipelineConfig, seconds: float) -> Path:
    """Write <output>/report.md (and the figures under <output>/figures); returns its path."""
    figures = cfg.root / "figures"
    rows, comps = estimates(cfg, figures)
    reproduction = one_step(cfg, figures / "onestep")
    pictures = gallery(cfg, figures / "gallery")
    info = provenance()
    text = "\n\n".join(
        [
            "# Results",
            f"Written {now()} by python -m src.pipeline ({info['software_version']}, commit "
            f"{info['git_commit']}, {info['host']}) in {seconds:.0f} s; the stages' configs and data are in "
            f"`{cfg.data}`.",
            "## Estimates and literature values",
            markdown(["quantity", "method", "estimate", "literature"], rows),
            "## Inverse RG: spin against graph super-resolution",
            f"Both networks trained {trained_on(cfg.inverse_rg)}. One-step reproduction: each configuration "
            "of an independent Monte Carlo run super-resolved from its block and compared with itself, "
            "mean over the temperatures below and above T_c (e, m²: |relative deviation|; G(L/2): "
            "|difference|; the smaller in bold). Per temperature: `figures/onestep/onestep.md`.",
            reproduction,
            "Repeated enlargement: relative error of the generated sizes against Monte Carlo of the same L "
            "and T over the temperature grid (which includes the flow T -> T') and the fixed point of the "
            "flow. Details: `figures/inverse_rg/report.md`.",
            error_table(comps),
            "## What the networks see",
            "One snapshot at the lowest temperature, the one nearest the transition and the highest, of "
            "every stored input (spin, graph and improved correlation configurations; for the quantum "
            "model the loops of one graph in the (x, τ) plane): `python -m src.analyze show FILE`.",
            *(f"![{p.stem}]({p.relative_to(cfg.root)})" for p in pictures),
            "## Figures",
            *(
                f"![{p.stem}]({p.relative_to(cfg.root)})"
                for p in sorted(figures.rglob("*.png"))
                if p.parent.name != "gallery"
            ),
        ]
    )
    path = cfg.root / "report.md"
    write_text(path, text + "\n")
    return path
