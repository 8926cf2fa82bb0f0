"""Writes a run file, from one process or collectively from all MPI ranks.

The file is built as <output>.partial and renamed onto <output> only when the run completes, so an
existing file is never truncated and a failed run leaves it untouched. With an MPI build of h5py
every rank opens the file (driver "mpio") and writes its own part collectively: the rows of
/observables it owns and the snapshots of its own chains. With a serial h5py and several ranks,
rank 0 writes what the others send it (one warning says so).

Columns: replica set j, measurement i is column j * n_measurements + i of every
/observables/<name> row; its snapshot s is index j * n_snapshots + s of /snapshots/<rep>.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from src.parallel.mpi import World, split
from src.storage.atomic import sync_folder
from src.storage.schema import (
    FORMAT,
    FORMAT_VERSION,
    SUMMARY_DOCS,
    observable_attributes,
    representation_description,
)


class OutputError(RuntimeError):
    """The output path cannot be used; the message is one line."""


def partial_path(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def check_output(path: Path, overwrite: bool) -> None:
    if path.is_dir():
        raise OutputError(f"output {path} is a directory; name a file in it")
    if path.exists() and not overwrite:
        raise OutputError(
            f"output {path} exists; pass --overwrite to replace it (kept until the new run completes)"
        )
    check_folder(path)


def check_folder(path: Path) -> None:
    """The output's folder exists (made if need be) and is writable; OutputError otherwise."""
    parent = path.parent if str(path.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"output directory {parent}: {err.strerror}") from None
    if not os.access(parent, os.W_OK):
        raise OutputError(f"output directory {parent} is not writable")


@dataclass(frozen=True)
class RunLayout:
    temperatures: np.ndarray
    n_replicas: int
    n_measurements: int  # per replica set
    observables: tuple[str, ...]
    snapshot_shapes: dict  # representation -> (shape, dtype)
    n_snapshots: int  # per replica set
    distance: int

    @property
    def n_T(self) -> int:
        return len(self.temperatures)


def hdf5_has_mpi() -> bool:
    return bool(h5py.get_config().mpi)


CHUNK_BYTES = 1 << 20  # about 1 MiB per chunk: HDF5's per-chunk cost dominates for single small snapshots


