"""Kills at random moments: a sampling run on 1 and on 2 MPI ranks is killed (SIGKILL or SIGTERM to
its whole process group, as a node failure or a Slurm time limit does) again and again, at random
times from its start-up to its last checkpoint, final rename included, and continued each time
with --resume (or --overwrite where it died before its first checkpoint). The finished file holds
exactly the data of an uninterrupted run."""

from __future__ import annotations

import csv
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import assert_same_data
from training_helpers import assert_same_parameters

from src.storage.networks import read_model

ROOT = Path(__file__).resolve().parents[1]
# about 20 s of sampling per rank with a checkpoint every 0.2 s: each life of the run does a little of it
SETTINGS = ["model.L=16", "temperatures=[2.0, 2.3, 2.6]", "sweeps.thermalize=100"]
SETTINGS += ["snapshots.every=500", "checkpoint.every_minutes=0.003"]


def command(out: Path, ranks: int, *flags: str) -> list[str]:
    tool = [sys.executable, "-m", "src.sample", "--quiet", "--output", str(out), *flags]
    # two ranks share the work: twice the sweeps keep every kill inside the run
    tool += [a for s in SETTINGS for a in ("--set", s)] + ["--set", f"sweeps.measure={200000 * ranks}"]
    if ranks == 1:
        return tool
    return ["mpirun", "--oversubscribe", "-n", str(ranks), *tool]


def environment() -> dict:
    return {
        **os.environ,
        "OMPI_ALLOW_RUN_AS_ROOT": "1",
        "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
        "OMP_NUM_THREADS": "1",
    }


def sampling_flags(out: Path) -> list[str]:
    if Path(f"{out}.ckpt").exists():
        return ["--resume"]
    if Path(f"{out}.partial").exists():
        return ["--overwrite"]  # died before its first checkpoint: nothing to continue
    return []


def run_with_kills(launch, kills: int, seed: int, start_up: float) -> dict:
    """Start `launch()` (the command line for the state the last life left), kill it after a random
    delay, start it again ... `kills` times, then let it finish. start_up: the seconds before the
    work starts (imports, MPI). Returns the counts of kills by signal."""
    rng = random.Random(seed)
    counts = {"SIGKILL": 0, "SIGTERM": 0}
    while True:
        proc = subprocess.Popen(
            launch(),
            cwd=ROOT,
            env=environment(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        if sum(counts.values()) < kills:
            try:
                proc.wait(timeout=rng.uniform(0.5 * start_up, start_up + 0.7))
            except subprocess.TimeoutExpired:
                sig = rng.choice([signal.SIGKILL, signal.SIGTERM])
                os.killpg(proc.pid, sig)
                proc.communicate(timeout=120)
                counts[sig.name] += 1
                continue
        err = proc.communicate(timeout=600)[1]
        assert proc.returncode == 0, err
        return counts


@pytest.mark.parametrize("ranks, kills", [(1, 30), (2, 20)])
def test_random_kills_lose_nothing(tmp_path, ranks, kills):
    if ranks > 1 and shutil.which("mpirun") is None:
        pytest.skip("no mpirun")
    whole = tmp_path / "whole.h5"
    done = subprocess.run(command(whole, ranks), cwd=ROOT, env=environment(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "killed.h5"
    start_up = 1.0 if ranks == 1 else 2.0
    counts = run_with_kills(lambda: command(out, ranks, *sampling_flags(out)), kills, ranks, start_up)
    assert sum(counts.values()) == kills and min(counts.values()) > 0, counts
    assert_same_data(out, whole)
    assert not Path(f"{out}.partial").exists() and not Path(f"{out}.ckpt").exists()


def test_random_kills_of_training_lose_nothing(tmp_path):
    """A classifier's training killed 12 times at random moments (SIGKILL loses the epoch under way,
    SIGTERM checkpoints at the next step) and continued with --resume each time: its networks and
    its metrics (but for the wall times) are bit for bit those of an uninterrupted run."""
    data = tmp_path / "ising.h5"
    sets = ["model.L=8", "temperatures=[1.5, 3.5]", "sweeps.measure=8000", "snapshots.every=4"]
    sample = [sys.executable, "-m", "src.sample", "--quiet", "--output", str(data)]
    sample += [a for s in sets for a in ("--set", s)]
    subprocess.run(sample, cwd=ROOT, env=environment(), check=True, capture_output=True)
    config = {
        "data": {"files": [str(data)], "representation": "spin", "workers": 0},
        "labels": {"windows": [{"max": 2.0, "class": 0}, {"min": 3.0, "class": 1}]},
        "network": {"kind": "cnn", "channels": [8, 8]},
        "training": {"epochs": 40, "batch_size": 16, "seed": 1, "device": "cpu"},
    }
    outputs = {}
    for name in ("whole", "killed"):
        outputs[name] = tmp_path / name
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump({**config, "output": str(outputs[name])}))
    train = [sys.executable, "-m", "src.train", "--quiet"]
    done = subprocess.run(
        [*train, str(tmp_path / "whole.yaml")], cwd=ROOT, env=environment(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    counts = run_with_kills(
        lambda: [*train, str(tmp_path / "killed.yaml"), "--resume"], 12, seed=3, start_up=3.0
    )
    assert sum(counts.values()) == 12 and min(counts.values()) > 0, counts
    for model in ("best.pt", "last.pt"):
        killed, _ = read_model(outputs["killed"] / model)
        whole, _ = read_model(outputs["whole"] / model)
        assert_same_parameters(killed, whole)
    assert metrics_without_times(outputs["killed"]) == metrics_without_times(outputs["whole"])


def metrics_without_times(folder: Path) -> list:
    rows = list(csv.DictReader(open(folder / "metrics.csv")))
    return [{k: v for k, v in row.items() if "second" not in k} for row in rows]
