"""`make bench` (training): training samples per second of the phase classifiers of src.learning.ml.networks,
the fully connected network and the periodic CNN, on one and on two CPU processes (DDP over gloo),
and on one GPU where torch sees one.

    python -m bench.train [--L 32] [--snapshots 1024] [--batch-sizes 64 256] [--markdown PATH]

Every case is a real training run, `python -m src.train` under torchrun with one thread per process,
so the rate covers what a training job does per step: reading the batch from the run file, the
forward and backward pass, DDP's gradient all-reduce and the check for a checkpoint signal. The
data is an Ising run file made for the purpose in a temporary folder (L x L, Swendsen-Wang,
`improved` snapshots at two temperatures in each phase). Rate: the snapshots of an epoch's steps
(the steps and batch size the trainer reports) over the seconds the trainer records for the epoch
in metrics.csv (validation excluded), summed over all epochs but the first, which pays for start-up.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
import yaml

from bench.run import machine, write_markdown
from src.cli import local_training

ROOT = Path(__file__).resolve().parents[1]
TEMPERATURES = [1.8, 2.0, 2.6, 2.8]  # T_c = 2.269: two ordered, two disordered
WINDOWS = [{"max": 2.1, "class": 0}, {"min": 2.5, "class": 1}]
# network as in configs/train_ising.yaml and configs/train_clock6.yaml; epochs (the first is not
# timed) so that the timed ones take seconds
NETWORKS = {
    "fcn": ({"kind": "fcn", "hidden": 100}, 12),
    "cnn": ({"kind": "cnn", "channels": [16, 32]}, 3),
}
STEPS = re.compile(r"(\d+) steps of (\d+) per epoch")
ONE_THREAD = {var: "1" for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}


def make_run_file(folder: Path, L: int, snapshots: int) -> Path:
    path = folder / f"ising_L{L}.h5"
    settings = {
        "model.name": "ising",
        "model.L": L,
        "update": "sw",
        "temperatures": TEMPERATURES,
        "sweeps.thermalize": 200,
        "sweeps.measure": snapshots,
        "snapshots.every": 1,
        "snapshots.representations": "[improved]",
    }
    args = [sys.executable, "-m", "src.sample", "--quiet", "--output", str(path)]
    args += [a for k, v in settings.items() for a in ("--set", f"{k}={v}")]
    subprocess.run(args, cwd=ROOT, env={**os.environ, **ONE_THREAD}, check=True, stdout=subprocess.DEVNULL)
    return path


def train_rate(data: Path, folder: Path, network: str, batch_size: int, processes: int, device: str) -> float:
    """Training snapshots per wall second of one run."""
    net, epochs = NETWORKS[network]
    output = folder / f"{network}_{batch_size}_{processes}_{device}"
    config = {
        "data": {"files": [str(data)], "representation": "improved", "workers": 0},
        "labels": {"windows": WINDOWS},
        "network": net,
        "training": {"epochs": epochs, "batch_size": batch_size, "seed": 1, "device": device},
        "output": str(output),
    }
    path = output.with_suffix(".yaml")
    path.write_text(yaml.safe_dump(config))
    run = subprocess.run(
        local_training([str(path), "--quiet"], processes),
        cwd=ROOT,
        env={**os.environ, **ONE_THREAD},
        capture_output=True,
        text=True,
    )
    steps = STEPS.search(run.stdout)
    if run.returncode or not steps:
        raise RuntimeError(f"training run {path} failed:\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    with open(output / "metrics.csv") as f:
        seconds = [float(row["seconds"]) for row in csv.DictReader(f)][1:]
    return int(steps[1]) * int(steps[2]) * len(seconds) / sum(seconds)


def run(L: int, snapshots: int, batch_sizes: list[int]) -> list[list[str]]:
    gpu = torch.cuda.is_available()
    header = ["network", "batch", "1 CPU process", "2 CPU processes", "2 / 1"] + (["1 GPU"] if gpu else [])
    rows = [header]
    print(" | ".join(header), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_train_") as tmp:
        folder = Path(tmp)
        data = make_run_file(folder, L, snapshots)
        for network in NETWORKS:
            for batch in batch_sizes:
                one, two = (train_rate(data, folder, network, batch, n, "cpu") for n in (1, 2))
                row = [network, str(batch), f"{one:.0f}", f"{two:.0f}", f"{two / one:.2f}"]
                if gpu:
                    row.append(f"{train_rate(data, folder, network, batch, 1, 'cuda'):.0f}")
                rows.append(row)
                print(" | ".join(row), flush=True)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--L", type=int, default=32, help="lattice size of the training snapshots")
    p.add_argument("--snapshots", type=int, default=1024, help="snapshots per temperature (4 temperatures)")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 256], help="global batch sizes")
    p.add_argument("--markdown", help="also write the table as markdown to this file")
    args = p.parse_args(argv)
    # other work on the machine takes cores from the processes timed: say how much there was
    start = os.getloadavg()[0]
    print(f"machine: {machine()}; torch {torch.__version__}; load average {start:.2f}", flush=True)
    rows = run(args.L, args.snapshots, args.batch_sizes)
    end = os.getloadavg()[0]
    print(f"load average {end:.2f}")
    if args.markdown:
        about = (
            f"Training snapshots per wall second, L = {args.L}; {machine()}; torch {torch.__version__}; "
            f"load average {start:.2f} before the runs, {end:.2f} after."
        )
        write_markdown(args.markdown, rows, about)


if __name__ == "__main__":
    main()
