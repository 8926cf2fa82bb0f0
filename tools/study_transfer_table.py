"""The tables of tools/study_transfer.sh (docs/studies.md, "Scale-aware criteria") from its outputs:
every variant and criterion on classical and quantum XY, with the stiffness crossings of the same
files beside them. Usage: python tools/study_transfer_table.py OUT"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

from src.analysis.criteria import Combined, fit
from src.analysis.stiffness import extrapolate_crossings, stiffness_curves, symbol
from src.stats.derived import format_value_error

LITERATURE = {"xy": 0.8929, "qxy": 0.3427}
MODELS = {"xy": "classical XY", "qxy": "quantum XY (classical-XY networks)"}


def points(path: Path) -> list[Combined]:
    """The Combined temperatures of a crossings.csv, in its order."""
    rows: dict[str, list] = {}
    for r in csv.DictReader(open(path)):
        if r["network"] != "all":
            value = (float(r["T_x"]), float(r["error"])) if r["T_x"] else None
            rows.setdefault(r["sizes"], []).append(value)
    return [
        Combined(k, math.prod(map(int, k.split("/"))) ** (1 / len(k.split("/"))), tuple(v))
        for k, v in rows.items()
    ]


def estimate(value, error) -> str:
    return format_value_error(value, error)


def main(out: Path) -> None:
    lines = []
    for prefix, model in MODELS.items():
        lines += [f"### {model}, literature T_BKT = {LITERATURE[prefix]}", ""]
        lines += [
            "| networks | criterion | T_x per size (seed s.d.) | T_BKT (a/ln²L) | χ²/dof "
            "| each seed alone | deviation |"
        ]
        lines += ["|---|---|---|---|---|---|---|"]
        for folder in sorted((out / "classify").glob(f"*_{prefix}")):
            variant, criterion = folder.name.rsplit("_", 2)[:2]
            table = folder / "crossings.csv"
            if not table.exists():
                lines.append(
                    f"| {variant} | {criterion} | (failed: logs/classify_{folder.name}.log) | | | | |"
                )
                continue
            ps = points(table)
            cells = "; ".join(
                f"{p.label}: {estimate(p.value, p.error)} ({p.seed_sd:.1g})"
                if p.complete
                else f"{p.label}: none"
                for p in ps
            )
            f = fit(ps, "bkt", 1.0)
            alone = [fit(ps, "bkt", 1.0, member=i) for i in range(len(ps[0].members))]
            alone = [a.T_c for a in alone if a is not None]
            spread = f"{min(alone):.4f} … {max(alone):.4f}" if alone else "—"
            if f is None:
                lines.append(f"| {variant} | {criterion} | {cells} | none | | {spread} | |")
                continue
            deviation = 100 * (f.T_c / LITERATURE[prefix] - 1)
            quality = f"{f.chi2 / f.dof:.2g}" if f.dof else "exact"
            lines.append(
                f"| {variant} | {criterion} | {cells} | {estimate(f.T_c, f.T_c_error)} | {quality} ({f.dof}) "
                f"| {spread} | {deviation:+.1f} % |"
            )
        files = sorted(out.glob(f"{prefix}_L*.h5"), key=lambda p: int(p.stem.split("_L")[1]))
        curves = stiffness_curves(files)
        f = extrapolate_crossings(curves)
        crossings = "; ".join(f"{c['L']}: {estimate(*c['crossing'])}" for c in curves)
        deviation = 100 * (f.T_c / LITERATURE[prefix] - 1)
        quality = f"{f.chi2 / f.dof:.2g} ({f.dof})" if f.dof else "exact"
        lines.append(
            f"| stiffness {symbol(curves)} = 2T/π | — | {crossings} | {estimate(f.T_c, f.T_c_error)} "
            f"| {quality} | — | {deviation:+.1f} % |"
        )
        lines.append("")
    text = "\n".join(lines)
    (out / "table_transfer.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
