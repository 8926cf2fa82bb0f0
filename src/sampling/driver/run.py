"""The sampling run across MPI ranks: thermalise, measure, take snapshots, write one file, checkpoint,
resume. The pieces: the chain schedule (sweeps and replica exchange, src.sampling.driver.schedule),
the recorder (buffers and collective writes, .recorder) and checkpointing (.checkpointing).

What protects an output (docs/config.md, "Outputs that survive mistakes"):
- rank 0 holds a lock on <output>.lock for the whole run, so a second run of the same output (a
  duplicated Slurm submission) stops with one line instead of writing the same files;
- a fresh start refuses to run over the <output>.ckpt or <output>.partial of an unfinished run
  unless --overwrite discards them (the checkpoint is removed first, so that it can never be paired
  with the new partial file);
- a run has a random run_id, kept in its partial file and in every checkpoint: --resume continues
  only the partial file of the checkpoint's own run;
- the partial file is on disk (fsync) before a checkpoint that points into it is written, and a
  run that fails keeps its partial file whenever a checkpoint can resume it.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from filelock import FileLock, Timeout

from src.parallel.mpi import World, world
from src.progress import progress
from src.provenance import now, provenance
from src.sampling.config import Config, dump
from src.sampling.driver.checkpointing import Checkpointing, checkpoint_path
from src.sampling.driver.recorder import Recorder
from src.sampling.driver.schedule import ChainSchedule
from src.signals import Checkpointed, install
from src.stats.derived import format_summary_table, headline_columns, short_series
from src.storage.checkpoint import CheckpointError
from src.storage.reader import RunFile
from src.storage.writer import OutputError, RunWriter, check_folder, check_output, partial_path


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
    def __init__(self, config: Config, w: World):
        self.config, self.w = config, w
        self.model = config.model.build()
        self.schedule = ChainSchedule(config, w, self.model)
        self.recorder = Recorder(config, self.model, self.schedule)
        self.checkpoints = Checkpointing(config, self.schedule)
        self.out = Path(config.output)
        self.thermalised = 0  # thermalisation sweeps done
        self.next_measurement = 0
        self.run_id = w.bcast(uuid.uuid4().hex if w.root else None)  # a resume takes the checkpoint's
        self._started = time.perf_counter()

    def restore(self):
        position = self.checkpoints.restore()
        self.thermalised, self.next_measurement = position["thermalised"], position["next_measurement"]
        self.run_id = position["run_id"]

    def _check_stop(self, writer: RunWriter | None):
        """At a point where all ranks agree: checkpoint when a signal came or the interval passed."""
        wanted = self.checkpoints.due()
        if wanted:
            if writer is not None:
                self.recorder.flush(writer, self.next_measurement)
                writer.flush()
            self.checkpoints.save(
                {
                    "thermalised": self.thermalised,
                    "next_measurement": self.next_measurement,
                    "run_id": self.run_id,
                }
            )
        if wanted == 2:
            raise Checkpointed

    def execute(self, writer_attrs: dict, resume: bool, show_progress: bool):
        cfg, show = self.config, show_progress and self.w.root
        with progress(cfg.sweeps.thermalize, "thermalise", enabled=show, initial=self.thermalised) as bar:
            while self.thermalised < cfg.sweeps.thermalize:
                self.schedule.sweeps(1, tune=True)
                self.thermalised += 1
                bar.update()
                self._check_stop(None)
        continuing = resume and self.next_measurement > 0
        writer = RunWriter(
            self.out, self.w, self.recorder.layout(), {**writer_attrs, "run_id": self.run_id}, continuing
        )
        # every rank with the file open reads the attribute: parallel HDF5 wants metadata reads collective
        if continuing and self.w.bcast(writer.run_id if writer.writes else None) != self.run_id:
            writer.close()
            raise CheckpointError(
                f"checkpoint {self.checkpoints.path} belongs to run {self.run_id}, but "
                f"{writer.partial} to another run; continue neither: --overwrite starts afresh"
            )
        try:
            if self.next_measurement == 0:
                self.recorder.start(writer)
            self._measure(writer, show)
            self.recorder.flush(writer, self.next_measurement)
            writer.flush()
            summary = self.recorder.finish(writer)
            seconds = {**self.schedule.seconds, "write": self.recorder.seconds_write}
            timings = {f"seconds_{k}": seconds[k] for k in ("exchange", "write", "wait")}
            timings["seconds_total"] = time.perf_counter() - self._started
            writer.finish({"finished": now(), "n_ranks": self.w.size, **self.w.bcast(timings)})
        except Checkpointed:
            writer.close()
            raise
        except BaseException:
            # with several ranks, closing is collective: src.sample aborts MPI instead; a partial file
            # that a checkpoint can resume is kept
            if self.w.size == 1:
                writer.close() if self.checkpoints.path.exists() else writer.abort()
            raise
        self.checkpoints.remove()
        return summary

    def _measure(self, writer: RunWriter, show: bool):
        cfg, rec = self.config, self.recorder
        every, snap_every, n_snap = cfg.sweeps.every, cfg.snapshots.every, rec.n_snap
        with progress(
            rec.n_meas * every, "measure", enabled=show, initial=self.next_measurement * every
        ) as bar:
            while self.next_measurement < rec.n_meas:
                self.schedule.sweeps(every, tune=False)
                rec.measurement(self.schedule.sampler.measure())
                self.next_measurement += 1
                i = self.next_measurement
                if snap_every and i % snap_every == 0 and i // snap_every <= n_snap:
                    rec.snapshot(i // snap_every - 1)
                due = rec.due()
                if due is not None:
                    rec.flush(writer, self.next_measurement, snapshots=due)
                bar.update(every)
                self._check_stop(writer)


def run(
    config: Config, overwrite: bool = False, resume: bool = False, show_progress: bool = True, log=print
) -> Path | None:
    """Run (or resume) a sampling run. Returns the output path, or None when --resume found the
    run complete already. Raises Checkpointed after a checkpoint that a signal asked for."""
    w = world()
    install()
    out = Path(config.output)
    _on_root(w, lambda: check_folder(out))
    lock = FileLock(f"{out}.lock")
    _on_root(w, lambda: _acquire(lock, out))
    try:
        return _run(config, w, out, overwrite, resume, show_progress, log)
    finally:
        if w.root:
            lock.release()


def _acquire(lock: FileLock, out: Path) -> None:
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise OutputError(
            f"output {out} is being written by another run (it holds {lock.lock_file})"
        ) from None


def _check_leftovers(out: Path, overwrite: bool, resume: bool, say) -> None:
    """A fresh start over what an unfinished run left: refused, or with --overwrite discarded."""
    ckpt, partial = checkpoint_path(out), partial_path(out)
    if ckpt.exists():
        if not overwrite:
            raise OutputError(
                f"output {out}: an unfinished run left {ckpt.name}; "
                "--resume continues it, --overwrite discards it"
            )
        say(f"discarding the checkpoint {ckpt} of an earlier run (--overwrite)")
        ckpt.unlink()
    elif partial.exists() and not (overwrite or resume):
        raise OutputError(
            f"output {out}: a run that stopped before its first checkpoint left {partial.name}; "
            "--overwrite discards it"
        )


def _run(config: Config, w: World, out: Path, overwrite: bool, resume: bool, show_progress: bool, log):
    say = log if w.root else (lambda *a: None)
    started = time.time()
    if resume and w.bcast(_complete(out) if w.root else None):
        say(f"{out} is complete already; nothing to do")
        return None
    resuming = resume and w.bcast(checkpoint_path(out).exists() if w.root else None)
    if not resuming:
        _on_root(w, lambda: check_output(out, overwrite))
        _on_root(w, lambda: _check_leftovers(out, overwrite, resume, say))
    r = Run(config, w)
    if resuming:
        r.restore()
        if r.next_measurement > 0 and not w.bcast(partial_path(out).exists() if w.root else None):
            raise CheckpointError(
                f"checkpoint {r.checkpoints.path}: its partial output {partial_path(out)} is missing"
            )
    sch = r.schedule
    attrs = w.bcast(
        {
            **r.model.attributes(),
            "update": config.update,
            "seed": config.seed,
            "config": dump(config),
            "backend": sch.backend,
            "n_ranks": w.size,
            "started": now(),
            **provenance(),
        }
        if w.root
        else None
    )
    say(
        f"{'resuming' if resuming else 'sampling'} {r.model.name} L={r.model.L} at {sch.n_T} temperatures x "
        f"{sch.k} replicas with {config.update} on {sch.backend}, {w.size} rank(s): "
        f"{config.sweeps.thermalize} + {r.recorder.n_meas} x {config.sweeps.every} sweeps -> {out}"
    )
    summary = r.execute(attrs, resuming, show_progress)
    say(format_summary_table(summary, sch.ladder(), columns=headline_columns(summary)))
    warning = short_series(summary, sch.ladder())
    if warning:
        say(warning)
    if sch.exchange is not None:
        say("exchange acceptance per pair: " + " ".join(f"{a:.2f}" for a in sch.exchange.acceptance()))
    say(f"wrote {out} ({time.time() - started:.1f} s)")
    return out


def _complete(out: Path) -> bool:
    if not out.exists():
        return False
    with RunFile(out) as f:
        return bool(f.attrs.get("complete"))
