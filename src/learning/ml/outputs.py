"""The output folder of a training run: the files it holds and the rules for reusing it.

config.yaml     the validated config of the run
metrics.csv     one row per epoch (METRIC_COLUMNS)
best.pt         the network with the lowest validation loss so far (see networks.load_model)
last.pt         the network after the last finished epoch
checkpoint.pt   everything needed to continue the run (--resume)
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from src.learning.ml.config import RunConfig, dump
from src.learning.ml.errors import TrainError

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
    """Remove the files of an earlier run (check_unused allowed it)."""
    out.mkdir(parents=True, exist_ok=True)
    for name in RUN_FILES:
        (out / name).unlink(missing_ok=True)


def write_config(out: Path, config: RunConfig) -> None:
    _replace_text(out / CONFIG, dump(config))


def write_metrics(out: Path, history: list[dict]) -> None:
    tmp = out / (METRICS + ".tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=METRIC_COLUMNS)
        writer.writeheader()
        writer.writerows(history)
    os.replace(tmp, out / METRICS)


def _replace_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
