"""Shared pieces of the training tests (classifiers and super-resolution): one process unless a test
launches more, and the comparison of parameters across runs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import torch

from src import signals
from src.cli import local_training
from src.learning.ml.distributed import LAUNCHERS

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_VARS = [var for launcher in LAUNCHERS for var in launcher]
# one thread per process: the test machines have few cores, and two ranks share them
ONE_THREAD = {"OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def single_process(monkeypatch):
    """In-process runs are one process, whatever launcher runs the tests (import it to use it)."""
    for var in LAUNCH_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(signals, "received", 0)


def torchrun_train(config: Path, processes: int = 2) -> subprocess.CompletedProcess:
    """python -m src.train CONFIG under torchrun with `processes` local gloo processes."""
    return subprocess.run(
        local_training([str(config), "--quiet"], processes),
        cwd=ROOT,
        env={**os.environ, **ONE_THREAD},
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_same_parameters(a: dict, b: dict, rtol=0.0):
    """Equal within rtol relative to each tensor's largest entry (0: bit for bit)."""
    assert a.keys() == b.keys()
    for k in a:
        scale = rtol * b[k].abs().max().item()
        torch.testing.assert_close(a[k], b[k], rtol=rtol, atol=scale, msg=lambda m, k=k: f"{k}: {m}")
