"""Entry point: python -m src.analyze COMMAND FILE [FILE ...]

summary FILE...                  the summary table (values with jackknife errors) of run files
stiffness FILE... [--plot PNG]   quantum XY: where rho_s(T; L) crosses 2T/pi, per file (one L each)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from src.analysis.crossing import NoCrossing
from src.analysis.stiffness import plot_stiffness, stiffness_curves
from src.stats.derived import format_summary_table, format_value_error, headline_columns
from src.storage.reader import RunFile, RunFileError


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m src.analyze", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("summary", help="the table of estimates of run files")
    s.add_argument("files", nargs="+")
    k = sub.add_parser("stiffness", help="BKT criterion: crossing of the spin stiffness with 2T/pi")
    k.add_argument("files", nargs="+")
    k.add_argument("--plot", type=Path, default=Path("results/stiffness.png"), help="figure (PNG/PDF)")
    args = p.parse_args(argv)
    try:
        if args.command == "summary":
            for path in args.files:
                summary_table(path)
        else:
            curves = stiffness_curves(args.files)
            for c in curves:
                crossing = format_value_error(*c["crossing"])
                print(f"L = {c['L']:4d}: rho_s = 2T/pi at T = {crossing}  ({c['path']})")
            plot_stiffness(curves, args.plot)
            print(f"figure: {args.plot}")
    except (RunFileError, NoCrossing) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def summary_table(path) -> None:
    with RunFile(path) as run:
        m = run.model
        q = f" q={m.q}" if m.name in ("potts", "clock") else ""
        print(f"{path}: {m.name}{q} L={m.L}, {run.attrs['update']}, seed {run.attrs['seed']}")
        summary = run.summary
        print(format_summary_table(summary, run.temperatures, columns=headline_columns(summary)))


if __name__ == "__main__":
    sys.exit(main())
