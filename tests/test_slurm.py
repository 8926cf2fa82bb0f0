"""The job scripts on a real single-node Slurm (tests/slurm_cluster.py; skipped where Slurm is not
installed: `bash tools/setup-slurm.sh`).

- a tiny run submitted with `sbatch --wait` writes a complete file;
- a run sent the time-limit signal checkpoints, is requeued, resumes, and ends with the same file
  as an uninterrupted run;
- the script's own logic, with a stand-in for the sampler: the signal reaches every rank through
  mpirun and through srun, exit status 3 requeues the job, the next attempt passes --resume, a job
  waiting on it with afterok still runs, and a cancelled job is not requeued;
- jobs/train.slurm trains with DDP workers under torchrun and leaves the models; sent the time-limit
  signal, the run checkpoints, is requeued and resumes, and ends with every planned epoch; a run
  that fails after the signal without writing a checkpoint is not requeued;
- jobs/pipeline.sh submits the study of src.pipeline: every run a job, each held until what it reads
  is done, and the report last (with a fake sbatch).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers import sample_runs
from slurm_cluster import slurm_cluster  # noqa: F401 - the session fixture

from src.pipeline import config as pipeline_config
from src.storage.reader import RunFile

ROOT = Path(__file__).resolve().parents[1]
JOB = ROOT / "jobs" / "sample.slurm"
TRAIN_JOB = ROOT / "jobs" / "train.slurm"
RANKS = 2
# minutes; well above the 600 s of the script's --signal=B:USR1@600, which with a shorter limit
# would come at once and requeue every attempt (the tests send that signal themselves)
TIME_LIMIT = 20
COMPARED_ATTRS = ("model", "L", "q", "J", "update", "seed", "config", "complete")


def write_config(path: Path, output: Path, **overrides) -> Path:
    config = {
        "model": {"name": "ising", "L": 8},
        "temperatures": [2.0, 2.269185, 2.6],
        "update": "sw",
        "sweeps": {"thermalize": 50, "measure": 200, "every": 1},
        "snapshots": {"every": 20, "representations": ["spin", "improved"]},
        "seed": 5,
        "output": str(output),
    }
    config.update(overrides)
    path.write_text(yaml.safe_dump(config))
    return path


def sbatch(cluster, *args, env=None, wait=False, timeout=180, cwd=ROOT) -> subprocess.CompletedProcess | str:
    """sbatch ARGS from the repository root, as a user would; the job id, or with wait=True the
    finished sbatch --wait."""
    cmd = ["sbatch", f"--time={TIME_LIMIT}", *(["--wait"] if wait else ["--parsable"]), *args]
    res = cluster.run(*cmd, cwd=cwd, env=env, check=not wait, timeout=timeout)
    return res if wait else res.stdout.strip().split(";")[0]


def submit(cluster, *args, **options) -> subprocess.CompletedProcess | str:
    """A job of RANKS tasks: jobs/sample.slurm's MPI ranks."""
    return sbatch(cluster, f"--ntasks={RANKS}", *args, **options)


