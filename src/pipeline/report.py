"""results/report.md: every estimate of the study beside its literature value, the inverse-RG error
table, and the figures, from the stages' outputs (src.pipeline.stages)."""

from __future__ import annotations

import math
from pathlib import Path

from src.analysis.classify import classify_report
from src.analysis.inverse_rg import (
    OBSERVABLES,
    comparison_rows,
    comparisons,
    error_rows,
    markdown,
    write_report,
)
from src.analysis.stiffness import extrapolate_crossings, plot_stiffness, stiffness_curves
from src.pipeline.config import PipelineConfig
from src.pipeline.stages import SIDES, StudyPaths
from src.provenance import now, provenance
from src.stats.derived import format_value_error
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


def estimates(cfg: PipelineConfig, figures: Path) -> tuple[list[list[str]], list]:
    """(rows of the estimates table: quantity, method, estimate, literature; the inverse-RG
    comparisons of src.analysis.inverse_rg), writing the analyses' files and figures under `figures`."""
    at = StudyPaths(cfg.data)
    c, r = cfg.classification, cfg.inverse_rg
    network = at.model("classifier") / "best.pt"
    sizes = ", ".join(map(str, c.sizes))
    rows = []
    for label, prefix, folder in (
        ("T_BKT, classical XY", "xy", "classify_xy"),  # the stages' file prefixes (src.pipeline.stages)
        ("T_BKT, quantum XY (classical-XY network)", "qxy", "classify_quantum_xy"),
    ):
        files = [at.run(f"{prefix}_L{L}") for L in c.sizes]
        _, curves, fit, _ = classify_report(network, files, figures / folder, form="bkt")
        method = (
            f"CNN on `improved` (r = L/2), P = 1/2 at L = {sizes}: {_crossings(curves)}; T_x = T_BKT + a/ln²L"
        )
        value = _estimate(fit.T_c, fit.T_c_error) if fit else "none (fewer than two crossings)"
        rows.append([label, method, value, _literature(files[0])])
    quantum_files = [at.run(f"qxy_L{L}") for L in c.sizes]
    stiffness = stiffness_curves(quantum_files)
    plot_stiffness(stiffness, figures / "stiffness_quantum_xy.png")
    fit = extrapolate_crossings(stiffness)
    rows.append(
        [
            "T_BKT, quantum XY (spin stiffness)",
            f"ρ_s(T*) = 2T*/π from winding numbers at L = {sizes}: {_crossings(stiffness)}; "
            "T* = T_BKT + a/ln²L",
            _estimate(fit.T_c, fit.T_c_error),
            _literature(quantum_files[0]),
        ]
    )
    generated = {side: at.generated(side) for side in SIDES}
    references = [at.run(f"ising_L{L}") for L in r.reference_sizes]
    comps = comparisons(references, generated)
    write_report(comps, figures / "inverse_rg")
    for e in error_rows(comps):
        if e["L"] == max(r.reference_sizes):
            rows.append(
                [
                    f"T_c, Ising: fixed point of the inverse-RG flow of {OBSERVABLES[e['observable']]}",
                    f"{e['side']} network trained at T = {r.train_temperature:g} on L = {r.size}, "
                    f"generated L = {e['L']} against Monte Carlo",
                    _estimate(e["T_fixed"], e["T_fixed_error"]),
                    _literature(references[0]),
                ]
            )
    return rows, comps


def error_table(comps: list, T_train: float) -> str:
    """Spin against graph side per L and observable: the relative error and z of the generated
    configurations against Monte Carlo at the training temperature (where the networks were taught
    the map), and the mean |relative error| over all temperatures (which includes the flow)."""
    errors = {(e["side"], e["L"], e["observable"]): e for e in error_rows(comps)}
    at_train = {
        (r["side"], r["L"], r["observable"]): r
        for r in comparison_rows(comps)
        if math.isclose(r["T"], T_train)
    }
    keys = sorted({k[1:] for k in errors}, key=lambda k: (k[0], list(OBSERVABLES).index(k[1])))
    cells = []
    for L, name in keys:
        row = [str(L), OBSERVABLES[name]]
        for side in SIDES:
            r, e = at_train.get((side, L, name)), errors.get((side, L, name))
            row.append(f"{100 * r['relative']:+.3g} % (z = {r['z']:.2g})" if r else "—")
            row.append(f"{100 * e['mean_abs_relative']:.3g} %" if e else "—")
        cells.append(row)
    header = ["L", "observable"]
    for side in SIDES:
        header += [f"{side}: at T = {T_train:g}", f"{side}: mean over T"]
    return markdown(header, cells)


def write(cfg: PipelineConfig, seconds: float) -> Path:
    """Write <output>/report.md (and the figures under <output>/figures); returns its path."""
    figures = cfg.root / "figures"
    rows, comps = estimates(cfg, figures)
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
            "Relative error of the generated configurations against Monte Carlo at the same L, at the "
            "temperature the networks learnt from (z: in units of the combined error), and its mean "
            "magnitude over the temperature grid, which also measures the flow T -> T' away from the "
            "fixed point. Details: `figures/inverse_rg/report.md`.",
            error_table(comps, cfg.inverse_rg.train_temperature),
            "## Figures",
            *(f"![{p.stem}]({p.relative_to(cfg.root)})" for p in sorted(figures.rglob("*.png"))),
        ]
    )
    path = cfg.root / "report.md"
    path.write_text(text + "\n")
    return path
