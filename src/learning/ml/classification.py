"""Phase classification: snapshots at temperatures inside labelled windows -> the window's class."""

from __future__ import annotations

from pathlib import Path

import torch.nn.functional as F
from torch import nn

from src.learning.ml.config import TrainConfig
from src.learning.ml.dataset import SnapshotDataset, SnapshotIndex, labelled_index
from src.learning.ml.encoding import channels, describe
from src.learning.ml.errors import TrainError
from src.learning.ml.networks import build_network, network_spec
from src.learning.ml.sources import read_sources
from src.learning.ml.task import Task
from src.storage.networks import save_model


class Classification(Task):
    def __init__(self, config: TrainConfig):
        data = config.data
        sources = read_sources(data.files, data.representation, data.mixed_models)
        sizes = sorted({s.model.L for s in sources})
        if config.network.kind == "fcn" and len(sizes) > 1:
            raise TrainError(
                f"config key 'network.kind': fcn takes one lattice size, the files have "
                f"L = {', '.join(map(str, sizes))} (cnn takes several)"
            )
        super().__init__(config, sources, labelled_index(sources, config.labels))
        self.spec = network_spec(
            config.network,
            channels(sources[0].model, data.representation),
            config.labels.n_classes,
            sizes[0],
        )

    def dataset(self, index: SnapshotIndex) -> SnapshotDataset:
        data = self.config.data
        return SnapshotDataset(self.sources, data.representation, index, data.rescale)

    def build(self) -> nn.Module:
        return build_network(self.spec)

    def losses(self, logits, targets):
        return F.cross_entropy(logits, targets, reduction="none")

    def correct(self, logits, targets):
        return (logits.argmax(dim=1) == targets).sum()

    def describe(self) -> str:
        return f"{self.spec['kind']} on {self.config.data.representation}"

    def meta(self) -> dict:
        data = self.config.data
        return {
            "network": self.spec,
            "representation": data.representation,
            "rescale": data.rescale,
            "encoding": describe(self.sources[0].model, data.representation, data.rescale),
            "labels": self.config.labels.model_dump(mode="json", by_alias=True),
        }

    def save(self, path: Path, network: nn.Module, meta: dict) -> None:
        save_model(path, network, meta)
