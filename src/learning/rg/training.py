"""Training a super-resolution network from a config, with the DDP training run of the classifiers
(src.learning.ml.trainer): `python -m src.train configs/superres_ising.yaml`, under torchrun or srun alike.

Each snapshot of the chosen temperatures of the run files is one training pair: the block transform
of its labels -> the snapshot itself (src.learning.rg.superres.training_pairs, computed as the batches are
read). Everything else (batches shared among ranks, seeding, mixed precision, checkpoints,
SIGUSR1, metrics.csv, best.pt and last.pt) is the classifiers'.
"""

from __future__ import annotations

from pathlib import Path

from src.learning.ml.dataset import SnapshotDataset, SnapshotIndex, snapshot_index
from src.learning.ml.errors import TrainError
from src.learning.ml.sources import Source, read_sources
from src.learning.ml.task import Task

from .blocking import coarse_size
from .config import SuperresConfig, select_temperatures
from .superres import SuperResolution, agreement, losses, save_superres, superres_spec, training_pairs


class PairDataset(SnapshotDataset):
    """Batches of (network input of the block transform, target) of stored configurations; bonds
    come with the spins they were drawn from (the targets of the FK measure)."""

    def __init__(self, sources: list[Source], index: SnapshotIndex, spec: dict):
        super().__init__(sources, spec["target"], index)
        self.spec = spec

    def read(self, f, t, snaps, representation=None):
        bonds = self.spec["target"] == "fk_bonds"
        return super().read(f, t, snaps), super().read(f, t, snaps, "spin") if bonds else None

    def pairs(self, stored, source, labels):
        configs, spins = stored
        return training_pairs(configs, self.spec, spins)


class SuperResolutionTask(Task):
    def __init__(self, config: SuperresConfig):
        data = config.data
        # one model and one L: the files are all samples of the one map the network learns
        sources = read_sources(data.files, data.target, mixed_models=True)
        if data.target == "fk_bonds":  # the bonds' targets need the spins they were drawn from
            read_sources(data.files, "spin", mixed_models=True)
        attrs = [s.model.attributes() for s in sources]
        models = sorted({f"{a['model']} q={a['q']} J={a['J']:g} L={a['L']}" for a in attrs})
        if len(models) > 1:
            raise TrainError(f"config key 'data.files': the files hold different models: {', '.join(models)}")
        model = sources[0].model
        if not model.fortuin_kasteleyn:
            raise TrainError(
                f"config key 'data.files': {sources[0].path} holds the {model.name} model; "
                "super-resolution is defined for models of Fortuin-Kasteleyn clusters (ising, potts)"
            )
        try:
            coarse_size(model.L)
        except ValueError as err:
            raise TrainError(f"config key 'data.files': {err}") from None
        rows, missing = select_temperatures([s.temperatures for s in sources], data.temperatures)
        if missing:
            held = sorted({float(T) for s in sources for T in s.temperatures})
            raise TrainError(
                f"config key 'data.temperatures': no file holds T = {', '.join(map(str, missing))} "
                f"(they hold {', '.join(f'{T:g}' for T in held)})"
            )
        index = snapshot_index(sources, [(f, t, 0) for f, r in enumerate(rows) for t in r])
        super().__init__(config, sources, index)
        self.temperatures = sorted({float(s.temperatures[t]) for s, r in zip(sources, rows) for t in r})
        net = config.network
        self.spec = superres_spec(model.name, data.target, model.q, net.channels, net.kernel, net.activation)

    def dataset(self, index: SnapshotIndex) -> PairDataset:
        return PairDataset(self.sources, index, self.spec)

    def build(self) -> SuperResolution:
        return SuperResolution(self.spec)

    def losses(self, logits, targets):
        return losses(logits, targets, self.spec)

    def correct(self, logits, targets):
        return agreement(logits, targets, self.spec).sum()

    def describe(self) -> str:
        return f"super-resolution of {self.spec['target']} ({self.spec['model']})"

    def meta(self) -> dict:
        model = self.sources[0].model
        return {"target": self.spec["target"], "J": model.J, "L": model.L, "temperatures": self.temperatures}

    def save(self, path: Path, network, meta: dict) -> None:
        save_superres(path, network, meta)
