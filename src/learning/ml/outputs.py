"""The output folder of a training run: the files it holds and the rules for reusing it.

config.yaml     the validated config of the run
metrics.csv     one row per epoch (METRIC_COLUMNS)
best.pt         the network with the lowest validation loss so far (see networks.load_model)
last.pt         the network after the last finished epoch
checkpoint.pt   everything needed to continue the run (--resume)
"""

from __future__ import annotations

import csv
from pathlib import Path

from src.learning.ml.config import RunConfig, dump
from src.learning.ml.errors import TrainError
from src.storage.atomic import replaced, write_text

CONFIG, METRICS, BEST, LAST, CHECKPOINT = "config.yaml", "metrics.csv", "best.pt", "last.pt", "checkpoint.pt"
RUN_FILES = (CONFIG, METRICS, BEST, LAST, CHECKPOINT)
METRIC_COLUMNS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds")


def check_unused(out: Path, overwrite: bool) -> None:
    """A fresh run may not replace another run's files unless told to."""
    if out.exists() and not out.is_dir():
        raise TrainError(f"output {out}: exists and is not a folder")
    taken = [name for name in RUN_FILES if (out / name).exists()]
    if taken and not overwrite:
        raise TrainError(
            f"output {out}: holds a training run ({', '.join(taken)}); "
            "--overwrite replaces it, --resume continues it"
        )


def clear(out: Path) -> None:
    """Start afresh over an earlier run (check_unused allowed it): its checkpoint, which only that
    run may continue, is removed; its networks and metrics stay until the new run's first epoch
    replaces them (each file whole, src.storage.atomic), so a run that fails early loses nothing."""
    out.mkdir(parents=True, exist_ok=True)
    (out / CHECKPOINT).unlink(missing_ok=True)


def write_config(out: Path, config: RunConfig) -> None:
    write_text(out / CONFIG, dump(config))


def write_metrics(out: Path, history: list[dict]) -> None:
    with replaced(out / METRICS, newline="") as f:
        writer = csv.DictWriter(f, fieldnames=METRIC_COLUMNS)
        writer.writeheader()
        writer.writerows(history)
