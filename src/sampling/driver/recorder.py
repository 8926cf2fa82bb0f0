"""The recorder of a run: measurements and snapshots buffered on every rank and written collectively
into the run file (src.storage.writer), then the summary and the exchange records.

Measurements are gathered, sorted by temperature, and every rank writes the rows it owns; snapshots
go to the rank that owns their row. Both writes are collective, and every rank reaches them at the
same measurement. Snapshots are written in blocks of whole chunks (a partial chunk costs HDF5 a
read-modify-write), measurements when enough are held.
"""

from __future__ import annotations

import time

import numpy as np

from src.sampling.config import Config
from src.sampling.driver.schedule import ChainSchedule
from src.stats.derived import summarize
from src.storage.writer import RunLayout, RunWriter

FLUSH_MEASUREMENTS = 1024  # observables are written in blocks of this many measurements
SNAPSHOT_BUFFER_BYTES = 64 << 20  # snapshots held per rank before they are written


def snapshot_shapes(config: Config, model) -> dict:
    """representation -> (shape of one snapshot, dtype in the file)."""
    if not config.n_snapshots():
        return {}
    return {
        name: (model.snapshot_shape(name), model.stored_dtype(name))
        for name in config.snapshots.representations
    }


class Recorder:
    def __init__(self, config: Config, model, schedule: ChainSchedule):
        self.config, self.model, self.schedule = config, model, schedule
        self.w = schedule.w
        self.names = model.observable_names
        self.n_meas, self.n_snap = config.sweeps.measure, config.n_snapshots()
        self.seconds_write = 0.0  # wall time of rank 0 spent writing
        self._buffer = []  # per measurement: (observables (n_local, n_obs), temperature index (n_local,))
        # buffered per snapshot event: (temperature rows, snapshot indices, {representation: array})
        self._snapshots, self.snapshot_events = [], 0
        # snapshot events buffered before a write: large collective writes, bounded memory per rank
        shapes = snapshot_shapes(config, model)
        self.snapshot_dtypes = {name: dtype for name, (_, dtype) in shapes.items()}
        event_bytes = max(schedule.chain_counts) * sum(
            int(np.prod(shape)) * dtype.itemsize for shape, dtype in shapes.values()
        )
        events = int(np.clip(SNAPSHOT_BUFFER_BYTES // max(event_bytes, 1), 1, 256))
        self.snapshot_block = 1 << int(np.log2(events))  # a power of two, like the snapshots per chunk

    def layout(self) -> RunLayout:
        cfg = self.config
        return RunLayout(
            self.schedule.ladder(),
            cfg.replicas,
            self.n_meas,
            self.names,
            snapshot_shapes(cfg, self.model),
            self.n_snap,
            cfg.distance(),
        )

    def measurement(self, observables: dict) -> None:
        self._buffer.append(
            (np.stack([observables[k] for k in self.names]).T, self.schedule.temperature_index())
        )

    def snapshot(self, s: int) -> None:
        """Snapshot s of every local chain."""
        cfg, sch = self.config, self.schedule
        reps = sch.sampler.snapshot(cfg.snapshots.representations, cfg.distance(), cfg.snapshots.axes)
        # in the file's dtypes already: the buffer, the all-to-all and the write carry no more bytes
        reps = {k: v.astype(self.snapshot_dtypes[k], copy=False) for k, v in reps.items()}
        sets = sch.chains // sch.n_T
        self._snapshots.append((sch.temperature_index(), sets * self.n_snap + s, reps))
        self.snapshot_events += 1

    def due(self) -> bool | None:
        """After a measurement: True when the snapshot buffer is full (write everything), False when
        the measurement buffer is (write measurements only), None when nothing is due."""
        if self.snapshot_events == self.snapshot_block:
            return True
        if len(self._buffer) == FLUSH_MEASUREMENTS:
            return False
        return None

    def flush(self, writer: RunWriter, next_measurement: int, snapshots: bool = True):
        """Write the buffered measurements (which end before `next_measurement`) and, with
        `snapshots`, the snapshots."""
        sch = self.schedule
        sch.synchronise()
        t0 = time.perf_counter()
        if self._buffer:
            B = len(self._buffer)
            start = next_measurement - B
            values = self.w.allgather_rows(np.stack([o for o, _ in self._buffer], axis=-1), sch.chain_counts)
            rows = self.w.allgather_rows(np.stack([t for _, t in self._buffer], axis=-1), sch.chain_counts)
            # the value of chain g at measurement b goes to (temperature rows[g, b], set of g, b)
            where = (rows, (np.arange(sch.M) // sch.n_T)[:, None], np.arange(B)[None, :])
            block = {}
            for o, name in enumerate(self.names):
                block[name] = np.empty((sch.n_T, sch.k, B))
                block[name][where] = values[:, o, :]
            writer.write_block("observables", start, block)
            if sch.exchange is not None:
                chain_at = np.empty((sch.n_T, sch.k, B), dtype=np.int32)
                chain_at[where] = (np.arange(sch.M) % sch.n_T)[:, None]
                writer.write_block("exchange", start, {"chain_at_temperature": chain_at})
            self._buffer = []
        if snapshots and self._snapshots:
            t, s, reps = zip(*self._snapshots)
            writer.write_snapshots(
                np.concatenate(t), np.concatenate(s), {k: [r[k] for r in reps] for k in reps[0]}
            )
            self._snapshots, self.snapshot_events = [], 0
        self.seconds_write += time.perf_counter() - t0

    def start(self, writer: RunWriter) -> None:
        """The datasets a new file needs besides the layout's."""
        if self.schedule.exchange is not None:
            writer.create_series(
                "exchange",
                "chain_at_temperature",
                np.int32,
                "which chain of its set was at each temperature at each measurement",
            )

    def finish(self, writer: RunWriter) -> dict:
        """The summary and the exchange records, written; returns the summary."""
        summary = None
        if self.w.root:
            series = {k: writer.read_series("observables", k) for k in self.names}
            n_bins = min(32, series["energy"].shape[1])
            betas = 1.0 / self.schedule.ladder()
            summary = summarize(series, betas, self.model.n_sites, J=self.model.J, n_bins=n_bins)
        summary = self.w.bcast(summary)
        exchange = self.schedule.exchange
        if exchange is not None:
            writer.write_small(
                "exchange",
                "acceptance",
                exchange.acceptance(),
                {"description": "accepted fraction of exchanges of temperatures t, t+1"},
            )
            writer.write_small(
                "exchange",
                "round_trips",
                exchange.round_trips,
                {"description": "round trips T_0 -> T_max -> T_0 of every chain (set, chain)"},
            )
        writer.write_summary(summary)
        return summary
