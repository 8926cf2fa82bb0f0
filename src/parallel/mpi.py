"""The MPI world of a run, or a world of one process when the run was not started by an MPI
launcher (so mpi4py is never imported, let alone initialised, by a plain `python -m ...`)."""

from __future__ import annotations

import os

import numpy as np

# Set by the launchers: OpenMPI's mpirun, PMI/PMIx (srun --mpi=..., MPICH's hydra).
_LAUNCHER_VARS = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")


def launched_by_mpi() -> bool:
    return any(v in os.environ for v in _LAUNCHER_VARS)


class World:
    """rank, size and the few collectives the driver needs; `comm` is the mpi4py communicator
    (None for a single process)."""

    def __init__(self, comm=None):
        self.comm = comm
        self.rank = comm.Get_rank() if comm is not None else 0
        self.size = comm.Get_size() if comm is not None else 1

    @property
    def root(self) -> bool:
        return self.rank == 0

    def local_rank(self) -> int:
        """Rank among the processes of this node (for choosing a GPU)."""
        if self.comm is None:
            return 0
        from mpi4py import MPI

        return self.comm.Split_type(MPI.COMM_TYPE_SHARED).Get_rank()

    def allgather_rows(self, rows: np.ndarray, counts=None) -> np.ndarray:
        """Concatenate every rank's rows (along axis 0), in rank order, on every rank. Buffers, not
        pickled objects: the exchange calls this every sweep, and pickling costs 20x the transfer.
        `counts`, the number of rows of every rank where the caller knows it, saves a collective."""
        if self.comm is None:
            return rows
        rows = np.ascontiguousarray(rows)
        if counts is None:
            counts = np.empty(self.size, np.int64)
            self.comm.Allgather(np.array([len(rows)], np.int64), counts)
        counts = np.asarray(counts, np.int64)
        out = np.empty((int(counts.sum()), *rows.shape[1:]), rows.dtype)
        self.comm.Allgatherv(rows, [out, counts * int(np.prod(rows.shape[1:]))])
        return out

    def alltoall(self, outgoing: list) -> list:
        """outgoing[r] goes to rank r; returns what every rank sent to this one, in rank order."""
        return outgoing if self.comm is None else self.comm.alltoall(outgoing)

    def received_counts(self, counts: np.ndarray) -> np.ndarray:
        """How many rows every rank sends this one, given how many this one sends each (alltoall_rows)."""
        if self.comm is None:
            return counts
        received = np.empty(self.size, np.int64)
        self.comm.Alltoall(np.ascontiguousarray(counts, np.int64), received)
        return received

    def alltoall_rows(self, rows: np.ndarray, counts: np.ndarray, received: np.ndarray) -> np.ndarray:
        """rows ordered by destination, counts[r] of them for rank r; returns the rows every rank
        sent this one (received[r] from rank r), in rank order. Buffers, not pickles: this carries
        the snapshots, and a pickled all-to-all took as long as writing them."""
        if self.comm is None:
            return rows
        rows = np.ascontiguousarray(rows)
        per_row = int(np.prod(rows.shape[1:]))
        out = np.empty((int(received.sum()), *rows.shape[1:]), rows.dtype)
        self.comm.Alltoallv([rows, counts * per_row], [out, received * per_row])
        return out

    def gather(self, obj):
        return [obj] if self.comm is None else self.comm.gather(obj, root=0)

    def bcast(self, obj):
        return obj if self.comm is None else self.comm.bcast(obj, root=0)

    def max(self, value: int) -> int:
        if self.comm is None:
            return value
        from mpi4py import MPI

        return self.comm.allreduce(value, op=MPI.MAX)

    def barrier(self):
        if self.comm is not None:
            self.comm.Barrier()


def prefer_romio() -> None:
    """Open MPI's ROMIO instead of its default OMPIO for MPI-IO, unless OMPI_MCA_io is set: ROMIO
    wrote the collective snapshots 2-4x faster (docs/benchmarks.md). Open MPI reads it at MPI_Init,
    so this runs before mpi4py is imported; "^ompio" names no version (romio321 in Open MPI 4,
    romio341 in 5), and other MPI libraries ignore the variable."""
    os.environ.setdefault("OMPI_MCA_io", "^ompio")


def world() -> World:
    if not launched_by_mpi():
        return World()
    prefer_romio()
    from mpi4py import MPI

    return World(MPI.COMM_WORLD)


def split(n_items: int, n_parts: int, part: int) -> np.ndarray:
    """The contiguous block of item indices of one part (sizes differ by at most one)."""
    return np.array_split(np.arange(n_items), n_parts)[part]
