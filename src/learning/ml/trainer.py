"""One training run, on every rank: batches, network, DDP, the epoch loop, checkpoints and resuming.

What is learnt from which snapshots is the run's task (src.learning.ml.task: classification by default,
super-resolution in src.learning.rg.training); the rest is common to all tasks. Every rank reads the file
metadata and builds the same network from the seed; the ranks agree that the input is good before
anything is written (src.learning.ml.distributed.agree). Each step is one global batch shared among the
ranks (src.learning.ml.batches), so the parameters do not depend on the number of processes. Rank 0 writes
the output folder (src.learning.ml.outputs).
"""

from __future__ import annotations

import math
import time
from functools import cached_property
from pathlib import Path

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from src import signals
from src.learning.ml import outputs
from src.learning.ml.batches import BlockBatchSampler
from src.learning.ml.classification import Classification
from src.learning.ml.config import RunConfig
from src.learning.ml.dataset import SnapshotIndex
from src.learning.ml.distributed import Dist, agree, setup, teardown
from src.learning.ml.errors import USER_ERRORS, TrainError
from src.learning.ml.task import Task
from src.progress import progress
from src.provenance import provenance
from src.storage.networks import cpu_state_dict, read_checkpoint, save_checkpoint


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

    def __init__(self, config: RunConfig, d: Dist, say, task: type[Task]):
        self.config, self.d, self.out, self.say = config, d, Path(config.output), say
        tc = config.training
        self.task = task(config)
        self.train_sampler = self._sampler(self.task.train_index, shuffle=True)
        self.val_sampler = self._sampler(self.task.val_index, shuffle=False)
        self.train_loader = self._loader(self.task.train_index, self.train_sampler)
        self.val_loader = self._loader(self.task.val_index, self.val_sampler)
        torch.manual_seed(tc.seed)
        self.network = self.task.build().to(d.device)
        self.model: nn.Module = self.network  # what the steps call: DDP's wrapper when distributed
        self.optimizer = make_optimizer(tc, self.network.parameters())
        self.amp = amp_dtype(tc.amp, d.device)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp == torch.float16)
        if d.device.type == "cuda":  # reproducible convolutions
            torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
        # where the run stands; running: this epoch's (loss sum, correct, samples) of this rank
        self.epoch, self.step, self.seconds, self.resumed = 0, 0, 0.0, False
        self.running = torch.zeros(3, dtype=torch.float64, device=d.device)
        self.best_val_loss, self.history = math.inf, []

    def _sampler(self, index: SnapshotIndex, shuffle: bool) -> BlockBatchSampler:
        tc = self.config.training
        return BlockBatchSampler(
            index,
            self.task.sources,
            tc.batch_size,
            shuffle=shuffle,
            seed=tc.seed,
            num_replicas=self.d.world_size,
            rank=self.d.rank,
        )

    def _loader(self, index: SnapshotIndex, sampler: BlockBatchSampler) -> DataLoader:
        workers = self.config.data.workers
        return DataLoader(
            self.task.dataset(index),
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
            return self.epoch < self.config.training.epochs and not self.plateau()
        if self.d.root:
            outputs.check_unused(self.out, overwrite)
        return True

    def _data_identity(self) -> list[dict]:
        """The files' provenance without their paths: moved files still match a checkpoint."""
        return [{k: v for k, v in s.provenance.items() if k != "path"} for s in self.task.sources]

    def _restore(self, path: Path) -> None:
        ck = read_checkpoint(path, self.d.device)
        if ck["config_hash"] != self.config.resume_hash():
            raise TrainError(
                f"checkpoint {path}: belongs to another config (only data.workers, training.epochs, "
                "training.patience and training.min_improvement may change on --resume)"
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
        save_checkpoint(self.out / outputs.CHECKPOINT, state)

    @cached_property
    def _meta(self) -> dict:
        """What a model file records besides its weights (plain data only)."""
        return {
            **self.task.meta(),
            "lattice_sizes": self.task.sizes,
            "data": [s.provenance for s in self.task.sources],
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
        task = self.task
        sizes = ", ".join(map(str, task.sizes))
        self.say(
            f"{where}: {task.describe()} of {len(task.sources)} file(s), L = {sizes}; "
            f"{len(task.train_index)} training / {len(task.val_index)} validation snapshots; "
            f"{len(self.train_sampler)} steps of {tc.batch_size} per epoch on {self.d.world_size} "
            f"process(es) ({self.d.device}{', ' + str(self.amp).removeprefix('torch.') if self.amp else ''})"
        )

    def run(self, show_progress: bool) -> None:
        epochs, steps = self.config.training.epochs, len(self.train_sampler)
        show = show_progress and self.d.root
        with progress(
            epochs * steps, "train", "step", enabled=show, initial=self.epoch * steps + self.step
        ) as bar:
            while self.epoch < epochs and not self.plateau():
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
                        raise signals.Checkpointed
                self._finish_epoch(time.monotonic() - started)
                if self.plateau():
                    self.say(
                        f"validation loss not lower for {self.config.training.patience} epochs: "
                        f"stopped after epoch {self.epoch} (plateau)"
                    )
                if self.epoch < epochs and self._stop_requested():
                    raise signals.Checkpointed

    def plateau(self) -> bool:
        """Whether the validation loss has gone `training.patience` epochs without a new lowest value
        lower than the previous by more than `training.min_improvement` (relative); the history is
        the same on every rank and after a resume."""
        tc = self.config.training
        if tc.patience is None:
            return False
        best, improved = math.inf, -1
        for epoch, row in enumerate(self.history):
            if row["val_loss"] < best - tc.min_improvement * abs(best if math.isfinite(best) else 0):
                best, improved = row["val_loss"], epoch
        return len(self.history) - 1 - improved >= tc.patience

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
        loss = self.task.losses(logits.float(), y).mean()
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        with torch.no_grad():
            self.running[0] += loss * len(y)
            self.running[1] += self.task.correct(logits, y)
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
            sums[0] += self.task.losses(logits.float(), y).sum()
            sums[1] += self.task.correct(logits, y)
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
            self.task.save(self.out / outputs.LAST, self.network, meta)
            if best:
                self.task.save(self.out / outputs.BEST, self.network, meta)
            outputs.write_metrics(self.out, self.history)
        self._save_checkpoint()  # last: a run stopped before this redoes the epoch
        self.say(
            f"epoch {row['epoch']}/{self.config.training.epochs}: train loss {row['train_loss']:.4f} "
            f"accuracy {row['train_accuracy']:.3f}, validation loss {val_loss:.4f} accuracy "
            f"{val_accuracy:.3f}{' (best)' if best else ''}, {seconds:.1f} s"
        )


def train(
    config: RunConfig,
    *,
    task: type[Task] = Classification,
    overwrite: bool = False,
    resume: bool = False,
    show_progress: bool = True,
    log=print,
) -> nn.Module | None:
    """Run (or with resume continue) the training run of `config` as this process's rank; `task`
    says what it learns (its config's class: TrainConfig for Classification).

    Returns the trained network, or None when resume found every epoch done already. Raises
    Checkpointed after the checkpoint that SIGUSR1/SIGTERM/SIGINT asked for, and one of
    USER_ERRORS (one line; nothing written) for bad input."""
    signals.install()
    d = setup(config.training.device)
    say = log if d.root else (lambda *a: None)
    try:
        trainer = agree(d, lambda: Trainer(config, d, say, task), USER_ERRORS)
        to_do = agree(d, lambda: trainer.open_output(overwrite, resume), USER_ERRORS)
        if to_do:
            trainer.start()
            trainer.run(show_progress)
        else:
            say(f"{config.output}: training finished already (epochs or plateau); nothing to do")
    except (signals.Checkpointed, *USER_ERRORS):  # raised on every rank at the same point
        teardown(wait=True)
        raise
    except BaseException:
        teardown(wait=False)
        raise
    teardown(wait=True)
    return trainer.network if to_do else None
