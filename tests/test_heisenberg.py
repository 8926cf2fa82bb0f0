"""The classical Heisenberg model (src/models/heisenberg.py): its exact 2 x 2 reference against an
independent quadrature and against every update on both backends; the three updates against each
other at L = 16; improved = plain correlation; and a run through config, MPI driver, checkpoint and
file."""

import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import N_SIGMA, assert_agrees, assert_same_data, run_chain, summary
from scipy.special import spherical_in

from src.models import make_model
from src.models.heisenberg import ring_averages
from src.stats.jackknife import jackknife
from src.storage.reader import RunFile

ROOT = Path(__file__).resolve().parents[1]
UPDATES = ("sw", "wolff", "metropolis")


def quadrature_ring(K: float, n_z: int = 32, n_phi: int = 64) -> dict:
    """The ring of four O(3) spins with weight exp(K sum_ring s.t) by the transfer operator on a
    product grid (Gauss-Legendre in cos theta, uniform in phi), independent of the Bessel series:
    Z / (4 pi)^4, and the correlations of neighbours and of opposite sites."""
    z, wz = np.polynomial.legendre.leggauss(n_z)
    phi = 2 * np.pi * np.arange(n_phi) / n_phi
    zz, pp = np.meshgrid(z, phi, indexing="ij")
    rho = np.sqrt(1 - zz**2)
    s = np.stack([rho * np.cos(pp), rho * np.sin(pp), zz], axis=-1).reshape(-1, 3)
    w = (wz[:, None] * np.full(n_phi, 2 * np.pi / n_phi)).reshape(-1) / (4 * np.pi)
    root = np.sqrt(w)
    B = root[:, None] * np.exp(K * s @ s.T) * root[None, :]  # symmetric, sum of w = 1
    B2 = B @ B
    Z = np.trace(B2 @ B2)
    c1 = sum(np.trace((s[:, a, None] * B) @ (s[:, a, None] * (B2 @ B))) for a in range(3)) / Z
    c2 = sum(np.trace((s[:, a, None] * B2) @ (s[:, a, None] * B2)) for a in range(3)) / Z
    return {"Z": Z, "c1": c1, "c2": c2}


def test_bessel_series_of_the_ring():
    # two spins joined by two links (weight exp(2K s.t)): the series against the closed form
    for K in (0.3, 1.0, 4.0):
        l = np.arange(60)
        series = ((2 * l + 1) * spherical_in(l, K) ** 2).sum()
        assert series == pytest.approx(np.sinh(2 * K) / (2 * K), rel=1e-12)
    # four spins: the series (ring_averages) against the quadrature of the transfer operator
    for beta in (0.25, 1.0, 2.0):
        K = 2 * beta
        exact, grid = ring_averages(beta), quadrature_ring(K)
        l = np.arange(81)
        assert ((2 * l + 1) * spherical_in(l, K) ** 4).sum() == pytest.approx(grid["Z"], rel=1e-9)
        assert exact["c1"] == pytest.approx(grid["c1"], rel=1e-9)
        assert exact["c2"] == pytest.approx(grid["c2"], rel=1e-9)
        # c1 from d ln Z / dK and from the operator insertion agree; the energy is -2J <sum_ring s.t> / 4
        assert exact["energy"] == pytest.approx(-2 * exact["c1"], rel=1e-12)
    # the limits: free spins at high T, aligned at low T
    assert ring_averages(1e-4)["m2"] == pytest.approx(0.25, abs=1e-3)
    assert ring_averages(50.0)["m2"] == pytest.approx(1.0, abs=0.02)


CASES = [(update, backend) for update in UPDATES for backend in ("cpu", "array")]


@pytest.mark.parametrize("update,backend", CASES)
def test_2x2_torus_is_exact_for_every_update(update, backend):
    model = make_model("heisenberg", 2)
    temperatures = [0.5, 1.0, 2.0]
    series = run_chain(model, update, temperatures, seed=11, thermalize=300, measure=20000, backend=backend)
    s = summary(series, model, temperatures)
    for name in ("energy", "specific_heat", "m2"):
        value, error = s[name]
        exact = [ring_averages(1 / T)[name] for T in temperatures]
        assert_agrees(name, value, error, exact, f"{update} {backend}")
    # the run resolves a 20 % change of temperature (so the check above can fail)
    value, error = s["energy"]
    warmer = [ring_averages(1 / (1.2 * T))["energy"] for T in temperatures]
    assert np.all(np.abs(value - warmer) > N_SIGMA * error)


