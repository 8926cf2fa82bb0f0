"""The sampling run across MPI ranks: thermalise, measure, exchange temperatures, take snapshots,
write one file, checkpoint, resume.

Chains: `replicas` independent sets of n_T chains; chain g = j * n_T + a is chain a of set j and
starts at temperature index a. Ranks hold contiguous blocks of chains (as one batch on their
backend). Every chain draws from its own random stream (seed, g), and the exchange decisions come
from one stream that every rank runs identically on the all-gathered energies, so on the CPU
backend the file does not depend on the number of ranks.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from src import signals
from src.config import Config, dump
from src.graph.representations import stored_dtype, stored_shape
from src.observables import observable_names
from src.parallel.exchange import ReplicaExchange
from src.parallel.mpi import World, split, world
from src.progress import progress
from src.provenance import now, provenance
from src.sampler import Sampler
from src.stats.derived import format_summary_table, headline_columns, summarize
from src.storage import checkpoint as ckpt
from src.storage.reader import RunFile
from src.storage.writer import Layout, OutputError, RunWriter, check_output, partial_path

FLUSH_MEASUREMENTS = 1024  # observables are written in blocks of this many measurements
SNAPSHOT_BUFFER_BYTES = 64 << 20  # snapshots held per rank before they are written
LADDER_TUNING_ATTEMPTS = 200  # exchange attempts between ladder adjustments while thermalising


class Checkpointed(Exception):
    """Raised on every rank after the checkpoint that a signal asked for."""


# `backend: auto` takes the GPU only for a batch of at least this many spins per rank. Below it a
# sweep is bound by kernel launches and one core is faster (docs/benchmarks.md, H200 against one
# Xeon core: SW Ising L = 64 is 100x slower on the GPU alone, 6x faster as a batch of 1024 lattices;
# the crossover for one lattice is near L = 1024).
GPU_MIN_SPINS = 1 << 20


def choose_backend(requested: str, model, chains_per_rank: int) -> str:
    if requested != "auto":
        return requested
    if model.quantum or chains_per_rank * model.n_sites < GPU_MIN_SPINS:
        return "cpu"  # the loop algorithm has no GPU code; small batches are faster on a core
    from src.updates.array_backend import cuda_visible

    return "gpu" if cuda_visible() else "cpu"


def _use_local_gpu(w: World):
    from src.updates.array_backend import cupy_module

    cupy = cupy_module()
    cupy.cuda.Device(w.local_rank() % cupy.cuda.runtime.getDeviceCount()).use()


def snapshot_shapes(config: Config) -> dict:
    """representation -> (shape of one snapshot, dtype in the file)."""
    if not config.n_snapshots():
        return {}
    spec = config.model.spec()
    return {
        name: (stored_shape(name, spec.L), stored_dtype(spec, name))
        for name in config.snapshots.representations
    }


def _stack_chains(blocks: list[np.ndarray]) -> np.ndarray:
    """The ranks' per-chain arrays as one, zero-padded along axis 1 where their widths differ (the
    kink lists of quantum chains)."""
    if blocks[0].ndim < 2:
        return np.concatenate(blocks)
    width = max(b.shape[1] for b in blocks)
    return np.concatenate(
        [np.pad(b, [(0, 0), (0, width - b.shape[1])] + [(0, 0)] * (b.ndim - 2)) for b in blocks]
    )


def _on_root(w: World, check):
    """Run a check on rank 0 and raise its OutputError on every rank."""
    message = None
    if w.root:
        try:
            check()
        except OutputError as err:
            message = str(err)
    message = w.bcast(message)
    if message:
        raise OutputError(message)


class Run:
    def __init__(self, config: Config, w: World, log):
        self.config, self.w, self.log = config, w, log
        self.model = config.model.spec()
        self.temps = config.temperature_values()
        self.n_T, self.k = len(self.temps), config.replicas
        self.M = self.n_T * self.k
        if w.size > self.M:
            raise OutputError(f"{w.size} MPI ranks but only {self.M} chains (temperatures x replicas)")
        self.chains = split(self.M, w.size, w.rank)
        self.chain_counts = [len(split(self.M, w.size, rank)) for rank in range(w.size)]
        self.names = observable_names(self.model)
        self.n_meas, self.n_snap = config.sweeps.measure, config.n_snapshots()
        self.out = Path(config.output)
        self.ckpt_path = ckpt.checkpoint_path(self.out)
        ex = config.exchange()
        self.exchange = ReplicaExchange(1.0 / self.temps, self.k, config.seed) if ex else None
        self.exchange_every = ex.every if ex else 0
        self.tune_ladder = bool(ex and ex.tune_ladder)
        # the same choice on every rank: from the largest number of chains a rank holds
        self.backend = choose_backend(config.backend, self.model, max(self.chain_counts))
        if self.backend == "gpu":
            _use_local_gpu(w)
        self.sampler = Sampler(
            self.model,
            config.update,
            self.temps[self.chains % self.n_T],
            config.seed,
            backend=self.backend,
            replica_ids=self.chains,
            overrelax=config.overrelax,
            metropolis_window=config.metropolis_window,
        )
        self.sweeps_done = 0
        self.thermalised = 0  # thermalisation sweeps done
        self.next_measurement = 0
        self._last_checkpoint = time.time()
        # wall time of rank 0 spent in each; "wait": for the other ranks to reach an exchange or a
        # write (load imbalance), kept apart from the exchange and the write themselves
        self.seconds = dict.fromkeys(("exchange", "write", "wait"), 0.0)
        self._started = time.perf_counter()
        # buffered per snapshot event: (temperature rows, snapshot indices, {representation: array})
        self._snapshots, self._snapshot_events = [], 0
        # snapshot events buffered before a write: large collective writes, bounded memory per rank
        shapes = snapshot_shapes(config)
        self.snapshot_dtypes = {name: dtype for name, (_, dtype) in shapes.items()}
        event_bytes = max(self.chain_counts) * sum(
            int(np.prod(shape)) * dtype.itemsize for shape, dtype in shapes.values()
        )
        events = int(np.clip(SNAPSHOT_BUFFER_BYTES // max(event_bytes, 1), 1, 256))
        self.snapshot_block = 1 << int(np.log2(events))  # a power of two, like the snapshots per chunk
        self._buffer = []  # per measurement: (observables (n_local, n_obs), temperature index (n_local,))

    # -- temperatures ------------------------------------------------------------------------
    def temperature_index(self) -> np.ndarray:
        """Current temperature index of every local chain."""
        if self.exchange is None:
            return self.chains % self.n_T
        return self.exchange.temperature_of.reshape(-1)[self.chains]

    def _sweeps(self, n: int, tune: bool):
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

    def _synchronise(self) -> None:
        t0 = time.perf_counter()
        self.w.barrier()
        self.seconds["wait"] += time.perf_counter() - t0

    def _exchange(self, tune: bool):
        self._synchronise()
        t0 = time.perf_counter()
        weights = self.w.allgather_rows(self.sampler.exchange_weights(), self.chain_counts)
        self.exchange.attempt(
            weights[:, 0].reshape(self.k, self.n_T), weights[:, 1].reshape(self.k, self.n_T)
        )
        if tune and self.tune_ladder and self.exchange.n_attempts % LADDER_TUNING_ATTEMPTS == 0:
            self.exchange.tune_ladder()
        self.sampler.set_temperatures(1.0 / self.exchange.betas_of_chains().reshape(-1)[self.chains])
        self.seconds["exchange"] += time.perf_counter() - t0

    # -- output ------------------------------------------------------------------------------
    def _flush(self, writer: RunWriter, snapshots: bool = True):
        """Write the buffered measurements and (with `snapshots`) snapshots. Measurements are
        gathered, sorted by temperature, and every rank writes the rows it owns; snapshots go to the
        rank that owns their row. Both are collective, and every rank reaches here at the same
        measurement."""
        self._synchronise()
        t0 = time.perf_counter()
        if self._buffer:
            B = len(self._buffer)
            start = self.next_measurement - B
            values = self.w.allgather_rows(np.stack([o for o, _ in self._buffer], axis=-1), self.chain_counts)
            rows = self.w.allgather_rows(np.stack([t for _, t in self._buffer], axis=-1), self.chain_counts)
            # the value of chain g at measurement b goes to (temperature rows[g, b], set of g, b)
            where = (rows, (np.arange(self.M) // self.n_T)[:, None], np.arange(B)[None, :])
            block = {}
            for o, name in enumerate(self.names):
                block[name] = np.empty((self.n_T, self.k, B))
                block[name][where] = values[:, o, :]
            writer.write_block("observables", start, block)
            if self.exchange is not None:
                chain_at = np.empty((self.n_T, self.k, B), dtype=np.int32)
                chain_at[where] = (np.arange(self.M) % self.n_T)[:, None]
                writer.write_block("exchange", start, {"chain_at_temperature": chain_at})
            self._buffer = []
        if snapshots and self._snapshots:
            t, s, reps = zip(*self._snapshots)
            writer.write_snapshots(
                np.concatenate(t), np.concatenate(s), {k: [r[k] for r in reps] for k in reps[0]}
            )
            self._snapshots, self._snapshot_events = [], 0
        self.seconds["write"] += time.perf_counter() - t0

    def _snapshot(self, s: int):
        reps = self.sampler.snapshot(self.config.snapshots.representations, self.config.distance())
        # in the file's dtypes already: the buffer, the all-to-all and the write carry no more bytes
        reps = {k: v.astype(self.snapshot_dtypes[k], copy=False) for k, v in reps.items()}
        sets = self.chains // self.n_T
        self._snapshots.append((self.temperature_index(), sets * self.n_snap + s, reps))
        self._snapshot_events += 1

    # -- checkpoints -------------------------------------------------------------------------
    def _checkpoint(self, writer: RunWriter | None):
        if writer is not None:
            self._flush(writer)
            writer.flush()
        states = self.w.gather(self.sampler.chain_state())
        if self.w.root:
            arrays = {f"chain/{k}": _stack_chains([s[k] for s in states]) for k in states[0]}
            meta = {
                "sweeps_done": self.sweeps_done,
                "thermalised": self.thermalised,
                "next_measurement": self.next_measurement,
            }
            if self.exchange is not None:
                for key, v in self.exchange.state_dict().items():
                    if isinstance(v, np.ndarray):
                        arrays[f"exchange/{key}"] = v
                    else:
                        meta[f"exchange/{key}"] = v
            ckpt.save(self.ckpt_path, self.config, arrays, meta)
        self.w.barrier()
        self._last_checkpoint = time.time()

    def restore(self):
        arrays, meta = ckpt.load(self.ckpt_path, self.config)
        self.sampler.load_chain_state(
            {k.split("/", 1)[1]: v[self.chains] for k, v in arrays.items() if k.startswith("chain/")}
        )
        self.sweeps_done, self.thermalised = meta["sweeps_done"], meta["thermalised"]
        self.next_measurement = meta["next_measurement"]
        if self.exchange is not None:
            d = {k.split("/", 1)[1]: v for k, v in {**arrays, **meta}.items() if k.startswith("exchange/")}
            self.exchange.load_state_dict(d)
            self.sampler.set_temperatures(1.0 / self.exchange.betas_of_chains().reshape(-1)[self.chains])

    def _check_stop(self, writer: RunWriter | None):
        """At a point where all ranks agree: checkpoint when a signal came or the interval passed."""
        due = time.time() - self._last_checkpoint > 60.0 * self.config.checkpoint.every_minutes
        wanted = self.w.max(2 if signals.received else int(due))
        if wanted:
            self._checkpoint(writer)
        if wanted == 2:
            raise Checkpointed

    # -- the run -----------------------------------------------------------------------------
    def execute(self, writer_attrs: dict, resume: bool, show_progress: bool):
        cfg, show = self.config, show_progress and self.w.root
        with progress(cfg.sweeps.thermalize, "thermalise", enabled=show, initial=self.thermalised) as bar:
            while self.thermalised < cfg.sweeps.thermalize:
                self._sweeps(1, tune=True)
                self.thermalised += 1
                bar.update()
                self._check_stop(None)
        if self.exchange is not None:
            self.temps = 1.0 / self.exchange.betas  # the ladder, tuned or not
        layout = Layout(
            self.temps, self.k, self.n_meas, self.names, snapshot_shapes(cfg), self.n_snap, cfg.distance()
        )
        writer = RunWriter(
            self.out, self.w, layout, writer_attrs, resume=resume and self.next_measurement > 0
        )
        try:
            if self.exchange is not None and self.next_measurement == 0:
                writer.create_series(
                    "exchange",
                    "chain_at_temperature",
                    np.int32,
                    "which chain of its set was at each temperature at each measurement",
                )
            self._measure(writer, show)
            self._flush(writer)
            writer.flush()
            summary = self._summarise(writer)
            if self.exchange is not None:
                writer.write_small(
                    "exchange",
                    "acceptance",
                    self.exchange.acceptance(),
                    {"description": "accepted fraction of exchanges of temperatures t, t+1"},
                )
                writer.write_small(
                    "exchange",
                    "round_trips",
                    self.exchange.round_trips,
                    {"description": "round trips T_0 -> T_max -> T_0 of every chain (set, chain)"},
                )
            writer.write_summary(summary)
            timings = {f"seconds_{k}": v for k, v in self.seconds.items()}
            timings["seconds_total"] = time.perf_counter() - self._started
            writer.finish({"finished": now(), "n_ranks": self.w.size, **self.w.bcast(timings)})
        except Checkpointed:
            writer.close()
            raise
        except BaseException:
            if self.w.size == 1:  # with several ranks, closing is collective: src.sample aborts MPI instead
                writer.abort()
            raise
        if self.w.root:
            self.ckpt_path.unlink(missing_ok=True)
        return summary

    def _measure(self, writer: RunWriter, show: bool):
        cfg = self.config
        every, snap_every = cfg.sweeps.every, cfg.snapshots.every
        with progress(
            self.n_meas * every, "measure", enabled=show, initial=self.next_measurement * every
        ) as bar:
            while self.next_measurement < self.n_meas:
                self._sweeps(every, tune=False)
                obs = self.sampler.measure()
                self._buffer.append((np.stack([obs[k] for k in self.names]).T, self.temperature_index()))
                self.next_measurement += 1
                i = self.next_measurement
                if snap_every and i % snap_every == 0 and i // snap_every <= self.n_snap:
                    self._snapshot(i // snap_every - 1)
                # snapshots are written in blocks of snapshot_block events, which fill whole chunks
                # (a partial chunk costs HDF5 a read-modify-write); measurements when enough are held
                if self._snapshot_events == self.snapshot_block:
                    self._flush(writer)
                elif len(self._buffer) == FLUSH_MEASUREMENTS:
                    self._flush(writer, snapshots=False)
                bar.update(every)
                self._check_stop(writer)

    def _summarise(self, writer: RunWriter) -> dict:
        summary = None
        if self.w.root:
            series = {k: writer.read_series("observables", k) for k in self.names}
            n_bins = min(32, series["energy"].shape[1])
            summary = summarize(series, 1.0 / self.temps, self.model.n_sites, J=self.model.J, n_bins=n_bins)
        return self.w.bcast(summary)


def run(
    config: Config, overwrite: bool = False, resume: bool = False, show_progress: bool = True, log=print
) -> Path | None:
    """Run (or resume) a sampling run. Returns the output path, or None when --resume found the
    run complete already. Raises Checkpointed after a checkpoint that a signal asked for."""
    w = world()
    signals.install()
    say = log if w.root else (lambda *a: None)
    out = Path(config.output)
    started = time.time()
    if resume and w.bcast(_complete(out) if w.root else None):
        say(f"{out} is complete already; nothing to do")
        return None
    resuming = resume and w.bcast(ckpt.checkpoint_path(out).exists() if w.root else None)
    if not resuming:
        _on_root(w, lambda: check_output(out, overwrite))
    r = Run(config, w, say)
    if resuming:
        r.restore()
        if r.next_measurement > 0 and not w.bcast(partial_path(out).exists() if w.root else None):
            raise ckpt.CheckpointError(
                f"checkpoint {r.ckpt_path}: its partial output {partial_path(out)} is missing"
            )
    attrs = w.bcast(
        {
            "model": r.model.name,
            "L": r.model.L,
            "q": r.model.q,
            "J": r.model.J,
            "Jz": r.model.Jz,
            "update": config.update,
            "seed": config.seed,
            "config": dump(config),
            "backend": r.backend,
            "n_ranks": w.size,
            "started": now(),
            **provenance(),
        }
        if w.root
        else None
    )
    say(
        f"{'resuming' if resuming else 'sampling'} {r.model.name} L={r.model.L} at {r.n_T} temperatures x "
        f"{r.k} replicas with {config.update} on {r.backend}, {w.size} rank(s): {config.sweeps.thermalize} + "
        f"{r.n_meas} x {config.sweeps.every} sweeps -> {out}"
    )
    summary = r.execute(attrs, resuming, show_progress)
    say(format_summary_table(summary, r.temps, columns=headline_columns(summary)))
    if r.exchange is not None:
        say("exchange acceptance per pair: " + " ".join(f"{a:.2f}" for a in r.exchange.acceptance()))
    say(f"wrote {out} ({time.time() - started:.1f} s)")
    return out


def _complete(out: Path) -> bool:
    if not out.exists():
        return False
    with RunFile(out) as f:
        return bool(f.attrs.get("complete"))
