"""The sampling run: thermalise, measure, take snapshots, write the run file, summarise."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from src.config import Config, dump
from src.observables import observable_names
from src.progress import progress
from src.provenance import now, provenance
from src.sampler import Sampler
from src.stats.derived import format_summary_table, headline_columns, summarize
from src.storage.writer import RunWriter, check_output

FLUSH_MEASUREMENTS = 1024  # observables are buffered in blocks of this many measurements


def choose_backend(requested: str) -> str:
    if requested != "auto":
        return requested
    try:
        import cupy

        return "gpu" if cupy.cuda.runtime.getDeviceCount() > 0 else "cpu"
    except Exception:  # no CuPy, no driver or no device: the CPU it is
        return "cpu"


def snapshot_shapes(config: Config) -> dict:
    spec = config.model.spec()
    L = spec.L
    shapes = {
        "spin": ((L, L), np.float32 if spec.continuous else np.int8),
        "correlation": ((2, L, L), np.float32),
        "fk_bonds": ((2, L, L), np.uint8),
        "improved": ((2, L, L), np.float32),
    }
    return {name: shapes[name] for name in config.snapshots.representations} if config.n_snapshots() else {}


def run(config: Config, overwrite: bool = False, show_progress: bool = True, log=print) -> Path:
    out = Path(config.output)
    check_output(out, overwrite)
    model = config.model.spec()
    temps = config.temperature_values()
    backend = choose_backend(config.backend)
    sampler = Sampler(
        model,
        config.update,
        temps,
        config.seed,
        backend=backend,
        overrelax=config.overrelax,
        metropolis_window=config.metropolis_window,
    )
    names = observable_names(model)
    n_meas, every = config.sweeps.measure, config.sweeps.every
    n_snap, snap_every = config.n_snapshots(), config.snapshots.every
    r = config.distance()
    started, t0 = now(), time.time()
    attrs = {
        "model": model.name,
        "L": model.L,
        "q": model.q,
        "J": model.J,
        "update": config.update,
        "seed": config.seed,
        "config": dump(config),
        "backend": backend,
        "started": started,
        **provenance(),
    }
    writer = RunWriter(out, attrs, temps, names, n_meas, snapshot_shapes(config), n_snap, r)
    try:
        log(
            f"sampling {model.name} L={model.L} at {len(temps)} temperatures with {config.update} "
            f"on {backend}: {config.sweeps.thermalize} + {n_meas} x {every} sweeps -> {out}"
        )
        with progress(config.sweeps.thermalize, "thermalise", enabled=show_progress) as bar:
            for _ in range(config.sweeps.thermalize):
                sampler.sweep(1, tune=True)
                bar.update()
        series = {k: np.empty((len(temps), n_meas)) for k in names}
        block_start = 0
        with progress(n_meas * every, "measure", enabled=show_progress) as bar:
            for i in range(n_meas):
                sampler.sweep(every)
                for k, v in sampler.measure().items():
                    series[k][:, i] = v
                if snap_every and (i + 1) % snap_every == 0 and (i + 1) // snap_every <= n_snap:
                    writer.write_snapshot(
                        (i + 1) // snap_every - 1, sampler.snapshot(config.snapshots.representations, r)
                    )
                if i + 1 - block_start == FLUSH_MEASUREMENTS or i + 1 == n_meas:
                    writer.write_observables(
                        block_start, {k: v[:, block_start : i + 1] for k, v in series.items()}
                    )
                    block_start = i + 1
                bar.update(every)
        n_bins = min(32, n_meas)
        summary = summarize(series, 1.0 / temps, model.n_sites, J=model.J, n_bins=n_bins)
        writer.write_summary(summary)
        writer.finish({"finished": now(), "wall_seconds": time.time() - t0})
    except BaseException:
        writer.abort()
        raise
    log(format_summary_table(summary, temps, columns=headline_columns(summary)))
    log(f"wrote {out} ({time.time() - t0:.1f} s)")
    return out