def wait_for(predicate, timeout, what, cluster, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    job_log = log.read_text() if log is not None and log.exists() else "(no job log)"
    raise AssertionError(f"{what} after {timeout} s\n--- job log ---\n{job_log}\n{cluster.logs()}")


def inode(path: Path):
    """Which file `path` is: a checkpoint is written aside and renamed over the previous one."""
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return None


def datasets(path: Path) -> dict:
    """Every observable and snapshot dataset and the identifying attributes (no timing ones)."""
    with RunFile(path) as run:
        out = {f"observables/{n}": run.observable(n) for n in run.observable_names}
        out.update({f"snapshots/{n}": run.snapshot_array(n)[...] for n in run.representations})
        out["temperatures"] = run.temperatures
        attrs = run.attrs
        out.update({f"attr {k}": attrs.get(k) for k in COMPARED_ATTRS})
    return out


def test_sample_job_writes_a_complete_file(slurm_cluster, tmp_path):  # noqa: F811
    out = tmp_path / "run.h5"
    config = write_config(tmp_path / "tiny.yaml", out)
    log = tmp_path / "job.log"
    res = submit(slurm_cluster, f"--output={log}", JOB, config, wait=True)
    job_log = log.read_text() if log.exists() else "(no job log)"
    assert res.returncode == 0, f"{res.stderr}\n--- job log ---\n{job_log}\n{slurm_cluster.logs()}"
    assert "run complete" in job_log
    with RunFile(out) as run:
        assert run.attrs["complete"]
        assert run.model.name == "ising" and run.model.L == 8
        assert run.observable("energy").shape == (3, 200)
        assert run.snapshots("spin").shape == (3, 10, 8, 8)
        assert run.snapshots("improved").shape == (3, 10, 2, 8, 8)
    assert not out.with_name("run.h5.partial").exists() and not out.with_name("run.h5.ckpt").exists()


def test_time_limit_signal_checkpoints_requeues_and_resumes_exactly(slurm_cluster, tmp_path):  # noqa: F811
    # long enough to be caught running (some seconds), short enough to run twice in the test
    sweeps = {"thermalize": 50, "measure": 60000, "every": 1}
    snapshots = {"every": 4000, "representations": ["spin", "improved"]}
    ref_out = tmp_path / "reference.h5"
    ref_config = write_config(tmp_path / "reference.yaml", ref_out, sweeps=sweeps, snapshots=snapshots)
    # the uninterrupted reference runs alongside the job (the file does not depend on the ranks)
    reference = subprocess.Popen(
        [sys.executable, "-m", "src.sample", str(ref_config), "--quiet"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        out = tmp_path / "run.h5"
        config = write_config(
            tmp_path / "run.yaml",
            out,
            sweeps=sweeps,
            snapshots=snapshots,
            checkpoint={"every_minutes": 0.03},
        )
        log = tmp_path / "job.log"
        job_id = submit(slurm_cluster, f"--output={log}", JOB, config)
        # interrupted after the second periodic checkpoint (the first may come as measuring
        # starts), some thousand measurements in, so the resumed run continues a file with data
        partial, periodic = out.with_name("run.h5.partial"), out.with_name("run.h5.ckpt")
        wait_for(
            lambda: partial.exists() and periodic.exists(), 90, "no checkpoint written", slurm_cluster, log
        )
        first = inode(periodic)
        wait_for(lambda: inode(periodic) not in (first, None), 30, "no second checkpoint", slurm_cluster, log)
        # what --signal=B:USR1@... does before the time limit: USR1 to the batch shell only
        slurm_cluster.run("scancel", "--signal=USR1", "--batch", job_id)
        info = slurm_cluster.wait_job(job_id, 150, log)
        job_log = log.read_text()
        assert info["JobState"] == "COMPLETED", f"{info}\n{job_log}"
        assert info["Restarts"] == "1", f"the job was not requeued once: {info}\n{job_log}"
        assert "requeueing" in job_log and "attempt 2" in job_log and "run complete" in job_log
        assert not out.with_name("run.h5.ckpt").exists()
        ref_log, _ = reference.communicate(timeout=150)
        assert reference.returncode == 0, ref_log
    finally:
        reference.kill()
        reference.wait()
    got, want = datasets(out), datasets(ref_out)
    assert got.keys() == want.keys()
    assert got["attr complete"]
    for name in want:
        if name == "attr config":  # the output path and checkpoint interval differ, nothing else
            g, w = (
                {k: v for k, v in yaml.safe_load(c).items() if k not in ("output", "checkpoint")}
                for c in (got[name], want[name])
            )
            assert g == w
        elif isinstance(want[name], np.ndarray):
            assert np.array_equal(got[name], want[name]), f"{name} differs after checkpoint/resume"
        else:
            assert got[name] == want[name], name


STANDIN = """\
#!{python}
# Stands in for `python -m src.sample ...` in jobs/sample.slurm: records its arguments per attempt
# and rank; on the first attempt waits for a signal and exits 3 (checkpointed), later ones exit 0.
import os, pathlib, signal, sys, time

rec = pathlib.Path({rec!r})
rank = os.environ.get("OMPI_COMM_WORLD_RANK") or os.environ.get("PMIX_RANK") or "?"
attempt = int(os.environ.get("SLURM_RESTART_COUNT") or 0)
(rec / f"args.{{attempt}}.{{rank}}").write_text(" ".join(sys.argv[1:]))
if attempt:
    sys.exit(0)

def stop(signum, frame):
    (rec / f"signal.{{rank}}").write_text(signal.Signals(signum).name)
    sys.exit(3)

for sig in (signal.SIGUSR1, signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, stop)
(rec / f"started.{{rank}}").touch()
time.sleep(120)
sys.exit(1)
"""


@pytest.fixture
def standin(tmp_path):
    rec = tmp_path / "records"
    rec.mkdir()
    script = tmp_path / "python-standin"
    script.write_text(STANDIN.format(python=sys.executable, rec=str(rec)))
    script.chmod(0o755)
    return script, rec


@pytest.mark.parametrize("launcher", ["mpirun", "srun"])
def test_job_forwards_the_signal_and_requeues_on_exit_3(slurm_cluster, standin, tmp_path, launcher):  # noqa: F811
    script, rec = standin
    log = tmp_path / "job.log"
    env = {"PYTHON": str(script), "LAUNCHER": launcher}
    job_id = submit(slurm_cluster, f"--output={log}", JOB, "some.yaml", "--quiet", env=env)
    wait_for(lambda: len(list(rec.glob("started.*"))) == RANKS, 60, "ranks not started", slurm_cluster, log)
    # what jobs/pipeline.sh does: a job held until this one has succeeded, requeues and all
    after = slurm_cluster.run(
        "sbatch",
        "--parsable",
        "--ntasks=1",
        f"--dependency=afterok:{job_id}",
        f"--output={tmp_path}/after.log",
        "--wrap=true",
    ).stdout.strip()
    slurm_cluster.run("scancel", "--signal=USR1", "--batch", job_id)
    info = slurm_cluster.wait_job(job_id, 90, log)
    job_log = log.read_text()
    assert info["JobState"] == "COMPLETED" and info["Restarts"] == "1", f"{info}\n{job_log}"
    # every rank got the signal the batch shell was sent, through the launcher
    assert sorted(p.read_text() for p in rec.glob("signal.*")) == ["SIGUSR1"] * RANKS, job_log
    for attempt in (0, 1):
        args = sorted(p.read_text() for p in rec.glob(f"args.{attempt}.*"))
        assert args == ["-m src.sample some.yaml --resume --quiet"] * RANKS, (attempt, args, job_log)
    assert "attempt 1" in job_log and "requeueing" in job_log and "attempt 2" in job_log, job_log
    after_info = slurm_cluster.wait_job(after, 30, log)
    assert after_info["JobState"] == "COMPLETED", after_info
    assert after_info["StartTime"] >= info["EndTime"], "afterok was satisfied by the first attempt"


def test_cancelled_job_is_not_requeued(slurm_cluster, standin, tmp_path):  # noqa: F811
    script, rec = standin
    log = tmp_path / "job.log"
    job_id = submit(slurm_cluster, f"--output={log}", JOB, "some.yaml", env={"PYTHON": str(script)})
    wait_for(lambda: len(list(rec.glob("started.*"))) == RANKS, 60, "ranks not started", slurm_cluster, log)
    slurm_cluster.run("scancel", job_id)
    info = slurm_cluster.wait_job(job_id, 60, log)
    time.sleep(2)  # a requeue would show by now
    info = slurm_cluster.job(job_id)
    assert info["JobState"] == "CANCELLED" and info["Restarts"] == "0", f"{info}\n{log.read_text()}"
    assert not list(rec.glob("args.1.*"))


@pytest.fixture(scope="module")
def train_data(tmp_path_factory):
    """A small run file to train on: Ising L = 16, 400 snapshots at each of 4 temperatures."""
    sets = ["model.name=ising", "model.L=16", "temperatures=[1.5,1.8,3.0,3.5]", "sweeps.thermalize=100"]
    sets += ["sweeps.measure=800", "snapshots.every=2", "snapshots.representations=[improved]"]
    return sample_runs(tmp_path_factory.mktemp("runs"), {"ising16": sets})["ising16"]


def write_train_config(path: Path, data: str, output: Path, network=None, **training) -> Path:
    config = {
        "data": {"files": [data], "representation": "improved", "workers": 0},
        "labels": {"windows": [{"max": 1.8, "class": 0}, {"min": 3.0, "class": 1}]},
        "network": network or {"kind": "cnn", "channels": [16]},
        "training": {"epochs": 2, "batch_size": 32, "lr": 0.03, "seed": 3, **training},
        "output": str(output),
    }
    path.write_text(yaml.safe_dump(config))
    return path


def submit_train(cluster, log: Path, config: Path, workers: int, **options):
    """sbatch jobs/train.slurm CONFIG --quiet with `workers` DDP workers on the node."""
    return sbatch(
        cluster,
        f"--cpus-per-task={workers}",
        f"--output={log}",
        TRAIN_JOB,
        config,
        "--quiet",
        env={"WORKERS_PER_NODE": str(workers), "OMP_NUM_THREADS": "1"},
        **options,
    )


def epochs_done(output: Path) -> list[int]:
    with open(output / "metrics.csv") as f:
        return [int(row.split(",")[0]) for row in f.read().splitlines()[1:]]


def test_train_job_trains_under_torchrun_and_leaves_the_models(slurm_cluster, train_data, tmp_path):  # noqa: F811
    networks = pytest.importorskip("src.learning.ml.networks")
    out = tmp_path / "out"
    config = write_train_config(tmp_path / "t.yaml", train_data, out, network={"kind": "fcn", "hidden": 16})
    log = tmp_path / "train.log"
    # from a subfolder of the checkout, which the job finds above it; polled rather than with
    # sbatch --wait, which looks at the job at growing intervals and may return half a minute late
    job_id = submit_train(slurm_cluster, log, config, 2, cwd=ROOT / "docs")
    info = slurm_cluster.wait_job(job_id, 150, log)
    job_log = log.read_text()
    assert info["JobState"] == "COMPLETED", f"{info}\n{job_log}"
    assert "on 2 process(es)" in job_log and "run complete" in job_log, job_log
    assert epochs_done(out) == [1, 2]
    _, last = networks.load_model(out / "last.pt")
    _, best = networks.load_model(out / "best.pt")
    assert last["epoch"] == 2 and last["network"]["kind"] == "fcn" and best["epoch"] in (1, 2)


def test_train_job_checkpoints_at_the_time_limit_signal_and_resumes(slurm_cluster, train_data, tmp_path):  # noqa: F811
    epochs = 20  # about 0.3 s each on two workers: the signal comes well before the end
    out = tmp_path / "out"
    config = write_train_config(tmp_path / "t.yaml", train_data, out, epochs=epochs)
    log = tmp_path / "train.log"
    job_id = submit_train(slurm_cluster, log, config, 2)
    # after the first epoch, so that the resumed run continues one with data
    wait_for((out / "checkpoint.pt").exists, 120, "no checkpoint written", slurm_cluster, log)
    # what --signal=B:USR1@... does before the time limit: USR1 to the batch shell only
    slurm_cluster.run("scancel", "--signal=USR1", "--batch", job_id)
    info = slurm_cluster.wait_job(job_id, 180, log)
    job_log = log.read_text()
    assert info["JobState"] == "COMPLETED" and info["Restarts"] == "1", f"{info}\n{job_log}"
    # the trainer's own word that it stopped at a checkpoint, then the requeued attempt continues it
    assert "checkpointed to" in job_log and "requeueing" in job_log and "attempt 2" in job_log, job_log
    resumed = re.search(r"resuming at epoch (\d+), step \d+", job_log)
    assert resumed and 1 < int(resumed[1]) <= epochs, job_log
    assert "run complete" in job_log
    assert epochs_done(out) == list(range(1, epochs + 1)), "epochs lost or repeated"


def test_train_job_without_a_new_checkpoint_is_not_requeued(slurm_cluster, train_data, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    # a folder where the checkpoint's temporary file goes: the trainer fails to write it
    (out / ".checkpoint.pt.tmp").mkdir(parents=True)
    # a first epoch of some seconds, so the signal comes before its end
    config = write_train_config(tmp_path / "t.yaml", train_data, out, {"kind": "cnn", "channels": [64, 64]})
    log = tmp_path / "train.log"
    job_id = submit_train(slurm_cluster, log, config, 1)
    wait_for(
        lambda: log.exists() and "starting" in log.read_text(), 90, "training not started", slurm_cluster, log
    )
    slurm_cluster.run("scancel", "--signal=USR1", "--batch", job_id)
    info = slurm_cluster.wait_job(job_id, 90, log)
    job_log = log.read_text()
    assert info["JobState"] == "FAILED" and info["Restarts"] == "0", f"{info}\n{job_log}"
    assert "got SIGUSR1" in job_log and "run failed" in job_log and "requeueing" not in job_log, job_log


def test_job_scripts_are_valid_bash():
    scripts = [
        JOB,
        TRAIN_JOB,
        ROOT / "jobs" / "lib.sh",
        ROOT / "jobs" / "pipeline.sh",
        ROOT / "tools" / "setup-slurm.sh",
    ]
    for script in scripts:
        res = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert res.returncode == 0, f"{script.name}: {res.stderr}"
    if shutil.which("shellcheck"):  # where installed (not a project dependency)
        # -x from the root: the job scripts' `source jobs/lib.sh` is followed and checked with them
        res = subprocess.run(
            ["shellcheck", "--shell=bash", "-x", *map(str, scripts)], cwd=ROOT, capture_output=True, text=True
        )
        assert res.returncode == 0, res.stdout


def test_pipeline_script_submits_the_study_in_order(tmp_path):
    # a fake sbatch on PATH: records its arguments and answers --parsable with a job id
    fake = tmp_path / "bin" / "sbatch"
    fake.parent.mkdir()
    calls = tmp_path / "calls"
    fake.write_text(
        textwrap.dedent(
            f"""\
            #!/bin/bash
            echo "$*" >> {calls}
            echo "$(( $(wc -l < {calls}) + 100 ));cluster"
            """
        )
    )
    fake.chmod(0o755)
    out = tmp_path / "study"
    config = tmp_path / "pipeline.yaml"
    config.write_text(yaml.safe_dump(pipeline_config.DEFAULT))  # the built-in (make run) study
    res = subprocess.run(
        ["bash", str(ROOT / "jobs" / "pipeline.sh"), str(config), "--set", f"output={out}"],
        cwd=tmp_path,
        env={"PATH": f"{fake.parent}:/usr/bin:/bin", "SAMPLE_ARGS": "--ntasks=8"},
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    lines = calls.read_text().splitlines()
    ids = {
        line.split()[-1].rsplit("/", 1)[-1].removesuffix(".yaml"): 101 + k
        for k, line in enumerate(lines[:-1])
    }
    # the built-in study: classical and quantum XY runs, a classifier per seed, the Ising runs, 2 networks
    study = pipeline_config.DEFAULT
    sizes, rg = study["classification"]["sizes"], study["inverse_rg"]
    classifiers = [f"classifier_s{seed}" for seed in study["classification"]["seeds"]]
    ising = [rg["size"], *rg["reference_sizes"]]
    assert sorted(ids) == sorted(
        [f"{m}_L{L}" for L in sizes for m in ("xy", "qxy")]
        + [*classifiers, *(f"ising_L{L}" for L in ising), f"ising_L{rg['size']}_test"]
        + ["superres_spin", "superres_graph"]
    )
    for line in lines[:-1]:
        assert "--parsable" in line and (out / "pipeline" / "configs").is_dir()
        if "sample.slurm" in line:
            assert "--ntasks=8" in line and "--dependency" not in line
    by_id = dict(zip(ids, lines))
    xy_jobs = ":".join(str(ids[f"xy_L{L}"]) for L in sizes)
    for classifier in classifiers:
        assert f"--dependency=afterok:{xy_jobs} " in by_id[classifier]
        assert "jobs/train.slurm" in by_id[classifier] and "--ntasks=8" not in by_id[classifier]
    start = ids[f"ising_L{rg['size']}"]
    assert f"--dependency=afterok:{start} " in by_id["superres_graph"]
    last = lines[-1]
    assert "--dependency=afterok:" + ":".join(str(i) for i in sorted(ids.values())) in last
    assert "--finish" in last and f"output={out}" in last
    assert f"job {100 + len(lines)}" in res.stdout
