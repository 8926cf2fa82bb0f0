"""Checkpoints of a sampling run: everything that continues it exactly (the chains' states, the
exchange, the position in the run), gathered to rank 0 and written as one file next to the output
(src.storage.checkpoint), periodically and when a signal asks for it (src.signals).

The hash of the run's config, without the keys a user may change on --resume, ties a checkpoint to
its run.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np

from src import signals
from src.sampling.config import Config
from src.sampling.driver.schedule import ChainSchedule
from src.storage import checkpoint as files

# keys a user may change when resuming: where the file goes is fixed by --resume itself, and the
# checkpoint interval and backend do not change the Markov chains
MUTABLE_KEYS = ("checkpoint", "backend")


def checkpoint_path(output: Path) -> Path:
    return output.with_name(output.name + ".ckpt")


def config_hash(config: Config) -> str:
    d = config.model_dump(mode="json")
    for k in MUTABLE_KEYS:
        d.pop(k, None)
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()


def _stack_chains(blocks: list[np.ndarray]) -> np.ndarray:
    """The ranks' per-chain arrays as one, zero-padded along axis 1 where their widths differ (the
    kink lists of quantum chains)."""
    if blocks[0].ndim < 2:
        return np.concatenate(blocks)
    width = max(b.shape[1] for b in blocks)
    return np.concatenate(
        [np.pad(b, [(0, 0), (0, width - b.shape[1])] + [(0, 0)] * (b.ndim - 2)) for b in blocks]
    )


class Checkpointing:
    """Saves and restores a run's state. The position is the run's own counters besides the
    schedule's (thermalisation sweeps done, the next measurement), a dict of integers."""

    def __init__(self, config: Config, schedule: ChainSchedule):
        self.config, self.schedule, self.w = config, schedule, schedule.w
        self.path = checkpoint_path(Path(config.output))
        self._last = time.time()

    def due(self) -> int:
        """Agreed by all ranks: 2 when a signal asks to checkpoint and stop, 1 when the interval
        has passed, else 0."""
        overdue = time.time() - self._last > 60.0 * self.config.checkpoint.every_minutes
        return self.w.max(2 if signals.received else int(overdue))

    def save(self, position: dict) -> None:
        sch = self.schedule
        states = self.w.gather(sch.sampler.chain_state())
        if self.w.root:
            arrays = {f"chain/{k}": _stack_chains([s[k] for s in states]) for k in states[0]}
            exchange, scalars = sch.state()
            meta = {"sweeps_done": scalars.pop("sweeps_done"), **position, **scalars}
            files.save(
                self.path,
                {**arrays, **exchange},
                meta,
                model=self.config.model.name,
                config_hash=config_hash(self.config),
            )
        self.w.barrier()
        self._last = time.time()

    def restore(self) -> dict:
        """Restore the chains and the schedule; returns the run's position as saved."""
        mutable = ", ".join(MUTABLE_KEYS)
        arrays, meta = files.load(
            self.path,
            model=self.config.model.name,
            config_hash=config_hash(self.config),
            mismatch=f"written for a different config (only {mutable} may change on --resume)",
        )
        sch = self.schedule
        sch.sampler.load_chain_state(
            {k.split("/", 1)[1]: v[sch.chains] for k, v in arrays.items() if k.startswith("chain/")}
        )
        sch.load_state(arrays, meta)
        return meta

    def remove(self) -> None:
        if self.w.root:
            self.path.unlink(missing_ok=True)
