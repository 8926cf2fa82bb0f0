"""Shared pieces of the validation tests: run a chain, compare with 4 sigma of its own error bar."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

import h5py
import numpy as np

from src.exact.quantum import XXZSpectrum
from src.sampling.quantum.lattice import square
from src.sampling.sampler import Sampler
from src.stats.derived import summarize
from src.storage.schema import GENERATED_UPDATE

N_SIGMA = 4.0


def run_chain(
    model,
    update: str,
    temperatures,
    *,
    seed: int,
    thermalize: int,
    measure: int,
    every: int = 1,
    backend: str = "cpu",
    snapshot=None,
    **options,
):
    """Observable series (n_T, measure); with snapshot=(names, r), also the mean of every
    representation over the run, per temperature."""
    s = Sampler(model, update, temperatures, seed, backend=backend, **options)
    s.sweep(thermalize, tune=True)
    series, reps = None, {}
    for i in range(measure):
        s.sweep(every)
        obs = s.measure()
        if series is None:
            series = {k: np.empty((len(temperatures), measure)) for k in obs}
        for k, v in obs.items():
            series[k][:, i] = v
        if snapshot is not None:
            for name, value in s.snapshot(*snapshot).items():
                reps.setdefault(name, np.empty((len(temperatures), measure)))[:, i] = value.reshape(
                    len(temperatures), -1
                ).mean(axis=1)
    return (series, reps) if snapshot is not None else series


def summary(series, model, temperatures):
    return summarize(series, 1.0 / np.asarray(temperatures), model.n_sites, J=model.J, n_bins=32)


def assert_agrees(name: str, value, error, exact, context: str = ""):
    value, error, exact = (np.atleast_1d(np.asarray(a, dtype=float)) for a in (value, error, exact))
    dev = np.abs(value - exact) / error
    assert np.all(error > 0), f"{context} {name}: zero error bar"
    assert np.all(dev < N_SIGMA), (
        f"{context} {name}: MC {value} +- {error} vs exact {exact}: {dev.max():.1f} sigma"
    )


@cache
def xxz_spectrum_4x4(Jz: float) -> XXZSpectrum:
    """The 4 x 4 spectrum, built once per test session (tens of seconds each)."""
    return XXZSpectrum(square(4), Jz, 1.0)


def sample_runs(folder: Path, settings: dict) -> dict:
    """Run files made by `python -m src.sample --set ...`, concurrently: name -> path (a str)."""
    root = Path(__file__).resolve().parents[1]
    jobs = {}
    for name, sets in settings.items():
        sets = [*sets, f"output={folder / str(name)}.h5"]
        args = [sys.executable, "-m", "src.sample", "--quiet", *(a for s in sets for a in ("--set", s))]
        jobs[name] = subprocess.Popen(
            args, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    for job in jobs.values():
        out, _ = job.communicate(timeout=300)
        assert job.returncode == 0, out
    return {name: str(folder / f"{name}.h5") for name in settings}


def terminate_once_writing(proc: subprocess.Popen, output) -> str:
    """SIGTERM to a src.sample process once it writes <output>.partial (what Slurm sends at a time
    limit); its stderr once it has exited."""
    partial = Path(f"{output}.partial")
    for _ in range(600):
        if partial.exists():
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    return proc.communicate(timeout=120)[1]


def datasets(path) -> dict:
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None
        )
    return out


def assert_same_data(a, b):
    da, db = datasets(a), datasets(b)
    assert sorted(da) == sorted(db)
    differing = [k for k in da if not np.array_equal(da[k], db[k], equal_nan=True)]
    assert not differing, f"{a} and {b} differ in {differing}"


def stand_in_for_generated(source, target, step: int = 1) -> None:
    """A Monte Carlo file copied to `target` and labelled as generated (update superres, `step`
    doublings, no blocking), for tests where a known flow stands in for a network's."""
    shutil.copy(source, target)
    with h5py.File(target, "r+") as f:
        f.attrs.update({"update": GENERATED_UPDATE, "step": step, "block": False})
