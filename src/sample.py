"""Entry point: python -m src.sample [CONFIG] [--set key=value ...] [--overwrite] [--resume]

Without CONFIG it runs the built-in default (a small Ising run). Under mpirun/srun all ranks work
on one run and write one file. SIGUSR1, SIGTERM or SIGINT make the run checkpoint and exit with
status 3; `--resume` continues it. Errors in the input are reported as one line naming the
problem, with exit status 2; no existing output is touched.
"""

from __future__ import annotations

import sys
import traceback

from src import signals

signals.install()  # before the heavy imports: a signal during start-up must not kill the rank

from src.cli import Parser, add_run_options, overrides  # noqa: E402
from src.sampling import config as cfg  # noqa: E402
from src.sampling.backends.array import BackendError  # noqa: E402
from src.storage.checkpoint import CheckpointError  # noqa: E402
from src.storage.reader import RunFileError  # noqa: E402
from src.storage.writer import OutputError  # noqa: E402

USER_ERRORS = (cfg.ConfigError, OutputError, CheckpointError, RunFileError, BackendError)


def parse_args(argv=None):
    p = Parser(prog="python -m src.sample", description=__doc__.splitlines()[0])
    p.add_argument("config", nargs="?", help="YAML config (default: the built-in small Ising run)")
    p.add_argument("--backend", choices=["auto", "cpu", "gpu", "array"], help="compute backend")
    add_run_options(
        p,
        set_example="sweeps.measure=500",
        output="output file",
        overwrite="replace an existing output file",
        resume="continue from the checkpoint if there is one (nothing to do if the output is complete)",
    )
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    assignments = overrides(args) + ([f"backend={args.backend}"] if args.backend else [])
    from src.parallel.mpi import world

    w = world()
    try:
        config = cfg.load(args.config, assignments)
        from src.sampling.driver.run import Checkpointed, run

        try:
            run(config, overwrite=args.overwrite, resume=args.resume, show_progress=not args.quiet)
        except Checkpointed:
            if w.root:
                print(f"checkpointed to {config.output}.ckpt; continue with --resume", file=sys.stderr)
            return signals.EXIT_CHECKPOINTED
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
