"""MPI driver benchmark: weak scaling 1 -> 2 ranks (throughput per rank), the share of wall time
spent in replica exchange and in HDF5 writing at a realistic snapshot rate, and the HDF5 write
rate against a plain sequential write of the same bytes to the same disk.

    python -m bench.mpi_scaling [--ranks 1 2] [--L 64] [--per-rank 4] [--measure 2000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from src.storage.reader import RunFile

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}


def run_case(ranks: int, L: int, per_rank: int, measure: int, exchange_every: int, workdir: Path) -> dict:
    n_T = per_rank * ranks
    out = workdir / f"weak_{ranks}.h5"
    temps = np.round(np.linspace(2.0, 2.6, n_T), 4).tolist()
    settings = {
        "model.L": L,
        "temperatures": temps,
        "sweeps.thermalize": 100,
        "sweeps.measure": measure,
        "snapshots.every": 10,
        "snapshots.representations": "[spin, improved]",
        "replica_exchange.every": exchange_every,
    }
    args = [sys.executable, "-m", "src.sample", "--quiet", "--overwrite", "--output", str(out)]
    args += [a for k, v in settings.items() for a in ("--set", f"{k}={v}")]
    cmd = ["mpirun", "--oversubscribe", "-n", str(ranks), *args] if ranks > 1 else args
    subprocess.run(cmd, cwd=ROOT, env=ENV, check=True, capture_output=True)
    with RunFile(out) as f:
        a = f.attrs
        written = sum(f.snapshot_array(r).nbytes for r in f.representations)
        written += sum(f.observable(k).nbytes for k in f.observable_names)
    sweeps = n_T * (measure + 100)
    return {
        "every": exchange_every,
        "ranks": ranks,
        "chains": n_T,
        "wall": a["seconds_total"],
        "per_rank": sweeps * L * L / a["seconds_total"] / ranks,
        "exchange": a["seconds_exchange"] / a["seconds_total"],
        "write": a["seconds_write"] / a["seconds_total"],
        "wait": a["seconds_wait"] / a["seconds_total"],
        "bytes": written,
        "hdf5_rate": written / a["seconds_write"] / 1e6,
    }


def sequential_rate(n_bytes: int, workdir: Path) -> float:
    """MB/s of one plain write of n_bytes in 1 MB pieces (the page cache, like the HDF5 runs)."""
    block = np.random.default_rng(0).integers(0, 255, 1 << 20, dtype=np.uint8).tobytes()
    path = workdir / "plain.bin"
    t0 = time.perf_counter()
    with open(path, "wb") as f:
        for _ in range(max(1, n_bytes >> 20)):
            f.write(block)
    return max(1, n_bytes >> 20) * len(block) / (time.perf_counter() - t0) / 1e6


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    p.add_argument("--L", type=int, default=64)
    p.add_argument("--per-rank", type=int, default=4, help="temperatures (chains) per rank")
    p.add_argument("--measure", type=int, default=2000)
    p.add_argument("--exchange-every", type=int, nargs="+", default=[1, 10], help="sweeps between exchanges")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=ROOT / "results" if (ROOT / "results").is_dir() else None) as d:
        rows = [
            run_case(n, args.L, args.per_rank, args.measure, e, Path(d))
            for e in args.exchange_every
            for n in args.ranks
        ]
        plain = sequential_rate(max(r["bytes"] for r in rows), Path(d))
    base = {r["every"]: r["per_rank"] for r in rows if r["ranks"] == args.ranks[0]}
    print(
        f"SW Ising L={args.L} at T in [2.0, 2.6], {args.per_rank} chains per rank, "
        f"snapshots (spin, improved) every 10 sweeps; plain sequential write: {plain:.0f} MB/s"
    )
    print(
        "exchange every | ranks | chains | wall s | spin updates/s per rank | efficiency | exchange share | "
        "write share | wait share | HDF5 MB/s | HDF5 / plain"
    )
    for r in rows:
        print(
            f"{r['every']} | {r['ranks']} | {r['chains']} | {r['wall']:.1f} | {r['per_rank']:.3g} | "
            f"{r['per_rank'] / base[r['every']]:.2f} | "
            f"{100 * r['exchange']:.1f} % | {100 * r['write']:.1f} % | {100 * r['wait']:.1f} % | "
            f"{r['hdf5_rate']:.0f} | "
            f"{r['hdf5_rate'] / plain:.2f}"
        )


if __name__ == "__main__":
    main()
