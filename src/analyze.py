"""Entry point: python -m src.analyze summary FILE [FILE ...]

Prints the summary table (values with jackknife errors) stored in run files.
"""

from __future__ import annotations

import argparse
import sys

from src.stats.derived import format_summary_table, headline_columns
from src.storage.reader import RunFile, RunFileError


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m src.analyze", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("summary", help="the table of estimates of run files")
    s.add_argument("files", nargs="+")
    args = p.parse_args(argv)
    try:
        for path in args.files:
            with RunFile(path) as run:
                m = run.model
                q = f" q={m.q}" if m.name in ("potts", "clock") else ""
                print(f"{path}: {m.name}{q} L={m.L}, {run.attrs['update']}, seed {run.attrs['seed']}")
                summary = run.summary
                print(format_summary_table(summary, run.temperatures, columns=headline_columns(summary)))
    except RunFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
