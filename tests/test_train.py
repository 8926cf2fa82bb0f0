"""The trainer: it learns, it is data parallel without changing the result, it resumes exactly,
and bad input gives one line with exit status 2."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from helpers import sample_runs
from training_helpers import (  # noqa: F401 (single_process: an autouse fixture)
    LAUNCH_VARS,
    ONE_THREAD,
    ROOT,
    assert_same_parameters,
    single_process,
    torchrun_train,
)

from src import signals
from src.learning.ml.batches import BlockBatchSampler
from src.learning.ml.config import validate
from src.learning.ml.dataset import SnapshotDataset, labelled_index
from src.learning.ml.distributed import leave
from src.learning.ml.encoding import encode
from src.learning.ml.networks import PeriodicCNN, load_model
from src.learning.ml.sources import read_sources
from src.learning.ml.trainer import Trainer, train
from src.models import make_model
from src.signals import Checkpointed
from src.storage.networks import cpu_state_dict, read
from src.storage.reader import RunFile
from src.train import main

# name: (model options, temperatures, representations, sweeps.measure); two snapshots per 2 sweeps
RUNS = {
    "ising8": (
        ["model.name=ising", "model.L=8"],
        [1.5, 1.8, 2.27, 3.0, 3.5],
        "[spin,correlation,fk_bonds,improved]",
        400,
    ),
    "ising12": (["model.name=ising", "model.L=12"], [1.5, 3.5], "[spin,improved]", 200),
    "xy8": (["model.name=xy", "model.L=8"], [0.5, 1.5], "[spin,improved]", 100),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    settings = {}
    for name, (model, temps, reps, measure) in RUNS.items():
        sets = [*model, f"temperatures={temps}", "sweeps.thermalize=100", f"sweeps.measure={measure}"]
        settings[name] = [*sets, "snapshots.every=2", f"snapshots.representations={reps}"]
    return sample_runs(tmp_path_factory.mktemp("runs"), settings)


def raw_config(files, output, representation="improved", kind="cnn", epochs=3) -> dict:
    network = {"kind": kind, **({"channels": [8]} if kind == "cnn" else {"hidden": 32})}
    return {
        "data": {"files": files, "representation": representation, "workers": 0},
        "labels": {
            "windows": [{"max": 1.8, "class": 0}, {"min": 3.0, "class": 1}],
            "names": ["ordered", "disordered"],
        },
        "network": network,
        "training": {"epochs": epochs, "batch_size": 32, "lr": 0.03, "seed": 3},
        "output": str(output),
    }


def quiet_train(raw: dict, **options):
    return train(validate(raw), show_progress=False, log=lambda *a: None, **options)


# -- networks, encodings, data ----------------------------------------------------------------
def test_cnn_is_translation_invariant_and_takes_any_size():
    torch.manual_seed(0)
    net = PeriodicCNN(2, 3, [8, 8], 3, "relu")
    x = torch.randn(4, 2, 8, 8)
    shifted = torch.roll(x, shifts=(3, 5), dims=(-2, -1))
    torch.testing.assert_close(net(shifted), net(x), rtol=1e-5, atol=1e-6)
    assert net(torch.randn(4, 2, 12, 12)).shape == (4, 3)


def test_spin_encodings():
    labels = np.array([[[0, 1], [2, 0]]], dtype=np.int8)
    potts = encode(labels, make_model("potts", 2, q=3), "spin")
    assert potts.shape == (1, 3, 2, 2) and np.array_equal(potts.argmax(axis=1), labels)
    assert np.all(potts.sum(axis=1) == 1)
    clock = encode(labels, make_model("clock", 2, q=4), "spin")
    xy = encode((labels * np.pi / 2).astype(np.float32), make_model("xy", 2), "spin")
    assert clock.shape == (1, 2, 2, 2) and np.allclose(clock, xy, atol=1e-6)
    assert np.allclose(clock[0, :, 0, 1], [0, 1], atol=1e-6)  # label 1 of 4: theta = pi/2
    ising = encode(np.array([[[1, -1]]], dtype=np.int8), make_model("ising", 2), "spin")
    assert ising.dtype == np.float32 and ising.tolist() == [[[[1.0, -1.0]]]]


def test_batches_read_what_the_file_holds_and_split_among_ranks(files):
    sources = read_sources([files["ising8"], files["ising12"]], "improved", False)
    config = validate(raw_config([files["ising8"], files["ising12"]], "unused"))
    index = labelled_index(sources, config.labels)
    labelled = sources[0].temperatures[np.unique(index.temperature[index.file == 0])]
    assert np.allclose(labelled, [1.5, 1.8, 3.0, 3.5])
    data = SnapshotDataset(sources, "improved", index)
    for picks in ([5, 700, 3, 4, 799], [999, 850]):  # unsorted, runs of neighbours; L = 8, then 12
        x, y = data[picks]
        for row, i in enumerate(picks):
            f, t, s = index.file[i], index.temperature[i], index.snapshot[i]
            with RunFile(sources[f].path) as run:
                assert np.array_equal(x[row].numpy(), run.snapshots("improved", t)[s])
            assert y[row] == (0 if sources[f].temperatures[t] < 2 else 1)
    one = BlockBatchSampler(index, sources, 32, shuffle=True, seed=1, num_replicas=1, rank=0)
    two = [
        BlockBatchSampler(index, sources, 32, shuffle=True, seed=1, num_replicas=2, rank=r) for r in (0, 1)
    ]
    for epoch in (0, 1):
        for s in (one, *two):
            s.set_epoch(epoch)
        for whole, a, b in zip(one, *two, strict=True):
            assert len(a) == len(b) == 16 and a + b == whole
            assert len({sources[f].model.L for f in index.file[whole]}) == 1
    assert list(one) != list(
        BlockBatchSampler(index, sources, 32, shuffle=True, seed=2, num_replicas=1, rank=0)
    )


# -- learning ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["fcn", "cnn"])
@pytest.mark.parametrize("representation", ["spin", "improved"])
def test_classifier_learns_the_ising_phases(files, tmp_path, kind, representation):
    raw = raw_config([files["ising8"]], tmp_path / "out", representation, kind, epochs=8)
    network = quiet_train(raw)
    best, meta = load_model(tmp_path / "out" / "best.pt")
    assert meta["metrics"]["val_accuracy"] > 0.9, meta["metrics"]
    assert meta["representation"] == representation and meta["lattice_sizes"] == [8]
    assert meta["data"][0]["model"] == "ising" and meta["data"][0]["distance"] == 4
    assert meta["labels"]["names"] == ["ordered", "disordered"]
    rows = (tmp_path / "out" / "metrics.csv").read_text().splitlines()
    assert rows[0] == "epoch,train_loss,train_accuracy,val_loss,val_accuracy,seconds" and len(rows) == 9
    last, _ = load_model(tmp_path / "out" / "last.pt")
    x = torch.randn(5, *((1,) if representation == "spin" else (2,)), 8, 8)
    torch.testing.assert_close(last(x), network.cpu()(x))


def test_cnn_trains_on_two_lattice_sizes(files, tmp_path):
    quiet_train(raw_config([files["ising8"], files["ising12"]], tmp_path / "out", epochs=2))
    net, meta = load_model(tmp_path / "out" / "last.pt")
    assert meta["lattice_sizes"] == [8, 12] and meta["network"]["kind"] == "cnn"


# -- data parallel ----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank(rank: int, port: int, raw: dict, folder: str):
    """One of two processes started as srun would: SLURM_* variables and MASTER_ADDR/PORT."""
    for var in LAUNCH_VARS:
        os.environ.pop(var, None)
    slurm = {"SLURM_PROCID": str(rank), "SLURM_NTASKS": "2", "SLURM_LOCALID": str(rank)}
    os.environ.update(slurm, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    network = quiet_train(raw)
    torch.save(cpu_state_dict(network), Path(folder) / f"rank{rank}.pt")
    leave(0)  # as src.train does


def test_two_processes_take_the_steps_of_one(files, tmp_path):
    raw = raw_config([files["ising8"]], tmp_path / "ddp", "spin", "fcn", epochs=2)
    torch.multiprocessing.spawn(_rank, args=(free_port(), raw, str(tmp_path)), nprocs=2)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert_same_parameters(ranks[0], ranks[1])  # DDP: identical, not merely close
    single = quiet_train({**raw, "output": str(tmp_path / "single")})
    assert_same_parameters(ranks[0], cpu_state_dict(single), rtol=1e-5)


def test_torchrun_runs_the_command_line(files, tmp_path):
    raw = raw_config([files["ising8"]], tmp_path / "ddp", epochs=1)
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    res = torchrun_train(tmp_path / "c.yaml")
    assert res.returncode == 0, res.stderr
    assert "on 2 process(es)" in res.stdout
    ddp, _ = load_model(tmp_path / "ddp" / "last.pt")
    single = quiet_train({**raw, "output": str(tmp_path / "single")})
    assert_same_parameters(cpu_state_dict(ddp), cpu_state_dict(single), rtol=1e-5)


# -- checkpoints --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def uninterrupted(files, tmp_path_factory):
    raw = raw_config([files["ising8"]], tmp_path_factory.mktemp("full") / "out", epochs=4)
    return raw, cpu_state_dict(quiet_train(raw))


def test_resume_after_an_epoch_gives_the_uninterrupted_result(uninterrupted, tmp_path):
    raw, expected = uninterrupted
    raw = {**raw, "output": str(tmp_path / "out")}
    quiet_train({**raw, "training": {**raw["training"], "epochs": 2}})
    resumed = quiet_train(raw, resume=True)
    assert_same_parameters(cpu_state_dict(resumed), expected)
    assert len((tmp_path / "out" / "metrics.csv").read_text().splitlines()) == 5
    assert quiet_train(raw, resume=True) is None  # complete: nothing to do


def test_signal_checkpoints_mid_epoch_then_resume_finishes_the_run(uninterrupted, tmp_path):
    raw, expected = uninterrupted
    raw = {**raw, "output": str(tmp_path / "out")}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    command = [sys.executable, "-m", "src.train", str(tmp_path / "c.yaml"), "--quiet"]
    env = {**os.environ, **ONE_THREAD}
    run = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert run.stdout.readline().startswith("starting")  # signals are handled from here on
    run.send_signal(signal.SIGUSR1)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 3, err
    assert "continue with --resume" in err
    res = subprocess.run(
        command + ["--resume"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert "resuming at epoch 1, step" in res.stdout
    network, _ = load_model(tmp_path / "out" / "last.pt")
    assert_same_parameters(cpu_state_dict(network), expected)


def test_checkpoint_at_a_step_in_process(files, tmp_path, monkeypatch):
    raw = raw_config([files["ising8"]], tmp_path / "out", epochs=1)
    step = Trainer._train_step

    def step_then_signal(self, x, y):
        step(self, x, y)
        if self.step == 6:
            signals.received = signal.SIGTERM

    monkeypatch.setattr(Trainer, "_train_step", step_then_signal)
    with pytest.raises(Checkpointed):
        quiet_train(raw)
    checkpoint = read(tmp_path / "out" / "checkpoint.pt")
    assert (checkpoint["epoch"], checkpoint["step"]) == (0, 7)


# -- bad input ----------------------------------------------------------------------------------
def run_main(capsys, raw: dict, folder: Path, *options) -> tuple[int, str]:
    (folder / "c.yaml").write_text(yaml.safe_dump(raw))
    code = main([str(folder / "c.yaml"), "--quiet", *options])
    return code, capsys.readouterr().err


def bad(files, tmp_path, **changes) -> dict:
    raw = raw_config([files["ising8"]], tmp_path / "out", epochs=1)
    for key, value in changes.items():  # section__name=value, or section=value
        section, _, name = key.partition("__")
        if name:
            raw[section][name] = value
        else:
            raw[section] = value
    return raw


BAD = {
    "missing file": ({"data__files": ["/nonexistent/run.h5"]}, "/nonexistent/run.h5: no such file"),
    "models differ": ({"data__files": ["ising8", "xy8"]}, "holds the xy model"),
    "spin channels differ": (
        {"data__files": ["ising8", "xy8"], "data__representation": "spin", "data__mixed_models": True},
        "channels",
    ),
    "no such representation": (
        {"data__files": ["ising12"], "data__representation": "correlation"},
        "no representation 'correlation'",
    ),
    "empty window": (
        {"labels__windows": [{"max": 1.0, "class": 0}, {"min": 3.0, "class": 1}]},
        "config key 'labels.windows.0': no temperature",
    ),
    "overlapping windows": (
        {"labels__windows": [{"max": 2.0, "class": 0}, {"min": 1.9, "class": 1}]},
        "config key 'labels.windows': windows 0 and 1 overlap",
    ),
    "classes with a gap": (
        {"labels__windows": [{"max": 2.0, "class": 0}, {"min": 3.0, "class": 2}]},
        "config key 'labels.windows'",
    ),
    "fcn on two sizes": (
        {"data__files": ["ising8", "ising12"], "network": {"kind": "fcn"}},
        "config key 'network.kind'",
    ),
    "key of the other network": (
        {"network__hidden": 10},
        "config key 'network.hidden': not a key of the cnn",
    ),
    "unknown key": ({"training__learning_rate": 0.1}, "config key 'training.learning_rate': unknown key"),
    "batch too large": ({"training__batch_size": 5000}, "config key 'training.batch_size'"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_one_line_and_exit_2(files, tmp_path, capsys, case):
    changes, message = BAD[case]
    if "data__files" in changes:
        changes = {**changes, "data__files": [files.get(f, f) for f in changes["data__files"]]}
    code, err = run_main(capsys, bad(files, tmp_path, **changes), tmp_path)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err
    assert not (tmp_path / "out").exists()


def test_existing_output_needs_overwrite_or_resume(files, tmp_path, capsys):
    raw = bad(files, tmp_path)
    assert run_main(capsys, raw, tmp_path)[0] == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    code, err = run_main(capsys, raw, tmp_path)
    assert code == 2 and "holds a training run" in err and err.count("\n") == 1
    assert before == {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    code, err = run_main(capsys, {**raw, "training": {**raw["training"], "lr": 0.5}}, tmp_path, "--resume")
    assert code == 2 and "belongs to another config" in err
    assert run_main(capsys, raw, tmp_path, "--overwrite")[0] == 0


def test_command_line_error_has_no_traceback(tmp_path):
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw_config(["/nonexistent.h5"], tmp_path / "out")))
    res = subprocess.run(
        [sys.executable, "-m", "src.train", str(tmp_path / "c.yaml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2 and res.stderr == "error: /nonexistent.h5: no such file\n"
