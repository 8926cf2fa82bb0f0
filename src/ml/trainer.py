"""One training run, on every rank: data, network, DDP, the epoch loop, checkpoints and resuming.

Every rank reads the file metadata and builds the same network from the seed; the ranks agree
that the input is good before anything is written (src.ml.distributed.agree). Each step is one
global batch shared among the ranks (src.ml.sampler), so the parameters do not depend on the
number of processes. Rank 0 writes the output folder (src.ml.outputs).
"""

from __future__ import annotations

import math
import time
from functools import cached_property
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from src import signals
from src.ml import outputs
from src.ml.config import TrainConfig
from src.ml.dataset import SnapshotDataset, SnapshotIndex, labelled_index, split
from src.ml.distributed import Dist, agree, setup, teardown
from src.ml.encoding import channels, describe
from src.ml.errors import USER_ERRORS, TrainError
from src.ml.networks import build_network, network_spec
from src.ml.sampler import BlockBatchSampler
from src.ml.sources import read_sources
from src.ml.store import atomic_save, cpu_state_dict, read, save_model
from src.progress import progress
from src.provenance import provenance

CHECKPOINT_FORMAT = "spinml-train-checkpoint"


class Checkpointed(Exception):
    """Raised on every rank after the checkpoint that a signal asked for."""


def amp_dtype(choice: str, device: torch.device) -> torch.dtype | None:
    """The autocast type: mixed precision on GPUs only (on CPUs it would be slower, not faster)."""
    if device.type != "cuda" or choice == "off":
        return None
    if choice == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"bf16": torch.bfloat16, "fp16": torch.float16}[choice]


def make_optimizer(training, parameters) -> torch.optim.Optimizer:
    if training.optimizer == "sgd":
        return torch.optim.SGD(
            parameters, lr=training.lr, momentum=training.momentum, weight_decay=training.weight_decay
        )
    kind = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[training.optimizer]
    return kind(parameters, lr=training.lr, weight_decay=training.weight_decay)


