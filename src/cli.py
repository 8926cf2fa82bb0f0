"""The argument parser of every entry point, the options shared by the sampler (src.sample) and the
trainer (src.train), and the command that runs the trainer as local DDP processes."""

from __future__ import annotations

import argparse
import sys


class Parser(argparse.ArgumentParser):
    """argparse with the project's convention for bad input: one line naming the problem, exit
    status 2 (argparse itself prints the whole usage first). Sub-commands inherit it."""

    def error(self, message):
        sys.stderr.write(f"error: {self.prog}: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def add_run_options(
    p: argparse.ArgumentParser, *, set_example: str, output: str, overwrite: str, resume: str
):
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"override one config key, e.g. --set {set_example} (repeatable)",
    )
    p.add_argument("--output", help=f"{output} (same as --set output=PATH)")
    p.add_argument("--overwrite", action="store_true", help=overwrite)
    p.add_argument("--resume", action="store_true", help=resume)
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def overrides(args: argparse.Namespace) -> list[str]:
    """The --set assignments with --output as one more."""
    return [*args.set, *([f"output={args.output}"] if args.output else [])]


def local_training(args: list[str], processes: int) -> list[str]:
    """argv of `python -m src.train ARGS` as `processes` DDP processes on this machine (torchrun from
    this interpreter, a local rendezvous)."""
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    return [*torchrun, f"--nproc-per-node={processes}", "-m", "src.train", *args]
