"""The chain schedule of a run: which chains a rank holds, their sweeps, and the replica exchange of
temperatures between them, with the ladder tuned while thermalising.

Chains: `replicas` independent sets of n_T chains; chain g = j * n_T + a is chain a of set j and
starts at temperature index a. Ranks hold contiguous blocks of chains (as one batch on their
backend). Every chain draws from its own random stream (seed, g), and the exchange decisions come
from one stream that every rank runs identically on the all-gathered energies, so on the CPU
backend the chains do not depend on the number of ranks.
"""

from __future__ import annotations

import os
import time

import numpy as np

from src.configuration import ConfigError
from src.parallel.mpi import World, split
from src.sampling.config import Config
from src.sampling.driver.exchange import ReplicaExchange
from src.sampling.sampler import Sampler

LADDER_TUNING_ATTEMPTS = 200  # exchange attempts between ladder adjustments while thermalising

# `backend: auto` takes the GPU only for a batch of at least this many spins per rank. Below it a
# sweep is bound by kernel launches and one core is faster (docs/benchmarks.md, H200 against one
# Xeon core: SW Ising L = 64 is 100x slower on the GPU alone, 6x faster as a batch of 1024 lattices;
# the crossover for one lattice is near L = 1024).
GPU_MIN_SPINS = 1 << 20


def choose_backend(requested: str, model, chains_per_rank: int) -> str:
    if requested != "auto":
        return requested
    if "gpu" not in model.backends or chains_per_rank * model.n_sites < GPU_MIN_SPINS:
        return "cpu"  # no GPU code for the model, or a batch too small for the GPU to pay
    from src.sampling.backends.array import cuda_visible

    return "gpu" if cuda_visible() else "cpu"


def _use_local_gpu(w: World):
    from src.sampling.backends.array import cupy_module

    cupy = cupy_module()
    cupy.cuda.Device(w.local_rank() % cupy.cuda.runtime.getDeviceCount()).use()


def check_memory(model, chains: int) -> None:
    """Refuse, before allocating, chains whose state, bonds and cluster labels alone (a lower bound
    of what a rank holds) exceed the node's memory."""
    per_site = np.dtype(model.state_dtype).itemsize * int(np.prod(model.site_shape)) + 2 + 4
    needed = chains * model.n_sites * per_site
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    if needed > total:
        raise ConfigError(
            f"model.L = {model.L}: the {chains} chains of a rank need at least {needed / 2**30:.3g} GiB, "
            f"this node has {total / 2**30:.3g} GiB (more ranks or a smaller L)"
        )


class ChainSchedule:
    """The chains of this rank, swept and exchanged in step with the other ranks."""

    def __init__(self, config: Config, w: World, model):
        self.w = w
        self.temps = config.temperature_values()
        self.n_T, self.k = len(self.temps), config.replicas
        self.M = self.n_T * self.k
        if w.size > self.M:
            raise ConfigError(f"{w.size} MPI ranks but only {self.M} chains (temperatures x replicas)")
        self.chains = split(self.M, w.size, w.rank)
        self.chain_counts = [len(split(self.M, w.size, rank)) for rank in range(w.size)]
        ex = config.exchange()
        self.exchange = ReplicaExchange(1.0 / self.temps, self.k, config.seed) if ex else None
        self.exchange_every = ex.every if ex else 0
        self.tune_ladder = bool(ex and ex.tune_ladder)
        check_memory(model, max(self.chain_counts))
        # the same choice on every rank: from the largest number of chains a rank holds
        self.backend = choose_backend(config.backend, model, max(self.chain_counts))
        if self.backend == "gpu":
            _use_local_gpu(w)
        self.sampler = Sampler(
            model,
            config.update,
            self.temps[self.chains % self.n_T],
            config.seed,
            backend=self.backend,
            replica_ids=self.chains,
            overrelax=config.overrelax,
            metropolis_window=config.metropolis_window,
        )
        self.sweeps_done = 0
        # wall time of rank 0 spent exchanging, and waiting for the other ranks to reach an exchange
        # or a write (load imbalance), kept apart from the exchange itself
        self.seconds = dict.fromkeys(("exchange", "wait"), 0.0)

    def temperature_index(self) -> np.ndarray:
        """Current temperature index of every local chain."""
        if self.exchange is None:
            return self.chains % self.n_T
        return self.exchange.temperature_of.reshape(-1)[self.chains]

    def ladder(self) -> np.ndarray:
        """The temperatures, tuned or not."""
        return self.temps if self.exchange is None else 1.0 / self.exchange.betas

    def sweeps(self, n: int, tune: bool):
        """n sweeps, with an exchange attempt before every sweep that follows a multiple of
        `every`: a sweep always separates an exchange from the next measurement, so graph estimators
        are measured on a graph drawn at the chain's current temperature."""
        while n > 0:
            if self.exchange is not None and self.sweeps_done and self.sweeps_done % self.exchange_every == 0:
                self._exchange(tune)
            # as many sweeps as there are before the next exchange, in one call
            chunk = (
                n
                if self.exchange is None
                else min(n, self.exchange_every - self.sweeps_done % self.exchange_every)
            )
            self.sampler.sweep(chunk, tune=tune)
            self.sweeps_done += chunk
            n -= chunk

    def synchronise(self) -> None:
        t0 = time.perf_counter()
        self.w.barrier()
        self.seconds["wait"] += time.perf_counter() - t0

    def _exchange(self, tune: bool):
        self.synchronise()
        t0 = time.perf_counter()
        weights = self.w.allgather_rows(self.sampler.exchange_weights(), self.chain_counts)
        self.exchange.attempt(
            weights[:, 0].reshape(self.k, self.n_T), weights[:, 1].reshape(self.k, self.n_T)
        )
        if tune and self.tune_ladder and self.exchange.n_attempts % LADDER_TUNING_ATTEMPTS == 0:
            self.exchange.tune_ladder()
        self._follow_exchange()
        self.seconds["exchange"] += time.perf_counter() - t0

    def _follow_exchange(self):
        """Move the local chains to the temperatures the exchange gave them."""
        self.sampler.set_temperatures(1.0 / self.exchange.betas_of_chains().reshape(-1)[self.chains])

    # -- checkpoints: the schedule's part of a run's state ------------------------------------
    def state(self) -> tuple[dict, dict]:
        """(arrays, scalars) of the exchange, for a checkpoint."""
        arrays, scalars = {}, {"sweeps_done": self.sweeps_done}
        if self.exchange is not None:
            for key, v in self.exchange.state_dict().items():
                (arrays if isinstance(v, np.ndarray) else scalars)[f"exchange/{key}"] = v
        return arrays, scalars

    def load_state(self, arrays: dict, scalars: dict) -> None:
        self.sweeps_done = scalars["sweeps_done"]
        if self.exchange is not None:
            d = {k.split("/", 1)[1]: v for k, v in {**arrays, **scalars}.items() if k.startswith("exchange/")}
            self.exchange.load_state_dict(d)
            self._follow_exchange()
