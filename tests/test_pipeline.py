"""`make run`, the README's main job, on a smaller study: every stage runs through the user's entry
points (mpirun, torchrun, src.analyze) and the report lists a finite number for every estimate."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from src.pipeline import config, stages
from src.storage.networks import atomic_save

ROOT = Path(__file__).resolve().parents[1]
# a study of a few seconds per stage: L = 4, 8, 12 (two pairs of sizes to extrapolate); Ising from 8 to 16
SMALL = {
    "classification.sizes": "[4, 8, 12]",
    "classification.seeds": "[1, 2]",
    "classification.criterion": "half",  # pairs need sizes whose curves cross: tested in test_classify
    "classification.classical.sweeps": "{thermalize: 200, measure: 1000}",
    "classification.quantum.sweeps": "{thermalize: 200, measure: 1000}",
    "classification.classical.snapshots.every": 5,
    "classification.quantum.snapshots.every": 5,
    "classification.train.training.epochs": 3,
    "inverse_rg.size": 8,
    "inverse_rg.reference_sizes": "[16]",
    "inverse_rg.sample.temperatures": "[1.9, 2.1, 2.269, 2.45, 2.7]",
    "inverse_rg.sample.sweeps": "{thermalize: 200, measure: 1000}",
    "inverse_rg.sample.snapshots.every": 5,
    "inverse_rg.train.training.epochs": 2,
    "inverse_rg.generate": 40,
}


def estimates(report: Path) -> dict[str, str]:
    """quantity -> estimate of the report's first table."""
    rows = {}
    for line in report.read_text().split("## Inverse RG")[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) == 4 and cells[0] not in ("quantity", "---"):
            rows[cells[0] + " / " + cells[1]] = cells[2]
    return rows


@pytest.mark.timeout(1800)
def test_make_run_writes_a_report_with_every_estimate(tmp_path):
    settings = {**SMALL, "output": tmp_path / "results"}
    args = " ".join(f"--set '{key}={value}'" for key, value in settings.items())
    done = subprocess.run(
        ["make", "run", f"RUN_ARGS={args}"],
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = tmp_path / "results" / "report.md"
    rows = estimates(report)
    quantities = " ".join(rows)
    for expected in (
        "T_BKT, classical XY",
        "classical XY (helicity modulus)",
        "T_BKT, quantum XY",
        "quantum XY (spin stiffness)",
        "T_c, Ising",
    ):
        assert expected in quantities, expected
    fixed_points = {"spin": [], "graph": []}
    for quantity, estimate in rows.items():
        if "fixed point" in quantity and estimate == "none":  # no crossing of T' = T in the range
            continue
        value = float(estimate.split("(")[0])
        assert math.isfinite(value) and value > 0, quantity
        if "fixed point" in quantity:
            fixed_points[quantity.split(" / ")[1].split()[0]].append(value)
    assert all(fixed_points.values()), fixed_points  # each network's flow has a fixed point
    figures = {p.name for p in (tmp_path / "results" / "figures").rglob("*.png")}
    assert {"outputs.png", "stiffness_quantum_xy.png", "stiffness_xy.png", "flow_ising.png"} <= figures
    assert {"xy_L12.png", "qxy_L12.png", "ising.png"} <= figures  # the gallery
    text = report.read_text()
    assert "## Inverse RG: spin against graph super-resolution" in text
    assert "trained on every temperature" in text and "onestep.png" in figures
    for phase in ("below", "above"):  # the one-step comparison of both sides on e, m^2 and G(L/2)
        assert sum(f"| {phase} T_c (" in line for line in text.splitlines()) == 3, phase


def test_one_network_per_size_and_seed_each_trained_on_its_own_size(tmp_path):
    from src.pipeline.config import load
    from src.pipeline.stages import plan

    cfg = load(
        None, [f"output={tmp_path}", "classification.networks=per_size", "classification.seeds=[3, 4]"]
    )
    trains = {s.id: s.config for s in plan(cfg) if s.id.startswith("classifier")}
    assert sorted(trains) == sorted(f"classifier_L{L}_s{seed}" for L in (8, 16, 32) for seed in (3, 4))
    config = trains["classifier_L16_s4"]
    assert config["data"]["files"] == [str(tmp_path / "pipeline" / "runs" / "xy_L16.h5")]
    assert config["training"]["seed"] == 4 and config["data"]["rescale"] == 0.25


def test_a_seed_listed_twice_is_one_line(tmp_path):
    from src.configuration import ConfigError
    from src.pipeline.config import load

    with pytest.raises(ConfigError, match="'classification.seeds': \\[1, 1\\] lists a value twice"):
        load(None, [f"output={tmp_path}", "classification.seeds=[1, 1]"])


def test_a_done_stage_runs_again_when_its_output_is_missing_or_damaged(tmp_path, monkeypatch):
    """The stage records say done, but a sampling run file is missing or a network file fails its
    checksum: the stage runs again (afresh); complete, verified outputs are skipped."""
    cfg = config.load(None, [f"output={tmp_path}"])
    plan = {s.id: s for s in stages.plan(cfg)}
    chosen = [plan["ising_L16"], plan["superres_spin"]]
    stages.write_configs(chosen, cfg.data)
    calls, lines, real_run = [], [], subprocess.run

    def fake_run(argv, env):
        calls.append(argv)
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setattr(stages.subprocess, "run", fake_run)

    def again() -> list[str]:
        calls.clear()
        stages.run_stages(chosen, cfg, log=lines.append)
        return [next(a for a in argv if a.endswith(".yaml")).rsplit("/", 1)[-1] for argv in calls]

    assert again() == ["ising_L16.yaml", "superres_spin.yaml"]  # nothing done yet
    assert again() == ["ising_L16.yaml", "superres_spin.yaml"]  # done, but no outputs
    assert sum("does not verify" in line for line in lines) == 2
    run_file = Path(chosen[0].config["output"])
    sets = [
        "model.L=4",
        "sweeps.thermalize=10",
        "sweeps.measure=20",
        "temperatures=[2.0, 3.0]",
        f"output={run_file}",
    ]
    real_run(
        [sys.executable, "-m", "src.sample", "--quiet", *(a for s in sets for a in ("--set", s))],
        cwd=ROOT,
        check=True,
    )
    network = Path(chosen[1].config["output"]) / "best.pt"
    network.parent.mkdir(parents=True)
    atomic_save({"format": "spinml-superres", "state_dict": {"w": torch.arange(64.0)}}, network)
    assert again() == []
    data = bytearray(network.read_bytes())
    data[bytes(data).find(torch.arange(64.0).numpy().tobytes()) + 9] ^= 1
    network.write_bytes(bytes(data))
    assert again() == ["superres_spin.yaml"]
    assert "best.pt: damaged" in lines[-3]
