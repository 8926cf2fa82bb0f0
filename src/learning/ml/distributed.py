"""The processes of a training run: rank and device from the launcher's environment, the process
group, and the few collectives the trainer needs.

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK (and MASTER_ADDR/PORT). Under `srun` without
torchrun, SLURM_PROCID, SLURM_NTASKS and SLURM_LOCALID stand in, and MASTER_ADDR and MASTER_PORT
must be exported by the job. Without either, the run is one process and needs no process group.
One process per GPU: LOCAL_RANK picks it. NCCL connects GPUs, gloo CPU processes.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import NoReturn

import torch
import torch.distributed as dist

from src.learning.ml.errors import RankError, TrainError

LAUNCHERS = (("RANK", "WORLD_SIZE", "LOCAL_RANK"), ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"))


def env_ranks() -> tuple[int, int, int]:
    """(rank, world size, local rank) that the launcher gave this process; (0, 1, 0) without one."""
    for rank, size, local in LAUNCHERS:
        if rank in os.environ and size in os.environ:
            return int(os.environ[rank]), int(os.environ[size]), int(os.environ.get(local, 0))
    return 0, 1, 0


@dataclass(frozen=True)
class Dist:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def root(self) -> bool:
        return self.rank == 0

    @property
    def backend(self) -> str:
        return "nccl" if self.device.type == "cuda" else "gloo"

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        if self.world_size > 1:
            dist.all_reduce(values)
        return values

    def max(self, *values: float) -> list[float]:
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        if self.world_size > 1:
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return t.tolist()


def setup(device: str) -> Dist:
    """This process's place in the run, with the process group started when there are several.
    device: auto (a GPU when one is visible), cpu or cuda."""
    rank, world_size, local_rank = env_ranks()
    if device == "cuda" and not torch.cuda.is_available():
        raise TrainError("config key 'training.device': cuda, but no GPU is visible")
    if device != "cpu" and torch.cuda.is_available():
        where = torch.device("cuda", local_rank % torch.cuda.device_count())
        torch.cuda.set_device(where)
    else:
        where = torch.device("cpu")
    d = Dist(rank, world_size, local_rank, where)
    if world_size > 1:
        missing = [v for v in ("MASTER_ADDR", "MASTER_PORT") if v not in os.environ]
        if missing:
            raise TrainError(
                f"{world_size} processes but {' and '.join(missing)} not set: start them with torchrun, "
                "or export MASTER_ADDR and MASTER_PORT for srun"
            )
        dist.init_process_group(d.backend, rank=rank, world_size=world_size)
    return d


def teardown(wait: bool) -> None:
    """Close the process group. wait: every rank got here at the same point, so wait for all of
    them first (a gloo rank that closes while another still talks to it can abort). Not after an
    unexpected error, when the others may be stuck in a collective."""
    if dist.is_initialized():
        if wait:
            dist.barrier()
        dist.destroy_process_group()


def agree(d: Dist, action, errors):
    """action() on every rank; when it raises one of `errors` on any rank, every rank raises (so no
    rank waits for the others in a collective). Rank 0 raises its own error, or a pointer to the
    others; a rank that alone saw a problem raises RankError, which it reports itself."""
    try:
        result, own = action(), None
    except errors as err:
        result, own = None, err
    root_failed, any_failed = d.max(float(own is not None and d.root), float(own is not None))
    if not any_failed:
        return result
    if d.root:
        raise own if own is not None else TrainError("another rank stopped on a problem; see its message")
    if own is not None and not root_failed:
        raise RankError(f"rank {d.rank}: {own}") from None
    raise own if own is not None else TrainError("stopped with the other ranks")


def leave(code: int) -> NoReturn:
    """Exit the process with `code`. One of several ranks skips the interpreter's teardown: torch's
    C++ destructors at exit abort a gloo rank now and then ("terminate called without an active
    exception", SIGABRT, a few per cent of runs with torch 2.13 even for a minimal DDP program),
    which would turn a finished run into a failed one. Files are closed by then; stdio is flushed."""
    if env_ranks()[1] > 1:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
