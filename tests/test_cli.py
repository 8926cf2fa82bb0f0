"""The command line: bad input gives one line naming the problem, exit status 2, and leaves an
existing output file untouched; a good run writes a file the reader understands."""

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import terminate_once_writing

from src.storage.reader import RunFile, RunFileError

ROOT = Path(__file__).resolve().parents[1]
TINY = [
    "--set",
    "model.L=8",
    "--set",
    "sweeps.thermalize=20",
    "--set",
    "sweeps.measure=64",
    "--set",
    "snapshots.every=8",
    "--quiet",
]


def sample(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "src.sample", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run.h5"
    res = sample(*TINY, "--output", str(out))
    assert res.returncode == 0, res.stderr
    return out


def test_default_run_writes_a_readable_file(good_run):
    with RunFile(good_run) as run:
        assert run.model.name == "ising" and run.model.L == 8
        assert np.allclose(run.temperatures, [2.0, 2.269185, 2.6])
        assert run.observable("energy").shape == (3, 64)
        assert set(run.representations) == {"spin", "correlation", "fk_bonds", "improved"}
        assert run.snapshots("improved").shape == (3, 8, 2, 8, 8)
        assert run.snapshots("spin", 0).shape == (8, 8, 8)
        assert run.distance == 4
        assert run.attrs["complete"] and run.attrs["git_commit"] and run.config["seed"] == 1
        e, err = run.summary["energy"]
        assert e.shape == (3,) and np.all(err > 0) and np.all(np.diff(e) > 0)
        with pytest.raises(RunFileError, match="no representation 'nope'"):
            run.snapshots("nope")
        with pytest.raises(RunFileError, match="expected potts"):
            run.require_model("potts")


def test_snapshot_array_reads_numpy_views(good_run):
    with RunFile(good_run) as run:
        whole = run.snapshots("improved")
        a = run.snapshot_array("improved")
        assert a.shape == whole.shape and a.dtype == whole.dtype and len(a) == 3
        assert a.nbytes == whole.nbytes and 1 <= a.stored_together <= 8
        for index in ((1, slice(2, 5)), ([0, 2], slice(3, None)), 2):
            part = a[index]
            assert type(part) is np.ndarray and np.array_equal(part, whole[index])
        with pytest.raises(RunFileError, match="no representation 'nope'"):
            run.snapshot_array("nope")


def test_same_seed_same_file_contents(good_run, tmp_path):
    out = tmp_path / "again.h5"
    assert sample(*TINY, "--output", str(out)).returncode == 0
    with RunFile(good_run) as a, RunFile(out) as b:
        for name in a.observable_names:
            assert np.array_equal(a.observable(name), b.observable(name))
        assert np.array_equal(a.snapshots("improved"), b.snapshots("improved"))


BAD = [
    (["--set", "model.name=isng"], "model.name"),
    (["--set", "model.name=potts"], "model.q"),
    (["--set", "update=metropolis", "--set", "model.L=7"], "model.L"),
    (["--set", "temperatures=[-1.0, 2.0]"], "temperatures"),
    (["--set", "sweeps.mesure=10"], "sweeps.mesure"),
    (["--set", "snapshots.representations=[spin, loops]"], "snapshots.representations"),
    (["--set", "snapshots.representations=[spin, spin]"], "'snapshots.representations'"),
    (["--set", "snapshots.distance=99"], "snapshots.distance"),
    (["/nonexistent/config.yaml"], "config file"),
    (["--set", "model.name=quantum_xy", "--set", "model.Jz=0.5"], "model.Jz"),
    (["--set", "model.name=quantum_xxz"], "model.Jz"),
    (["--set", "model.name=quantum_xxz", "--set", "model.Jz=1.5"], "model.Jz"),
    (["--set", "model.Jz=0.5"], "model.Jz"),
    (["--set", "model.name=quantum_xy", "--set", "update=sw"], "update"),
    (["--set", "model.name=quantum_xy"], "snapshots.representations"),
    (
        [
            "--set",
            "model.name=quantum_xy",
            "--set",
            "snapshots.representations=[spin]",
            "--set",
            "backend=gpu",
        ],
        "backend",
    ),
]


@pytest.mark.parametrize("args,key", BAD)
def test_bad_config_is_one_line_and_keeps_output(good_run, args, key):
    before = digest(good_run)
    res = sample(*TINY, "--output", str(good_run), "--overwrite", *args)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and key in lines[0], res.stderr
    assert digest(good_run) == before


def test_existing_output_needs_overwrite(good_run):
    before = digest(good_run)
    res = sample(*TINY, "--output", str(good_run))
    assert res.returncode == 2 and "--overwrite" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert digest(good_run) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_output_directory(tmp_path):
    d = tmp_path / "ro"
    d.mkdir(mode=0o500)
    res = sample(*TINY, "--output", str(d / "x.h5"))
    assert res.returncode == 2 and "not writable" in res.stderr


def test_unwritable_output_path(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    res = sample(*TINY, "--output", str(blocker / "x.h5"))
    assert res.returncode == 2 and str(blocker) in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_interrupted_run_keeps_existing_output(good_run, tmp_path):
    """A run stopped by SIGTERM (what Slurm sends) checkpoints and exits with status 3; the old
    file it was going to replace stays intact until a resumed run completes."""
    before = digest(good_run)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "src.sample",
            *TINY,
            "--set",
            "sweeps.measure=2000000",
            "--output",
            str(good_run),
            "--overwrite",
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    err = terminate_once_writing(proc, good_run)
    assert proc.returncode == 3 and "--resume" in err
    assert digest(good_run) == before
    assert Path(str(good_run) + ".partial").exists() and Path(str(good_run) + ".ckpt").exists()


def test_foreign_file_is_refused(tmp_path):
    import h5py

    p = tmp_path / "other.h5"
    with h5py.File(p, "w") as f:
        f["x"] = 1
    with pytest.raises(RunFileError, match="not a spinml-run file"):
        RunFile(p)


def test_gpu_backend_without_cupy_is_one_line(good_run):
    try:
        import cupy  # noqa: F401

        pytest.skip("CuPy is installed here")
    except ImportError:
        pass
    before = digest(good_run)
    res = sample(*TINY, "--backend", "gpu", "--output", str(good_run), "--overwrite")
    assert res.returncode == 2 and "backend gpu needs CuPy" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and digest(good_run) == before


def test_progress_lines_of_batch_logs_carry_a_timestamp_and_level(capsys):
    """Off a terminal, progress is a log line with time, level, count, rate and ETA."""
    from src.progress import LogLines

    with LogLines(10, "work", "step") as bar:
        bar.update(10)
    line = capsys.readouterr().err.strip()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO work: 10/10 steps \(100 %\), \S+ step/s, ETA 0 s", line
    )


@pytest.mark.parametrize("nu", ["0", "-1", "nan", "inf"])
def test_a_nu_that_is_not_positive_is_refused(nu, capsys):
    from src.analyze import main as analyze

    with pytest.raises(SystemExit) as exit_status:
        analyze(["classify", "a.pt", "b.h5", "--nu", nu])
    assert exit_status.value.code == 2
    command = "python -m src.analyze classify"
    expected = (
        f"error: {command}: argument --nu: must be a positive number, got {nu} (see {command} --help)\n"
    )
    assert capsys.readouterr().err == expected
