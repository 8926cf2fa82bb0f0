"""What a training run learns from which snapshots: the part of a run that differs between tasks
(phase classification in src.learning.ml.classification, super-resolution in src.learning.rg.training).
src.learning.ml.trainer.Trainer does the rest: processes, batches, optimisation, checkpoints, output files.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import torch
from torch import nn

from src.learning.ml.config import RunConfig
from src.learning.ml.dataset import SnapshotDataset, SnapshotIndex, split
from src.learning.ml.sources import Source


class Task(ABC):
    """Built on every rank from the config, reading file metadata only, so that bad input raises one
    of src.learning.ml.errors.USER_ERRORS before anything is written. A subclass reads its sources and picks
    its snapshots, then calls this __init__, which holds out the validation snapshots."""

    def __init__(self, config: RunConfig, sources: list[Source], index: SnapshotIndex):
        tc = config.training
        self.config, self.sources = config, sources
        self.sizes = sorted({s.model.L for s in sources})
        self.train_index, self.val_index = split(index, tc.val_fraction, tc.seed)

    @abstractmethod
    def dataset(self, index: SnapshotIndex) -> SnapshotDataset:
        """The snapshots of `index` as (input, target) batches."""

    @abstractmethod
    def build(self) -> nn.Module:
        """A new network (its initial weights come from torch's seeded generator)."""

    @abstractmethod
    def losses(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The loss of every sample (n,) from float32 logits; the steps minimise their mean."""

    @abstractmethod
    def correct(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The sum over the samples of the fraction of their outputs whose most likely value is the
        target's (for a classifier: the number of right classes)."""

    @abstractmethod
    def describe(self) -> str:
        """What is learnt from what, in a few words, e.g. 'cnn on improved'."""

    @abstractmethod
    def meta(self) -> dict:
        """What a model file records about the task (plain data)."""

    @abstractmethod
    def save(self, path: Path, network: nn.Module, meta: dict) -> None:
        """Write a model file (atomically) that the task's loader reads back."""
