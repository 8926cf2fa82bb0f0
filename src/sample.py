"""Entry point: python -m src.sample [CONFIG] [--set key=value ...] [--overwrite]

Without CONFIG it runs the built-in default (a small Ising run). Errors in the input are reported
as one line naming the problem, with exit status 2; no existing output is touched.
"""

from __future__ import annotations

import argparse
import signal
import sys

from src import config as cfg
from src.storage.writer import OutputError


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m src.sample", description=__doc__.splitlines()[0])
    p.add_argument("config", nargs="?", help="YAML config (default: the built-in small Ising run)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config key, e.g. --set sweeps.measure=500 (repeatable)",
    )
    p.add_argument("--output", help="output file (same as --set output=PATH)")
    p.add_argument("--backend", choices=["auto", "cpu", "gpu", "array"], help="compute backend")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p.parse_args(argv)


class Interrupted(Exception):
    """SIGTERM or SIGINT arrived; the run stops and its partial output is removed."""


def _interrupt(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def main(argv=None) -> int:
    args = parse_args(argv)
    # installed explicitly: a process started in the background may inherit SIGINT as ignored
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _interrupt)
    overrides = list(args.set)
    if args.output:
        overrides.append(f"output={args.output}")
    if args.backend:
        overrides.append(f"backend={args.backend}")
    try:
        config = cfg.load(args.config, overrides)
        from src.driver import run

        run(config, overwrite=args.overwrite, show_progress=not args.quiet)
    except (cfg.ConfigError, OutputError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Interrupted as sig:
        print(f"error: interrupted by {sig}; nothing written, any existing output kept", file=sys.stderr)
        return 128 + signal.Signals[str(sig)].value
    return 0


if __name__ == "__main__":
    sys.exit(main())
