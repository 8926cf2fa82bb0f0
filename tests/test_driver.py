"""The MPI driver: identical files whatever the number of ranks, checkpoints and exact resume,
refusal of damaged or foreign checkpoints, replica exchange that leaves the physics exact."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from helpers import assert_agrees, assert_same_data

from src.exact import ising_torus
from src.storage.reader import RunFile

ROOT = Path(__file__).resolve().parents[1]
MPI_ENV = {
    **os.environ,
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
}
SMALL = [
    "--quiet",
    "--set",
    "model.L=8",
    "--set",
    "temperatures=[2.0, 2.2, 2.4, 2.6]",
    "--set",
    "replicas=2",
    "--set",
    "sweeps.thermalize=50",
    "--set",
    "sweeps.measure=1500",
    "--set",
    "snapshots.every=100",
]
needs_mpirun = pytest.mark.skipif(shutil.which("mpirun") is None, reason="no mpirun")


def settings(**values) -> list[str]:
    """--set arguments for config keys given with '__' for '.' (model__L=8 -> --set model.L=8)."""
    return [a for k, v in values.items() for a in ("--set", f"{k.replace('__', '.')}={v}")]


def sample(*args, ranks: int = 1, check=True, **kwargs):
    cmd = [sys.executable, "-m", "src.sample", *args]
    if ranks > 1:
        cmd = ["mpirun", "-n", str(ranks), *cmd]
    res = subprocess.run(cmd, cwd=ROOT, env=MPI_ENV, capture_output=True, text=True, timeout=600, **kwargs)
    if check:
        assert res.returncode == 0, res.stderr[-3000:]
    return res


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "ref.h5"
    sample(*SMALL, "--output", str(out))
    return out


@needs_mpirun
@pytest.mark.parametrize("ranks", [2, 4])
def test_same_file_for_any_number_of_ranks(reference, tmp_path, ranks):
    out = tmp_path / f"n{ranks}.h5"
    sample(*SMALL, "--output", str(out), ranks=ranks)
    assert_same_data(reference, out)
    with RunFile(out) as run:
        assert run.attrs["n_ranks"] == ranks


def test_file_records_replicas_and_exchange(reference):
    with RunFile(reference) as run:
        assert run.observable("energy").shape == (4, 2 * 1500)
        assert run.snapshots("spin").shape == (4, 2 * 15, 8, 8)
        assert run.attrs["n_replicas"] == 2 and run.attrs["measurements_per_replica"] == 1500
        chain_at = run.f["exchange/chain_at_temperature"][:]
        # at every measurement the chains of a set occupy the temperatures once each
        for j in range(2):
            block = chain_at[:, j * 1500 : (j + 1) * 1500]
            assert np.all(np.sort(block, axis=0) == np.arange(4)[:, None])
        assert np.all(run.f["exchange/acceptance"][:] > 0.05)
        assert run.f["exchange/round_trips"][:].sum() > 0


def _wait_for(path: Path, timeout=120):
    t0 = time.time()
    while not path.exists():
        assert time.time() - t0 < timeout, f"{path} never appeared"
        time.sleep(0.1)


LONG = ["--set", "sweeps.measure=60000", "--set", "snapshots.every=2000"]


@pytest.mark.parametrize("ranks,sig", [(1, signal.SIGTERM), (2, signal.SIGUSR1)])
def test_signal_checkpoints_and_resume_is_exact(tmp_path, ranks, sig):
    if ranks > 1 and shutil.which("mpirun") is None:
        pytest.skip("no mpirun")
    full = tmp_path / "full.h5"
    sample(*SMALL, *LONG, "--output", str(full))
    out = tmp_path / "cut.h5"
    cmd = [sys.executable, "-m", "src.sample", *SMALL, *LONG, "--output", str(out)]
    if ranks > 1:
        cmd = ["mpirun", "-n", str(ranks), *cmd]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=MPI_ENV, stderr=subprocess.PIPE, text=True)
    _wait_for(Path(str(out) + ".partial"))
    time.sleep(0.5)
    proc.send_signal(sig)  # mpirun forwards SIGUSR1 to the ranks
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, err[-2000:]
    assert not out.exists() and Path(str(out) + ".ckpt").exists()
    sample(*SMALL, *LONG, "--output", str(out), "--resume")  # resumed on one rank: chains are per chain
    assert_same_data(full, out)
    assert not Path(str(out) + ".ckpt").exists()
    res = sample(*SMALL, *LONG, "--output", str(out), "--resume")
    assert "complete already" in res.stdout


def test_sigkill_after_periodic_checkpoint_resumes_exactly(tmp_path):
    args = [*SMALL, *LONG, "--set", "checkpoint.every_minutes=0.01"]
    full = tmp_path / "full.h5"
    sample(*args, "--output", str(full))
    out = tmp_path / "killed.h5"
    proc = subprocess.Popen(
        [sys.executable, "-m", "src.sample", *args, "--output", str(out)], cwd=ROOT, env=MPI_ENV
    )
    _wait_for(Path(str(out) + ".ckpt"))
    time.sleep(1.0)
    proc.kill()
    proc.wait(timeout=60)
    sample(*args, "--output", str(out), "--resume")
    assert_same_data(full, out)


@pytest.fixture
def interrupted(tmp_path):
    """A run stopped by SIGTERM, with its checkpoint and partial file."""
    out = tmp_path / "run.h5"
    proc = subprocess.Popen(
        [sys.executable, "-m", "src.sample", *SMALL, *LONG, "--output", str(out)],
        cwd=ROOT,
        env=MPI_ENV,
        stderr=subprocess.PIPE,
    )
    _wait_for(Path(str(out) + ".partial"))
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    assert proc.returncode == 3
    return out


def _refused(out, *extra, match):
    partial = Path(str(out) + ".partial")
    before = partial.read_bytes()
    res = sample(*SMALL, *LONG, "--output", str(out), "--resume", *extra, check=False)
    assert res.returncode == 2 and match in res.stderr and len(res.stderr.strip().splitlines()) == 1, (
        res.stderr
    )
    assert partial.read_bytes() == before  # the partial output is never touched by a refused resume


def test_checkpoint_of_another_config_is_refused(interrupted):
    _refused(interrupted, "--set", "seed=2", match="different config")


def test_checkpoint_of_another_model_is_refused(interrupted):
    _refused(interrupted, "--set", "model.name=potts", "--set", "model.q=3", match="holds the ising model")


def test_damaged_checkpoint_is_refused(interrupted):
    ckpt = Path(str(interrupted) + ".ckpt")
    with h5py.File(ckpt, "r+") as f:
        f["chain/state"][0, 0] ^= 1  # one flipped spin
    _refused(interrupted, match=".ckpt: damaged (its SHA-256 does not match")


QUANTUM = [
    "--quiet",
    *settings(
        model__name="quantum_xxz",
        model__Jz=0.5,
        model__L=4,
        temperatures="[0.4, 0.6, 0.9]",
        replicas=2,
        sweeps__thermalize=50,
        sweeps__measure=20000,
        snapshots__every=500,
        snapshots__representations="[spin, correlation, improved]",
    ),
]


@needs_mpirun
def test_quantum_run_is_rank_independent_and_resumes_exactly(tmp_path):
    """Loop chains (kink lists of different lengths on different ranks) through the same checks."""
    full, two = tmp_path / "full.h5", tmp_path / "two.h5"
    sample(*QUANTUM, "--output", str(full))
    sample(*QUANTUM, "--output", str(two), ranks=2)
    assert_same_data(full, two)
    out = tmp_path / "cut.h5"
    cmd = ["mpirun", "-n", "2", sys.executable, "-m", "src.sample", *QUANTUM, "--output", str(out)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=MPI_ENV, stderr=subprocess.PIPE, text=True)
    _wait_for(Path(str(out) + ".partial"))
    time.sleep(0.5)
    proc.send_signal(signal.SIGUSR1)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, err[-2000:]
    sample(*QUANTUM, "--output", str(out), "--resume")
    assert_same_data(full, out)


@pytest.mark.slow
def test_replica_exchange_keeps_exact_energies(tmp_path):
    """Metropolis with replica exchange on the 8x8 Ising torus: energies and specific heats at
    every temperature of the ladder agree with the exact finite-torus values."""
    out = tmp_path / "pt.h5"
    temps = [1.8, 2.1, 2.4, 2.7, 3.0]
    sample(
        "--quiet",
        *settings(
            model__L=8,
            temperatures=temps,
            update="metropolis",
            sweeps__thermalize=2000,
            sweeps__measure=40000,
            snapshots__every=0,
            seed=4,
        ),
        "--output",
        str(out),
    )
    with RunFile(out) as run:
        s = run.summary
        exact = [ising_torus(8, 1.0 / T) for T in temps]
        assert_agrees("energy", *s["energy"], [x.energy for x in exact], "exchange")
        assert_agrees("specific_heat", *s["specific_heat"], [x.specific_heat for x in exact], "exchange")
        assert np.all(run.f["exchange/acceptance"][:] > 0.2)


def test_ladder_tuning_moves_interior_temperatures_toward_flat_acceptance(tmp_path):
    """A deliberately bad ladder (crowded at the cold end): tuning while thermalising keeps the
    end points, moves the interior and evens out the acceptance of the pairs."""
    temps = [2.0, 2.02, 2.04, 2.06, 3.0]
    common = [
        "--quiet",
        *settings(
            model__L=8, temperatures=temps, sweeps__thermalize=3000, sweeps__measure=3000, snapshots__every=0
        ),
    ]
    spread = {}
    for tune in ("false", "true"):
        out = tmp_path / f"tune_{tune}.h5"
        sample(*common, "--set", f"replica_exchange.tune_ladder={tune}", "--output", str(out))
        with RunFile(out) as run:
            acceptance = run.f["exchange/acceptance"][:]
            spread[tune] = acceptance.max() - acceptance.min()
            if tune == "true":
                t = run.temperatures
                assert t[0] == 2.0 and t[-1] == 3.0 and not np.allclose(t, temps)
                assert np.all(np.diff(t) > 0)
    assert spread["true"] < 0.5 * spread["false"], spread


def test_auto_backend_takes_the_gpu_only_for_large_batches(monkeypatch):
    import types

    from src.models import make_model
    from src.sampling.driver.schedule import GPU_MIN_SPINS, choose_backend

    visible = types.SimpleNamespace(
        cuda=types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: 1))
    )
    monkeypatch.setitem(sys.modules, "cupy", visible)
    ising = make_model("ising", 64)
    chains = GPU_MIN_SPINS // ising.n_sites
    assert choose_backend("auto", ising, chains) == "gpu"
    assert choose_backend("auto", ising, chains - 1) == "cpu"
    assert choose_backend("auto", make_model("quantum_xy", 256), 64) == "cpu"
    assert choose_backend("gpu", ising, 1) == "gpu" and choose_backend("cpu", ising, chains) == "cpu"
    monkeypatch.setitem(sys.modules, "cupy", None)  # no CuPy: the CPU
    assert choose_backend("auto", ising, chains) == "cpu"


def test_open_mpi_is_asked_for_romio_unless_the_user_chose(monkeypatch):
    from src.parallel.mpi import prefer_romio

    monkeypatch.delenv("OMPI_MCA_io", raising=False)
    prefer_romio()
    assert os.environ["OMPI_MCA_io"] == "^ompio"
    monkeypatch.setenv("OMPI_MCA_io", "ompio")
    prefer_romio()
    assert os.environ["OMPI_MCA_io"] == "ompio"
