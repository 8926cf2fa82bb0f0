"""Evaluation of a trained classifier: bootstrap averages, finite-size extrapolation, and
python -m src.analyze classify end to end on tiny Ising files."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import sample_runs

from src.analysis.classify import block_bootstrap, output_class
from src.analysis.fss import extrapolate, scaling_variable
from src.analyze import main
from src.learning.ml.config import validate
from src.learning.ml.trainer import train

ROOT = Path(__file__).resolve().parents[1]
TEMPERATURES = [1.5, 1.8, 2.1, 2.2, 2.3, 2.4, 2.6, 3.0, 3.5]
torch.set_num_threads(1)


# -- averages and fits on synthetic data ------------------------------------------------------
def test_block_bootstrap_error_matches_the_standard_error_of_independent_values():
    rng = np.random.default_rng(1)
    values = rng.normal(0.3, 1.0, size=(20, 4000))
    mean, error = block_bootstrap(values, seed=2)
    assert mean.shape == error.shape == (20,)
    assert np.allclose(mean, values.mean(axis=1))
    # 50 blocks: each error is known to about 10 %, their average to a few %
    assert np.isclose(error.mean(), 1 / np.sqrt(4000), rtol=0.08)
    assert np.allclose(error, 1 / np.sqrt(4000), rtol=0.4)
    assert np.array_equal(block_bootstrap(values, seed=2)[1], error)  # seeded


def test_block_bootstrap_sees_correlated_runs_that_a_plain_bootstrap_misses():
    runs = np.repeat(np.random.default_rng(3).normal(size=100), 40)  # 100 independent runs of 40
    _, blocked = block_bootstrap(runs, n_blocks=50)
    _, plain = block_bootstrap(runs, n_blocks=runs.size)
    assert np.isclose(blocked, 0.1, rtol=0.3) and plain < blocked / 3


def test_power_fit_recovers_T_c_within_its_error():
    L = np.array([8, 12, 16, 24, 32, 48])
    sigma = np.full(L.size, 0.004)
    T_x = 2.269185 + 0.9 / L + np.random.default_rng(4).normal(0, sigma)
    fit = extrapolate(L, T_x, sigma, form="power", nu=1.0)
    assert abs(fit.T_c - 2.269185) < 3 * fit.T_c_error and fit.T_c_error < 0.01
    assert fit.dof == 4 and np.isclose(fit.slope, 0.9, rtol=0.3)


def test_two_sizes_fit_exactly_with_the_propagated_error():
    L, T_x, sigma = [16, 64], [0.95, 0.92], [0.01, 0.02]
    x1, x2 = scaling_variable(L, "bkt")
    fit = extrapolate(L, T_x, sigma, form="bkt")
    assert np.isclose(fit.T_c, (x2 * T_x[0] - x1 * T_x[1]) / (x2 - x1))
    assert np.isclose(fit.T_c_error, np.hypot(x2 * sigma[0], x1 * sigma[1]) / abs(x2 - x1))
    assert np.allclose(fit.at([x1, x2]), T_x) and fit.dof == 0


def test_default_output_is_the_class_of_the_lowest_window():
    labels = {"windows": [{"min": 3.0, "class": 0}, {"max": 1.8, "class": 1}], "names": ["hot", "cold"]}
    assert output_class(labels, None) == 1
    assert output_class(labels, "hot") == 0 and output_class(labels, "1") == 1


# -- end to end ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def files(tmp_path_factory):
    settings = {}
    for L, reps in ((8, "[spin,improved]"), (12, "[spin,improved]"), (6, "[spin]")):
        sets = ["model.name=ising", f"model.L={L}", f"temperatures={TEMPERATURES}", "sweeps.thermalize=100"]
        settings[L] = [*sets, "sweeps.measure=600", "snapshots.every=2", f"snapshots.representations={reps}"]
    return sample_runs(tmp_path_factory.mktemp("runs"), settings)


def trained(files, folder: Path, kind: str, representation: str) -> str:
    network = {"kind": kind, **({"channels": [8]} if kind == "cnn" else {"hidden": 16})}
    raw = {
        "data": {"files": [files[8], files[12]] if kind == "cnn" else [files[8]], "workers": 0},
        "labels": {
            "windows": [{"max": 1.8, "class": 0}, {"min": 3.0, "class": 1}],
            "names": ["ordered", "disordered"],
        },
        "network": network,
        "training": {"epochs": 4, "batch_size": 32, "lr": 0.03, "seed": 3},
        "output": str(folder),
    }
    raw["data"]["representation"] = representation
    train(validate(raw), show_progress=False, log=lambda *a: None)
    return str(folder / "best.pt")


def test_classify_writes_outputs_that_cross_one_half_near_T_c(files, tmp_path, capsys):
    model = trained(files, tmp_path / "net", "cnn", "improved")
    out = tmp_path / "classify"
    assert main(["classify", model, files[12], files[8], "--out", str(out)]) == 0
    summary = capsys.readouterr().out
    assert "extrapolated T_c" in summary and "literature T_c = 2.269185" in summary
    assert {p.name for p in out.iterdir()} == {
        "summary.txt",
        "outputs.csv",
        "crossings.csv",
        "outputs.png",
        "extrapolation_half.png",
    }
    with open(out / "outputs.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["file", "network", "model", "L", "T", "output", "error"]
    for L in (8, 12):
        mine = [r for r in rows if r["L"] == str(L)]
        assert {r["model"] for r in mine} == {"ising"} and {r["file"] for r in mine} == {files[L]}
        assert np.allclose([float(r["T"]) for r in mine], TEMPERATURES)
        output = np.array([float(r["output"]) for r in mine])
        assert output[0] > 0.9 and output[-1] < 0.1 and np.all(np.diff(output) < 0.05)
        line = next(s for s in summary.splitlines() if s.startswith(f"L = {L:4d}: T_x = "))
        T_x = float(line.split("= ")[2].split("(")[0])
        assert 2.0 < T_x < 2.6, line


@pytest.mark.parametrize(
    "kind, representation, file, message",
    [
        ("fcn", "spin", 12, "L = 12, but the fully connected network takes L = 8 only"),
        ("cnn", "improved", 6, "no representation 'improved' (has: spin)"),
    ],
)
def test_a_file_that_does_not_fit_the_network_is_one_line_exit_2(
    files, tmp_path, kind, representation, file, message
):
    model = trained(files, tmp_path / "net", kind, representation)
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "src.analyze",
            "classify",
            model,
            files[8],
            files[file],
            "--out",
            str(tmp_path / "o"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2 and res.stderr.startswith("error: ") and res.stderr.count("\n") == 1
    assert message in res.stderr and files[file] in res.stderr
    assert not (tmp_path / "o").exists()


def trained_on(files, folder: Path, sizes, seed: int, rescale: float = 0.0) -> str:
    raw = {
        "data": {"files": [files[L] for L in sizes], "workers": 0, "representation": "improved"},
        "labels": {"windows": [{"max": 1.8, "class": 0}, {"min": 3.0, "class": 1}]},
        "network": {"kind": "cnn", "channels": [8]},
        "training": {"epochs": 4, "batch_size": 32, "lr": 0.03, "seed": seed},
        "output": str(folder),
    }
    if rescale:
        raw["data"]["rescale"] = rescale
    train(validate(raw), show_progress=False, log=lambda *a: None)
    return str(folder / "best.pt")


def test_seeds_enter_the_error_and_each_network_is_extrapolated_alone(files, tmp_path, capsys):
    models = [trained_on(files, tmp_path / f"s{seed}", (8, 12), seed) for seed in (1, 2)]
    out = tmp_path / "classify"
    assert main(["classify", *models, files[8], files[12], "--out", str(out)]) == 0
    summary = capsys.readouterr().out
    assert "(2 networks)" in summary and "seed s.d." in summary and "each network alone" in summary
    with open(out / "crossings.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["network"] for r in rows if r["sizes"] == "8"] == [*models, "all"]
    each = [float(r["T_x"]) for r in rows if r["sizes"] == "8" and r["network"] != "all"]
    combined = next(r for r in rows if r["sizes"] == "8" and r["network"] == "all")
    assert np.isclose(float(combined["T_x"]), np.mean(each))
    assert np.isclose(float(combined["seed_sd"]), np.std(each, ddof=1))


def test_one_rescaled_network_per_size_and_the_crossing_of_successive_sizes(files, tmp_path, capsys):
    models = [trained_on(files, tmp_path / f"L{L}", (L,), 1, rescale=0.25) for L in (8, 12)]
    out = tmp_path / "classify"
    args = ["classify", *models, files[12], files[8], "--criterion", "half", "pairs", "--out", str(out)]
    assert main(args) == 0
    summary = capsys.readouterr().out
    assert "crosses 1/2 (1 network per size)" in summary
    assert "of successive sizes cross (1 network per size)" in summary
    with open(out / "crossings.csv", newline="") as f:
        assert {r["criterion"] for r in csv.DictReader(f)} == {"half", "pairs"}
    line = next(s for s in summary.splitlines() if s.startswith("L = 8/12: T_x = "))
    assert 1.9 < float(line.split("= ")[2].split("(")[0]) < 2.7, line


def test_rescaled_inputs_are_multiplied_by_L_to_the_exponent():
    from src.learning.ml.encoding import encode
    from src.models import make_model

    stored = np.random.default_rng(0).random((3, 2, 8, 8)).astype(np.float32)
    model = make_model("ising", 8)
    assert np.allclose(encode(stored, model, "improved", 0.25), stored * 8**0.25)
    assert np.array_equal(encode(stored, model, "improved"), stored)


def test_rescaling_a_spin_input_is_refused():
    from src.configuration import ConfigError

    raw = {
        "data": {"files": ["a.h5"], "representation": "spin", "rescale": 0.25},
        "labels": {"windows": [{"max": 1.8, "class": 0}, {"min": 3.0, "class": 1}]},
        "network": {"kind": "cnn"},
    }
    with pytest.raises(
        ConfigError, match="'data.rescale': only for the two-point inputs correlation, improved, not spin"
    ):
        validate(raw)
