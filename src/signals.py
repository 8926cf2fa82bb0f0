"""The signals that ask a run to checkpoint and stop (Slurm sends SIGUSR1 before a time limit
with `--signal`, SIGTERM on cancellation or preemption). A handler only notes the signal; the run
acts on it at the next point where every rank can agree (src.sampling.driver.run)."""

import signal

CHECKPOINT_SIGNALS = (signal.SIGUSR1, signal.SIGTERM, signal.SIGINT)
EXIT_CHECKPOINTED = 3  # exit status of a run that stopped after its checkpoint: rerun with --resume
received = 0  # the last such signal, 0 if none


class Checkpointed(Exception):
    """Raised, on every rank of a run, after the checkpoint that a signal asked for."""


def _note(signum, frame):
    global received
    received = signum


def install() -> None:
    for sig in CHECKPOINT_SIGNALS:
        signal.signal(sig, _note)
