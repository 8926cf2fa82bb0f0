"""Kills at random moments: a sampling run on 1 and on 2 MPI ranks is killed (SIGKILL or SIGTERM to
its whole process group, as a node failure or a Slurm time limit does) again and again, at random
times from its start-up to its last checkpoint, final rename included, and continued each time
with --resume (or --overwrite where it died before its first checkpoint). The finished file holds
exactly the data of an uninterrupted run."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import assert_same_data

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


def run_with_kills(out: Path, ranks: int, kills: int, seed: int) -> dict:
    """Launch, kill after a random delay, relaunch ... `kills` times, then let the run finish.
    Returns the counts of kills by signal."""
    rng = random.Random(seed)
    counts = {"SIGKILL": 0, "SIGTERM": 0}
    start_up = 1.0 if ranks == 1 else 2.0  # seconds before sampling starts (imports, MPI)
    while True:
        if Path(f"{out}.ckpt").exists():
            flags = ["--resume"]
        elif Path(f"{out}.partial").exists():
            flags = ["--overwrite"]  # died before its first checkpoint: nothing to continue
        else:
            flags = []
        proc = subprocess.Popen(
            command(out, ranks, *flags),
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
    counts = run_with_kills(out, ranks, kills, seed=ranks)
    assert sum(counts.values()) == kills and min(counts.values()) > 0, counts
    assert_same_data(out, whole)
    assert not Path(f"{out}.partial").exists() and not Path(f"{out}.ckpt").exists()
