"""The tables of tools/study_transfer.sh (docs/studies.md, "Scale-aware criteria") from its outputs:
every variant and criterion on classical and quantum XY with the stiffness crossings of the same
files beside them, the Ising check, and the inputs compared.
Usage: python tools/study_transfer_table.py OUT"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

from src.analysis.criteria import Combined, estimates, fit
from src.analysis.stiffness import extrapolate_crossings, stiffness_curves, symbol
from src.stats.derived import format_value_error

HEAD = [
    "| networks | criterion | T_x per size (seed s.d.) | extrapolated | χ²/dof | each seed alone "
    "| deviation |",
    "|---|---|---|---|---|---|---|",
]


def points(folder: Path, criterion: str) -> list[Combined]:
    """The criterion's temperatures, recomputed from the evaluation's outputs.csv (so that every
    table uses the criteria and covariances of this release)."""
    curves: dict[tuple, dict] = {}
    for r in csv.DictReader(open(folder / "outputs.csv")):
        c = curves.setdefault((r["network"], r["file"]), {"path": r["file"], "L": int(r["L"]), "rows": []})
        c["rows"].append((float(r["T"]), float(r["output"]), float(r["error"])))
    for c in curves.values():
        c["T"], c["output"], c["error"] = np.array(c.pop("rows")).T
    # written member by member, each member's files by size
    n_files = len({file for _, file in curves})
    ordered = list(curves.values())
    members = [ordered[i : i + n_files] for i in range(0, len(ordered), n_files)]
    return estimates(criterion, members)


def accuracy(out: Path, folder: Path) -> str:
    """Mean and spread over the networks of the validation accuracy of best.pt (the epoch with the
    lowest validation loss), from their metrics.csv."""
    networks = {r["network"] for r in csv.DictReader(open(folder / "outputs.csv"))}
    values = []
    for network in networks:
        rows = list(csv.DictReader(open(Path(network).parent / "metrics.csv")))
        values.append(float(min(rows, key=lambda r: float(r["val_loss"]))["val_accuracy"]))
    return f"{np.mean(values):.4f} ± {np.std(values):.4f}"


def rows(folder: Path, form: str, nu: float, literature: float, label: str) -> list[str]:
    lines = []
    for criterion in ("half", "pairs"):
        if not (folder / "outputs.csv").exists():
            lines.append(f"| {label} | {criterion} | (no result: logs/classify_{folder.name}.log) | | | | |")
            continue
        ps = points(folder, criterion)
        cells = "; ".join(
            f"{p.label}: {format_value_error(p.value, p.error)} ({p.seed_sd:.1g})"
            if p.complete
            else f"{p.label}: none"
            for p in ps
        )
        f = fit(ps, form, nu)
        alone = [fit(ps, form, nu, member=i) for i in range(len(ps[0].members))] if ps else []
        alone = [a.T_c for a in alone if a is not None]
        spread = f"{min(alone):.4f} … {max(alone):.4f}" if alone else "—"
        if f is None:
            lines.append(f"| {label} | {criterion} | {cells} | none | | {spread} | |")
            continue
        quality = f"{f.chi2 / f.dof:.2g} ({f.dof})" if f.dof else "exact"
        lines.append(
            f"| {label} | {criterion} | {cells} | {format_value_error(f.T_c, f.T_c_error)} | {quality} "
            f"| {spread} | {100 * (f.T_c / literature - 1):+.1f} % |"
        )
    return lines


def stiffness_row(out: Path, prefix: str, literature: float) -> str:
    files = sorted(out.glob(f"{prefix}_L*.h5"), key=lambda p: int(p.stem.split("_L")[1]))
    curves = stiffness_curves(files)
    f = extrapolate_crossings(curves)
    crossings = "; ".join(f"{c['L']}: {format_value_error(*c['crossing'])}" for c in curves)
    quality = f"{f.chi2 / f.dof:.2g} ({f.dof})" if f.dof else "exact"
    return (
        f"| stiffness {symbol(curves)} = 2T/π | — | {crossings} | {format_value_error(f.T_c, f.T_c_error)} "
        f"| {quality} | — | {100 * (f.T_c / literature - 1):+.1f} % |"
    )


def main(out: Path) -> None:
    classify = out / "classify"
    lines = []
    for prefix, title, literature in (
        ("xy", "classical XY", 0.8929),
        ("qxy", "quantum XY (classical-XY networks)", 0.3427),
    ):
        lines += [f"### {title}, T_x = T_BKT + a/ln²L, literature T_BKT = {literature}", "", *HEAD]
        for variant in ("plain", "rescaled", "per_size"):
            lines += rows(classify / f"{variant}_{prefix}", "bkt", 1.0, literature, variant)
        lines += [stiffness_row(out, prefix, literature), ""]
    lines += ["### Ising, T_x = T_c + a/L, literature T_c = 2.269185", "", *HEAD]
    for rep in ("improved", "correlation"):
        lines += rows(classify / f"ising_{rep}_rescaled", "power", 1.0, 2.269185, f"{rep} × L^(1/4)")
    lines += rows(classify / "ising_spin_per_size", "power", 1.0, 2.269185, "spin, one network per L")
    lines += ["", "### classical XY, the inputs compared (L ≤ 64)", ""]
    lines += ["| input | validation accuracy | " + HEAD[0].split("| ", 2)[2], "|---" + HEAD[1]]
    for name, label in (
        ("xy_spin", "spin"),
        ("xy_correlation_rescaled", "correlation × L^(1/4)"),
        ("xy1_improved_rescaled", "improved, one axis, × L^(1/4)"),
        ("xy_improved_rescaled", "improved, two axes, × L^(1/4)"),
    ):
        folder = classify / f"inputs_{name}"
        score = accuracy(out, folder) if (folder / "outputs.csv").exists() else "—"
        lines += [f"| {label} | {score} |{r.split('|', 2)[2]}" for r in rows(folder, "bkt", 1.0, 0.8929, "")]
    text = "\n".join(lines)
    (out / "table_transfer.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
