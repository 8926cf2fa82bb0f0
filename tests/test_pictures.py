"""python -m src.analyze show: snapshots drawn as pictures, the clusters of stored bonds, and the
loops of the loop algorithm in one (x, tau) plane."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import sample_runs

from src.analysis.pictures import cluster_colours, pick_temperatures
from src.analyze import main
from src.sampling.graph.labelling import cluster_labels
from src.sampling.quantum.picture import loop_plane

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    common = ["sweeps.thermalize=20", "sweeps.measure=20", "snapshots.every=10"]
    return sample_runs(
        tmp_path_factory.mktemp("runs"),
        {
            "ising": [
                "model.name=ising",
                "model.L=8",
                "temperatures=[1.5, 2.27, 3.5]",
                "snapshots.representations=[spin,fk_bonds,improved]",
                *common,
            ],
            "quantum": [
                "model.name=quantum_xy",
                "model.L=4",
                "temperatures=[0.3, 0.6]",
                "snapshots.representations=[improved]",
                *common,
            ],
        },
    )


def test_default_temperatures_are_lowest_nearest_T_c_and_highest():
    T = np.array([3.0, 2.0, 2.3, 2.5, 1.0])
    assert pick_temperatures(T, 2.269) == [4, 2, 0]
    assert pick_temperatures(T, None) == [4, 2, 0]  # the middle one where T_c is unknown
    assert pick_temperatures(T, 2.269, [2.1, 2.9]) == [1, 0]


def test_sites_joined_by_a_bond_share_a_colour_and_clusters_differ():
    bonds = (np.random.default_rng(1).random((2, 12, 12)) < 0.4).astype(np.uint8)
    colours, labels = cluster_colours(bonds), cluster_labels(bonds)
    x_bonded = bonds[0].astype(bool)
    assert np.array_equal(colours[x_bonded], np.roll(colours, -1, axis=1)[x_bonded])
    assert np.array_equal(labels[x_bonded], np.roll(labels, -1, axis=1)[x_bonded])
    assert len(np.unique(colours)) > 1


def test_loop_segments_cover_imaginary_time_once_and_joins_are_shared_vertices():
    plane = loop_plane(6, beta=2.0, seed=3)
    for x, segments in enumerate(plane.segments):
        starts, ends = segments[:, 0], segments[:, 1]
        assert starts[0] == 0 and ends[-1] == plane.beta
        assert np.all(ends > starts) and np.array_equal(starts[1:], ends[:-1])
        assert set(np.unique(segments[:, 3])) <= {0, 1}
        # a vertex joining x and x + 1 starts a segment on both
        assert np.isin(plane.joins[x], starts).all()
        assert np.isin(plane.joins[x], plane.segments[(x + 1) % 6][:, 0]).all()
    assert sum(j.size for j in plane.joins) > 0  # at beta = 2 the row has kinks


def test_show_draws_every_stored_picture(files, tmp_path, capsys):
    for name in ("ising", "quantum"):
        out = tmp_path / f"{name}.png"
        assert main(["show", files[name], "--out", str(out)]) == 0
        assert out.stat().st_size > 10_000 and f"figure: {out}" in capsys.readouterr().out


def test_an_index_outside_the_snapshots_is_one_line_exit_2(files, tmp_path):
    out = tmp_path / "x.png"
    res = subprocess.run(
        [sys.executable, "-m", "src.analyze", "show", files["ising"], "--index", "7", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert "--index 7 outside the 2 snapshots per temperature" in res.stderr and not out.exists()
