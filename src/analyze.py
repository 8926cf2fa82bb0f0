"""Entry point: python -m src.analyze COMMAND FILE [FILE ...]

summary FILE...                  the summary table (values with jackknife errors) of run files
stiffness FILE... [--plot PNG]   quantum XY: where rho_s(T; L) crosses 2T/pi, per file (one L each)
classify MODEL.pt FILE... [--out DIR] [--class K] [--form power|bkt] [--nu NU]
                                 a trained classifier's output vs T per file (one L each), where it
                                 crosses 1/2, and the extrapolation of that crossing in L
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from src.analysis import classify as cls
from src.analysis.crossing import NoCrossing
from src.analysis.fss import FORMS
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
    c = sub.add_parser("classify", help="a trained classifier over run files: where its output crosses 1/2")
    c.add_argument("model", type=Path, help="a model file of python -m src.train (best.pt, last.pt)")
    c.add_argument("files", nargs="+")
    c.add_argument("--out", type=Path, default=Path("results/classify"), help="folder of the CSV and figures")
    c.add_argument(
        "--class", dest="output_class", help="class (index or name) of the output; default: the ordered one"
    )
    c.add_argument(
        "--form", choices=FORMS, default="power", help="T_x = T_c + a L^(-1/nu), or bkt: + a/ln^2 L"
    )
    c.add_argument("--nu", type=float, default=1.0, help="the exponent nu of the power form")
    c.add_argument("--device", default="cpu", help="torch device of the network")
    args = p.parse_args(argv)
    try:
        if args.command == "summary":
            for path in args.files:
                summary_table(path)
        elif args.command == "classify":
            classify(args)
        else:
            curves = stiffness_curves(args.files)
            for c in curves:
                crossing = format_value_error(*c["crossing"])
                print(f"L = {c['L']:4d}: rho_s = 2T/pi at T = {crossing}  ({c['path']})")
            plot_stiffness(curves, args.plot)
            print(f"figure: {args.plot}")
    except (RunFileError, NoCrossing, cls.ClassifyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def classify(args) -> None:
    network, meta = cls.load_classifier(args.model, args.device)
    k = cls.output_class(meta["labels"], args.output_class)
    name = cls.class_name(meta["labels"], k)
    curves = cls.classify_files(args.files, network, meta, k, args.device)
    fit = cls.extrapolate_crossings(curves, args.form, args.nu)
    summary = cls.summary_text(curves, fit, name)
    print(summary)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.txt").write_text(summary + "\n")
    cls.write_csv(curves, args.out / "outputs.csv")
    cls.plot_outputs(curves, name, args.out / "outputs.png")
    if fit is not None:
        cls.plot_extrapolation(curves, fit, args.out / "extrapolation.png")
    print(
        f"written to {args.out}: summary.txt, outputs.csv, outputs.png"
        + (", extrapolation.png" if fit else "")
    )


def summary_table(path) -> None:
    with RunFile(path) as run:
        m = run.model
        q = f" q={m.q}" if m.name in ("potts", "clock") else ""
        print(f"{path}: {m.name}{q} L={m.L}, {run.attrs['update']}, seed {run.attrs['seed']}")
        summary = run.summary
        print(format_summary_table(summary, run.temperatures, columns=headline_columns(summary)))


if __name__ == "__main__":
    sys.exit(main())