@pytest.mark.slow
def test_updates_agree_at_L16():
    """Swendsen-Wang, Wolff and Metropolis: e, C and m^2 at three temperatures, pairwise within 4 sigma."""
    model = make_model("heisenberg", 16)
    temperatures = [0.7, 1.0, 1.5]
    runs = {"sw": 1, "wolff": 1, "metropolis": 5}  # sweeps between measurements
    results = {
        update: summary(
            run_chain(model, update, temperatures, seed=3, thermalize=1000, measure=6000, every=every),
            model,
            temperatures,
        )
        for update, every in runs.items()
    }
    for a, b in itertools.combinations(runs, 2):
        for name in ("energy", "specific_heat", "m2"):
            (va, ea), (vb, eb) = results[a][name], results[b][name]
            dev = np.abs(va - vb) / np.hypot(ea, eb)
            assert np.all(dev < N_SIGMA), f"{name}: {a} {va} +- {ea} vs {b} {vb} +- {eb}"
    # the errors resolve the physics: the energy changes by far more than them between temperatures
    e, err = results["sw"]["energy"]
    assert np.all(np.diff(e) > N_SIGMA * err[1:])


@pytest.mark.parametrize("r", [1, 4])
def test_improved_mean_equals_correlation_mean(r):
    model = make_model("heisenberg", 8)
    temperatures = [0.6, 1.0, 2.0]
    _, reps = run_chain(
        model,
        "sw",
        temperatures,
        seed=5,
        thermalize=300,
        measure=3000,
        snapshot=(["correlation", "improved"], r),
    )
    diff, err = jackknife(lambda a, b: a - b, reps["improved"], reps["correlation"])
    assert_agrees("improved - correlation", diff, err, 0.0, f"r={r}")
    # and the correlation itself is resolved (it falls with T): the check compares something
    mean, e = jackknife(lambda a: a, reps["correlation"])
    assert np.all(-np.diff(mean) > N_SIGMA * e[1:])


MPI_ENV = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
RUN = [
    "--quiet",
    *("--set", "model.name=heisenberg", "--set", "model.L=2", "--set", "temperatures=[0.5, 1.0, 2.0]"),
    *("--set", "replicas=2", "--set", "sweeps.thermalize=200", "--set", "sweeps.measure=30000"),
    *("--set", "snapshots.every=1000", "--set", "seed=4"),
]


def _sample(*args, ranks: int = 1, **kwargs):
    cmd = [sys.executable, "-m", "src.sample", *RUN, *args]
    if ranks > 1:
        cmd = ["mpirun", "--oversubscribe", "-n", str(ranks), *cmd]
    return subprocess.run(cmd, cwd=ROOT, env=MPI_ENV, capture_output=True, text=True, timeout=600, **kwargs)


def test_run_file_is_exact_and_resumes_on_other_ranks(tmp_path):
    """Through config, driver with replica exchange, snapshots of every representation and the file:
    the summary against the exact 2 x 2 torus; a run signalled on two ranks and resumed on one gives
    the file of an uninterrupted run."""
    full = tmp_path / "full.h5"
    res = _sample("--output", str(full))
    assert res.returncode == 0, res.stderr[-2000:]
    with RunFile(full) as run:
        assert run.model == make_model("heisenberg", 2)
        assert run.snapshots("spin").shape == (3, 60, 3, 2, 2)  # (T, replicas x snapshots, components, y, x)
        assert set(run.representations) == {"spin", "correlation", "fk_bonds", "improved"}
        for name in ("energy", "specific_heat", "m2"):
            value, error = run.summary[name]
            exact = [ring_averages(1 / T)[name] for T in run.temperatures]
            assert_agrees(name, value, error, exact, "run file")
    if shutil.which("mpirun") is None:
        pytest.skip("no mpirun")
    out = tmp_path / "cut.h5"
    cmd = [
        "mpirun",
        "--oversubscribe",
        "-n",
        "2",
        sys.executable,
        "-m",
        "src.sample",
        *RUN,
        "--output",
        str(out),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=MPI_ENV, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not Path(str(out) + ".partial").exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGUSR1)  # mpirun forwards it to the ranks
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, err[-2000:]
    res = _sample("--output", str(out), "--resume")
    assert res.returncode == 0, res.stderr[-2000:]
    assert_same_data(full, out)