def _snapshots_per_chunk(shape, dtype, n_snap: int) -> int:
    """A block of consecutive snapshots of one temperature per chunk (a power of two, so that the
    driver's buffered writes, also powers of two, fill whole chunks)."""
    per_snapshot = int(np.prod(shape)) * np.dtype(dtype).itemsize
    block = 1 << max(0, int(np.log2(max(1, CHUNK_BYTES // per_snapshot))))
    return min(block, n_snap)


def _preallocated():
    """Dataset creation properties that allocate all storage when the dataset is created (and
    write no fill values): later writes then change no file metadata, so a run killed between two
    checkpoints leaves a partial file that --resume can still open; a full disk fails at once."""
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    dcpl.set_fill_time(h5py.h5d.FILL_TIME_NEVER)
    return dcpl


def _gathered(parts: list, order: np.ndarray) -> np.ndarray:
    """np.concatenate(parts)[order] with one copy: every part's rows go straight to their place."""
    where = np.empty_like(order)
    where[order] = np.arange(len(order))
    out = np.empty((len(order), *parts[0].shape[1:]), parts[0].dtype)
    start = 0
    for part in parts:
        out[where[start : start + len(part)]] = part
        start += len(part)
    return out


class RunWriter:
    def __init__(
        self, path: Path, world: World, layout: RunLayout, attrs: dict | None = None, resume: bool = False
    ):
        """attrs: the file's attributes (a fresh file only), among them the run's `run_id`."""
        self.path = Path(path)
        self.partial = partial_path(self.path)
        self.world = world
        self.layout = layout
        self.parallel = world.size > 1 and hdf5_has_mpi()
        if world.size > 1 and not self.parallel and world.root:
            warnings.warn("h5py has no MPI support: rank 0 writes the data of all ranks", stacklevel=2)
        self.writes = self.parallel or world.root  # whether this rank has the file open
        self.rows = split(layout.n_T, world.size, world.rank) if self.parallel else np.arange(layout.n_T)
        self.f = None
        if self.writes:
            kwargs = {"driver": "mpio", "comm": world.comm} if self.parallel else {}
            again = "; the checkpoint cannot continue it (--overwrite starts afresh)" if resume else ""
            if resume and not (self.partial.is_file() and h5py.is_hdf5(self.partial)):
                # checked first: HDF5 opens an empty file for writing and gives it a superblock
                raise OutputError(f"{self.partial}: cannot be opened (missing, empty or not HDF5){again}")
            try:
                self.f = h5py.File(self.partial, "r+" if resume else "w", **kwargs)
            except OSError as err:  # a truncated or overwritten partial file, a full disk, ...
                what = str(err).removeprefix("Unable to open file ").removeprefix("Unable to create file ")
                raise OutputError(f"{self.partial}: cannot be opened {what}{again}") from None
        if not resume and self.writes:
            self._create(attrs or {})

    def _create(self, attrs: dict):
        lay, f = self.layout, self.f
        f.attrs.update(
            {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "complete": False,
                "n_replicas": lay.n_replicas,
                "measurements_per_replica": lay.n_measurements,
                "snapshots_per_replica": lay.n_snapshots,
                **attrs,
            }
        )
        t = f.create_dataset("temperatures", data=np.asarray(lay.temperatures, dtype=np.float64))
        t.attrs["description"] = "temperature T = 1/beta of each row (k_B = 1, units of J)"
        for name in lay.observables:
            docs = observable_attributes(name)
            self.create_series("observables", name, np.float64, docs["description"]).attrs["units"] = docs[
                "units"
            ]
        snaps = f.create_group("snapshots")
        snaps.attrs["distance"] = lay.distance
        n_snap = lay.n_replicas * lay.n_snapshots
        for name, (shape, dtype) in lay.snapshot_shapes.items():
            d = snaps.create_dataset(
                name,
                shape=(lay.n_T, n_snap, *shape),
                dtype=dtype,
                chunks=(1, _snapshots_per_chunk(shape, dtype, n_snap), *shape) if n_snap else None,
                dcpl=_preallocated(),
            )
            axes = "temperature, replica * snapshot, " + ("channel, y, x" if len(shape) == 3 else "y, x")
            d.attrs.update(
                {"description": representation_description(name), "axes": axes, "distance": lay.distance}
            )

    def create_series(self, group: str, name: str, dtype, description: str):
        """An (n_T, n_replicas * n_measurements) dataset like the observables (write_block fills it)."""
        if not self.writes:
            return None
        n_cols = self.layout.n_replicas * self.layout.n_measurements
        d = self.f.require_group(group).create_dataset(
            name,
            shape=(self.layout.n_T, n_cols),
            dtype=dtype,
            chunks=(1, min(n_cols, 16384)),
            dcpl=_preallocated(),
        )
        d.attrs.update({"description": description, "axes": "temperature, replica * measurement"})
        return d

    def write_block(self, group: str, start: int, block: dict):
        """block[name]: (n_T, n_replicas, B) values of measurements start .. start + B - 1 of
        every replica set, the same on every rank; each rank writes the rows it owns."""
        if not self.writes:
            return
        lay = self.layout
        first, n_rows = (int(self.rows[0]), len(self.rows)) if len(self.rows) else (0, 0)
        for name, values in block.items():
            B = values.shape[2]
            # the owned rows are consecutive: one (rows x B) block per replica set
            blocks = [((first, j * lay.n_measurements + start), (n_rows, B)) for j in range(lay.n_replicas)]
            self._write(self.f[group][name], blocks if n_rows else [], values[self.rows].transpose(1, 0, 2))

    def write_snapshots(self, temperatures, indices, snapshots: dict):
        """Snapshot indices[i] at temperature row temperatures[i] of this rank's chains, with the
        representations in snapshots[name], a list of arrays whose rows, concatenated, are i = 0, 1,
        ... (one array per snapshot event, so that they are copied once, into place). They are sent
        to the rank that owns their temperature row (rank 0 with a serial h5py), which writes its
        rows' runs of consecutive snapshot indices as a few large blocks."""
        owner = np.zeros(self.layout.n_T, dtype=np.int64)
        if self.parallel:
            for rank in range(self.world.size):
                owner[split(self.layout.n_T, self.world.size, rank)] = rank
        temperatures, indices = np.asarray(temperatures, np.int64), np.asarray(indices, np.int64)
        to = np.argsort(owner[temperatures], kind="stable")
        if self.world.size > 1:
            counts = np.bincount(owner[temperatures], minlength=self.world.size)
            received = self.world.received_counts(counts)
            send = (temperatures[to], indices[to], {k: _gathered(v, to) for k, v in snapshots.items()})
            temperatures, indices = (self.world.alltoall_rows(a, counts, received) for a in send[:2])
            snapshots = {k: [self.world.alltoall_rows(v, counts, received)] for k, v in send[2].items()}
        if not self.writes:
            return
        order = np.lexsort((indices, temperatures))  # by temperature row, then snapshot index
        t, s = temperatures[order], indices[order]
        # runs of consecutive snapshot indices at one temperature: ((t, first), (1, length))
        new_run = np.flatnonzero((np.diff(t) != 0) | (np.diff(s) != 1)) + 1
        starts, ends = np.r_[0, new_run], np.r_[new_run, len(t)]
        blocks = [((int(t[i]), int(s[i])), (1, int(j - i))) for i, j in zip(starts, ends)] if len(t) else []
        for name in self.layout.snapshot_shapes:
            self._write(self.f["snapshots"][name], blocks, _gathered(snapshots[name], order))

    def _write(self, dset, blocks: list, data: np.ndarray):
        """Write `data`, laid out block after block in the file's order, to `blocks` ((start, count)
        in the leading axes, whole in the others). One regular hyperslab per call: HDF5 is an order
        of magnitude slower on unions of many hyperslabs. In parallel every call is collective, so
        ranks with fewer blocks make empty calls until all have written theirs."""
        data = np.ascontiguousarray(data, dtype=dset.dtype).reshape(-1)
        n_calls = self.world.max(len(blocks)) if self.parallel else len(blocks)
        dxpl = h5py.h5p.create(h5py.h5p.DATASET_XFER)
        if self.parallel:
            dxpl.set_dxpl_mpio(h5py.h5fd.MPIO_COLLECTIVE)
        offset = 0
        for k in range(n_calls):
            fspace = dset.id.get_space()
            if k < len(blocks):
                start, count = blocks[k]
                tail = dset.shape[len(count) :]
                shape = tuple(count) + tuple(tail)
                fspace.select_hyperslab(tuple(start) + (0,) * len(tail), shape)
                size = int(np.prod(shape))
                part = data[offset : offset + size].reshape(shape)
                offset += size
                mspace = h5py.h5s.create_simple(shape)
            else:  # nothing left on this rank: take part in the collective call with an empty selection
                fspace.select_none()
                part = np.zeros(1, dset.dtype)
                mspace = h5py.h5s.create_simple((1,))
                mspace.select_none()
            dset.id.write(mspace, fspace, part, dxpl=dxpl)

    def flush(self):
        """Everything written so far on disk, not only in the system's cache: a checkpoint written
        after it can rely on the data after a crash of the node."""
        if self.writes:
            self.f.flush()
        self.world.barrier()
        if self.world.root:
            self._sync()

    def _sync(self):
        fd = os.open(self.partial, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    @property
    def run_id(self) -> str | None:
        """The run_id attribute of the file (any rank with the file open)."""
        return self.f.attrs.get("run_id")

    def read_series(self, group: str, name: str) -> np.ndarray:
        """(n_T, n_replicas * n_measurements) as written so far (any rank with the file open)."""
        return self.f[group][name][:]

    def write_small(self, group: str, name: str, data, attrs: dict):
        """A small dataset whose value every rank knows (collective creation, one writer)."""
        if not self.writes:
            return
        data = np.asarray(data)
        d = self.f.require_group(group).create_dataset(name, shape=data.shape, dtype=data.dtype)
        d.attrs.update(attrs)
        self._write(d, [((0,) * data.ndim, data.shape)] if self.world.root else [], data)

    def write_summary(self, summary: dict):
        for name, (value, err) in summary.items():
            data = np.stack([np.asarray(value, float), np.asarray(err, float)], -1)
            self.write_small(
                "summary",
                name,
                data,
                {
                    "description": SUMMARY_DOCS.get(name, f"mean of observables/{name}"),
                    "columns": "value, error",
                },
            )

    def finish(self, attrs: dict):
        if self.writes:
            self.f.attrs.update({**attrs, "complete": True})
            self.f.close()
        self.world.barrier()
        if self.world.root:
            self._sync()
            os.replace(self.partial, self.path)
            sync_folder(self.path)

    def close(self):
        """Close without completing (checkpointed runs keep the partial file for --resume)."""
        if self.writes and self.f:
            self.f.close()
            self.f = None

    def abort(self):
        self.close()
        self.world.barrier()
        if self.world.root:
            self.partial.unlink(missing_ok=True)
