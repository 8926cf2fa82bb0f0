"""Entry point: python -m src.sample [CONFIG] [--set key=value ...] [--overwrite] [--resume]

Without CONFIG it runs the built-in default (a small Ising run). Under mpirun/srun all ranks work
on one run and write one file. SIGUSR1, SIGTERM or SIGINT make the run checkpoint and exit with
status 3; `--resume` continues it. Errors in the input are reported as one line naming the
problem, with exit status 2; no existing output is touched.
"""

from __future__ import annotations

import argparse
import sys
import traceback

from src import signals

signals.install()  # before the heavy imports: a signal during start-up must not kill the rank

from src import config as cfg  # noqa: E402
from src.storage.checkpoint import CheckpointError  # noqa: E402
from src.storage.reader import RunFileError  # noqa: E402
from src.storage.writer import OutputError  # noqa: E402
from src.updates.array_backend import BackendError  # noqa: E402

USER_ERRORS = (cfg.ConfigError, OutputError, CheckpointError, RunFileError, BackendError)


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
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue from the checkpoint if there is one (nothing to do if the output is complete)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    overrides = list(args.set)
    if args.output:
        overrides.append(f"output={args.output}")
    if args.backend:
        overrides.append(f"backend={args.backend}")
    from src.parallel.mpi import world

    w = world()
    try:
        config = cfg.load(args.config, overrides)
        from src.driver import EXIT_CHECKPOINTED, Checkpointed, run

        try:
            run(config, overwrite=args.overwrite, resume=args.resume, show_progress=not args.quiet)
        except Checkpointed:
            if w.root:
                print(f"checkpointed to {config.output}.ckpt; continue with --resume", file=sys.stderr)
            return EXIT_CHECKPOINTED
    except USER_ERRORS as err:
        if w.root:
            print(f"error: {err}", file=sys.stderr)
        return 2
    except Exception:
        if w.size > 1:  # one rank failing alone would leave the others waiting forever
            traceback.print_exc()
            w.comm.Abort(1)
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
