"""Entry point: python -m src.train CONFIG [--set key=value ...] [--overwrite] [--resume] [--quiet]

Trains a network on the snapshots of run files: a phase classifier (docs/training.md), or with
`task: superres` a super-resolution network, the inverse RG step (docs/rg.md). One process by
default; under torchrun (or srun with MASTER_ADDR/MASTER_PORT) every process is one DDP rank.
SIGUSR1, SIGTERM or SIGINT make the run checkpoint at the next step and exit with status 3;
`--resume` continues it. Bad input is reported as one line with exit status 2, and no output is
touched.
"""

from __future__ import annotations

import sys

from src import signals

signals.install()  # before the heavy imports: a signal during start-up must not kill the rank

from src.cli import Parser, add_run_options, overrides  # noqa: E402
from src.learning.ml.distributed import env_ranks, leave  # noqa: E402
from src.learning.ml.errors import USER_ERRORS, RankError  # noqa: E402
from src.learning.ml.trainer import train  # noqa: E402
from src.learning.tasks import load  # noqa: E402


def parse_args(argv=None):
    p = Parser(prog="python -m src.train", description=__doc__.splitlines()[0])
    p.add_argument("config", help="YAML config (see configs/train_*.yaml, configs/superres_*.yaml)")
    add_run_options(
        p,
        set_example="training.epochs=5",
        output="output folder",
        overwrite="replace the models of an earlier run there",
        resume="continue from the output's checkpoint if there is one",
    )
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    root = env_ranks()[0] == 0
    try:
        config, task = load(args.config, overrides(args))
        train(config, task=task, overwrite=args.overwrite, resume=args.resume, show_progress=not args.quiet)
    except signals.Checkpointed:
        if root:
            print(f"checkpointed to {config.output}; continue with --resume", file=sys.stderr)
        return signals.EXIT_CHECKPOINTED
    except USER_ERRORS as err:
        # every rank checks the input; rank 0 reports, others only what they alone found
        if root or isinstance(err, RankError):
            print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    leave(main())