class Trainer:
    """This rank's part of a run. Building it reads only metadata, so bad input stops the run
    before any output is touched."""

    def __init__(self, config: TrainConfig, d: Dist, say):
        self.config, self.d, self.out, self.say = config, d, Path(config.output), say
        data, tc = config.data, config.training
        self.sources = read_sources(data.files, data.representation, data.mixed_models)
        self.sizes = sorted({s.model.L for s in self.sources})
        if config.network.kind == "fcn" and len(self.sizes) > 1:
            raise TrainError(
                f"config key 'network.kind': fcn takes one lattice size, the files have "
                f"L = {', '.join(map(str, self.sizes))} (cnn takes several)"
            )
        self.train_index, self.val_index = split(
            labelled_index(self.sources, config.labels), tc.val_fraction, tc.seed
        )
        self.train_sampler = self._sampler(self.train_index, shuffle=True)
        self.val_sampler = self._sampler(self.val_index, shuffle=False)
        self.train_loader = self._loader(self.train_index, self.train_sampler)
        self.val_loader = self._loader(self.val_index, self.val_sampler)
        self.spec = network_spec(
            config.network,
            channels(self.sources[0].model, data.representation),
            config.labels.n_classes,
            self.sizes[0],
        )
        torch.manual_seed(tc.seed)
        self.network = build_network(self.spec).to(d.device)
        self.model: nn.Module = self.network  # what the steps call: DDP's wrapper when distributed
        self.optimizer = make_optimizer(tc, self.network.parameters())
        self.amp = amp_dtype(tc.amp, d.device)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp == torch.float16)
        if d.device.type == "cuda":  # reproducible convolutions
            torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
        # where the run stands; running: this epoch's (loss sum, correct, count) of this rank
        self.epoch, self.step, self.seconds, self.resumed = 0, 0, 0.0, False
        self.running = torch.zeros(3, dtype=torch.float64, device=d.device)
        self.best_val_loss, self.history = math.inf, []

    def _sampler(self, index: SnapshotIndex, shuffle: bool) -> BlockBatchSampler:
        tc = self.config.training
        return BlockBatchSampler(
            index,
            self.sources,
            tc.batch_size,
            shuffle=shuffle,
            seed=tc.seed,
            num_replicas=self.d.world_size,
            rank=self.d.rank,
        )

    def _loader(self, index: SnapshotIndex, sampler: BlockBatchSampler) -> DataLoader:
        workers = self.config.data.workers
        return DataLoader(
            SnapshotDataset(self.sources, self.config.data.representation, index),
            sampler=sampler,
            batch_size=None,  # the sampler yields whole batches, read by the data set in one go
            num_workers=workers,
            persistent_workers=workers > 0,
            pin_memory=self.d.device.type == "cuda",
        )

    # -- output folder, checkpoints -----------------------------------------------------------
    def open_output(self, overwrite: bool, resume: bool) -> bool:
        """Restore the checkpoint (with resume, when there is one), or check that the folder may be
        used. False when the restored run has done all its epochs."""
        path = self.out / outputs.CHECKPOINT
        if resume and path.exists():
            self._restore(path)
            return self.epoch < self.config.training.epochs
        if self.d.root:
            outputs.check_unused(self.out, overwrite)
        return True

    def _data_identity(self) -> list[dict]:
        """The files' provenance without their paths: moved files still match a checkpoint."""
        return [{k: v for k, v in s.provenance.items() if k != "path"} for s in self.sources]

    def _restore(self, path: Path) -> None:
        ck = read(path, self.d.device)
        if not isinstance(ck, dict) or ck.get("format") != CHECKPOINT_FORMAT:
            raise TrainError(f"checkpoint {path}: not a training checkpoint")
        if ck["config_hash"] != self.config.resume_hash():
            raise TrainError(
                f"checkpoint {path}: belongs to another config (only data.workers and training.epochs "
                "may change on --resume)"
            )
        if ck["data"] != self._data_identity():
            raise TrainError(f"checkpoint {path}: was made from other data files")
        self.network.load_state_dict(ck["model"])
        self.optimizer.load_state_dict(ck["optimizer"])
        if ck["scaler"]:
            self.scaler.load_state_dict(ck["scaler"])
        self.epoch, self.step, self.seconds = ck["epoch"], ck["step"], ck["seconds"]
        self.best_val_loss, self.history = ck["best_val_loss"], ck["history"]
        if self.d.root:  # the checkpoint holds the sums over all ranks
            self.running.copy_(ck["running"])
        self.resumed = True

    def _save_checkpoint(self) -> None:
        """On every rank (the running sums are gathered); rank 0 writes."""
        running = self.d.sum(self.running.clone())
        if not self.d.root:
            return
        state = {
            "format": CHECKPOINT_FORMAT,
            "config_hash": self.config.resume_hash(),
            "data": self._data_identity(),
            "model": cpu_state_dict(self.network),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "epoch": self.epoch,
            "step": self.step,
            "seconds": self.seconds,
            "running": running.cpu(),
            "best_val_loss": self.best_val_loss,
            "history": self.history,
        }
        atomic_save(state, self.out / outputs.CHECKPOINT)

    @cached_property
    def _meta(self) -> dict:
        """What a model file records besides its weights (plain data only)."""
        rep = self.config.data.representation
        return {
            "network": self.spec,
            "representation": rep,
            "encoding": describe(self.sources[0].model, rep),
            "labels": self.config.labels.model_dump(mode="json", by_alias=True),
            "lattice_sizes": self.sizes,
            "data": [s.provenance for s in self.sources],
            "config": self.config.as_dict(),
            "software": {**provenance(), "torch": str(torch.__version__)},  # TorchVersion is a class
        }

    # -- the run ------------------------------------------------------------------------------
    def start(self) -> None:
        if self.d.root:
            if not self.resumed:
                outputs.clear(self.out)
            outputs.write_config(self.out, self.config)
        if self.d.world_size > 1:
            ids = [self.d.device.index] if self.d.device.type == "cuda" else None
            self.model = DistributedDataParallel(self.network, device_ids=ids)
        tc = self.config.training
        where = f"resuming at epoch {self.epoch + 1}, step {self.step}" if self.resumed else "starting"
        self.say(
            f"{where}: {self.spec['kind']} on {self.config.data.representation} of "
            f"{len(self.sources)} file(s), L = {', '.join(map(str, self.sizes))}; "
            f"{len(self.train_index)} training / {len(self.val_index)} validation snapshots; "
            f"{len(self.train_sampler)} steps of {tc.batch_size} per epoch on {self.d.world_size} "
            f"process(es) ({self.d.device}{', ' + str(self.amp).removeprefix('torch.') if self.amp else ''})"
        )

    def run(self, show_progress: bool) -> None:
        epochs, steps = self.config.training.epochs, len(self.train_sampler)
        show = show_progress and self.d.root
        with progress(
            epochs * steps, "train", "step", enabled=show, initial=self.epoch * steps + self.step
        ) as bar:
            while self.epoch < epochs:
                started = time.monotonic() - self.seconds
                self.train_sampler.set_epoch(self.epoch)
                self.train_sampler.start_step = self.step
                self.network.train()
                for x, y in self.train_loader:
                    self._train_step(x, y)
                    self.step += 1
                    bar.update()
                    if self._stop_requested():
                        self.seconds = time.monotonic() - started
                        self._save_checkpoint()
                        raise Checkpointed
                self._finish_epoch(time.monotonic() - started)
                if self.epoch < epochs and self._stop_requested():
                    raise Checkpointed

    def _stop_requested(self) -> bool:
        """A signal reached any rank (all ranks must stop at the same step)."""
        return bool(self.d.max(float(signals.received != 0))[0])

    def _to_device(self, x, y):
        return x.to(self.d.device, non_blocking=True), y.to(self.d.device, non_blocking=True)

    def _autocast(self):
        return torch.autocast(self.d.device.type, dtype=self.amp, enabled=self.amp is not None)

    def _train_step(self, x, y) -> None:
        x, y = self._to_device(x, y)
        with self._autocast():
            logits = self.model(x)
        loss = F.cross_entropy(logits.float(), y)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        with torch.no_grad():
            self.running[0] += loss * len(y)
            self.running[1] += (logits.argmax(dim=1) == y).sum()
            self.running[2] += len(y)

    @torch.no_grad()
    def _validate(self) -> tuple[float, float]:
        """(loss, accuracy) over the whole validation set; each rank takes its share of every batch
        through the plain network (no DDP collectives, so shares may differ in size)."""
        self.network.eval()
        sums = torch.zeros(3, dtype=torch.float64, device=self.d.device)
        for x, y in self.val_loader:
            x, y = self._to_device(x, y)
            with self._autocast():
                logits = self.network(x)
            sums[0] += F.cross_entropy(logits.float(), y, reduction="sum")
            sums[1] += (logits.argmax(dim=1) == y).sum()
            sums[2] += len(y)
        loss_sum, correct, n = self.d.sum(sums).tolist()
        return loss_sum / n, correct / n

    def _finish_epoch(self, seconds: float) -> None:
        loss_sum, correct, n = self.d.sum(self.running.clone()).tolist()
        val_loss, val_accuracy = self._validate()
        row = {
            "epoch": self.epoch + 1,
            "train_loss": loss_sum / n,
            "train_accuracy": correct / n,
            "val_loss": val_loss,
            "val_accuracy": val_accuracy,
            "seconds": seconds,
        }
        self.history.append(row)
        self.epoch, self.step, self.seconds = self.epoch + 1, 0, 0.0
        self.running.zero_()
        best = val_loss < self.best_val_loss
        self.best_val_loss = min(val_loss, self.best_val_loss)
        if self.d.root:
            meta = {**self._meta, "epoch": row["epoch"], "metrics": row}
            save_model(self.out / outputs.LAST, self.network, meta)
            if best:
                save_model(self.out / outputs.BEST, self.network, meta)
            outputs.write_metrics(self.out, self.history)
        self._save_checkpoint()  # last: a run stopped before this redoes the epoch
        self.say(
            f"epoch {row['epoch']}/{self.config.training.epochs}: train loss {row['train_loss']:.4f} "
            f"accuracy {row['train_accuracy']:.3f}, validation loss {val_loss:.4f} accuracy "
            f"{val_accuracy:.3f}{' (best)' if best else ''}, {seconds:.1f} s"
        )


def train(
    config: TrainConfig,
    *,
    overwrite: bool = False,
    resume: bool = False,
    show_progress: bool = True,
    log=print,
) -> nn.Module | None:
    """Run (or with resume continue) the training run of `config` as this process's rank.

    Returns the trained network, or None when resume found every epoch done already. Raises
    Checkpointed after the checkpoint that SIGUSR1/SIGTERM/SIGINT asked for, and one of
    USER_ERRORS (one line; nothing written) for bad input."""
    signals.install()
    d = setup(config.training.device)
    say = log if d.root else (lambda *a: None)
    try:
        trainer = agree(d, lambda: Trainer(config, d, say), USER_ERRORS)
        to_do = agree(d, lambda: trainer.open_output(overwrite, resume), USER_ERRORS)
        if to_do:
            trainer.start()
            trainer.run(show_progress)
        else:
            say(f"{config.output}: all {config.training.epochs} epochs are done already; nothing to do")
    except (Checkpointed, *USER_ERRORS):  # raised on every rank at the same point
        teardown(wait=True)
        raise
    except BaseException:
        teardown(wait=False)
        raise
    teardown(wait=True)
    return trainer.network if to_do else None
