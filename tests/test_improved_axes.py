"""The improved configuration of embedded-cluster models averaged over several embedding axes
(`snapshots.axes`): unbiased (its mean is the exact two-point function of small lattices, and the
mean of the plain correlation), and much quieter than one axis."""

import numpy as np
import pytest
from helpers import N_SIGMA, assert_agrees, run_chain

from src.exact import transfer_matrix_averages
from src.models import make_model
from src.models.heisenberg import ring_averages
from src.sampling import config as cfg
from src.sampling.sampler import Sampler
from src.stats.jackknife import jackknife


@pytest.mark.parametrize("backend", ["cpu", "array"])
@pytest.mark.parametrize("axes", [2, 3, 6])
def test_clock_against_the_transfer_matrix(axes, backend):
    """Clock q = 6 on the 4 x 4 torus: mean `improved` at r = 1, 2 against G(0, r) and G(r, 0)."""
    model, temperatures = make_model("clock", 4, q=6), [0.7, 1.2]
    measure = 8000 if backend == "cpu" else 2000
    for r in (1, 2):
        _, reps = run_chain(
            model,
            "wolff",
            temperatures,
            seed=7 + r,
            thermalize=200,
            measure=measure,
            backend=backend,
            snapshot=(["improved"], r, axes),
        )
        value, error = jackknife(lambda a: a, reps["improved"])
        exact = [transfer_matrix_averages("clock", 4, 6, 1 / T).correlation for T in temperatures]
        assert_agrees(
            f"improved r={r}", value, error, [(G[0, r] + G[r, 0]) / 2 for G in exact], f"axes {axes}"
        )
        # resolution: the exact value at the other temperature is excluded
        assert np.all(np.abs(value - [(G[0, r] + G[r, 0]) / 2 for G in exact[::-1]]) > N_SIGMA * error)


@pytest.mark.parametrize("backend", ["cpu", "array"])
def test_heisenberg_frame_against_the_exact_2x2_torus(backend):
    model, temperatures = make_model("heisenberg", 2), [0.5, 1.0, 2.0]
    _, reps = run_chain(
        model,
        "sw",
        temperatures,
        seed=3,
        thermalize=200,
        measure=6000,
        backend=backend,
        snapshot=(["improved"], 1, 3),
    )
    value, error = jackknife(lambda a: a, reps["improved"])
    assert_agrees("improved r=1", value, error, [ring_averages(1 / T)["c1"] for T in temperatures], "frame")


@pytest.mark.parametrize("name,q,axes", [("xy", None, 2), ("xy", None, 4), ("heisenberg", None, 3)])
def test_mean_equals_plain_correlation_and_the_noise_falls(name, q, axes):
    model, T = make_model(name, 16, q=q), [0.9 if name == "xy" else 0.7]
    means, sds = {}, {}
    for k in (1, axes):
        _, reps = run_chain(
            model, "sw", T, seed=5, thermalize=300, measure=1500, snapshot=(["improved", "correlation"], 8, k)
        )
        diff, err = jackknife(lambda a, b: a - b, reps["improved"], reps["correlation"])
        assert_agrees("improved - correlation", diff, err, 0.0, f"{name} axes {k}")
        means[k], sds[k] = reps["improved"].mean(), reps["improved"].std()
    # the snapshot-to-snapshot spread of the mean falls more than two-fold (measured: 6x for xy)
    assert sds[axes] < 0.5 * sds[1], sds


def test_config_checks_the_axes():
    base = {"model": {"name": "clock", "L": 8, "q": 6}, "temperatures": [1.0]}
    assert cfg.validate(base).snapshots.axes == 2  # the model's default
    assert cfg.validate({**base, "model": {"name": "clock", "L": 8, "q": 5}}).snapshots.axes == 5
    assert cfg.validate({**base, "model": {"name": "ising", "L": 8}}).snapshots.axes == 1
    assert cfg.validate({**base, "model": {"name": "heisenberg", "L": 8}}).snapshots.axes == 3
    for model, axes in (
        (base["model"], 4),
        ({"name": "ising", "L": 8}, 2),
        ({"name": "heisenberg", "L": 8}, 2),
    ):
        with pytest.raises(cfg.ConfigError, match="snapshots.axes"):
            cfg.validate({**base, "model": model, "snapshots": {"axes": axes}})


def test_one_axis_is_the_single_embedding():
    """axes = 1 gives the improved configuration of the current graph alone (the earlier files)."""
    model = make_model("xy", 6)
    a = Sampler(model, "sw", [0.9, 1.1], seed=2)
    b = Sampler(model, "sw", [0.9, 1.1], seed=2)
    a.sweep(10)
    b.sweep(10)
    np.testing.assert_array_equal(
        a.snapshot(["improved"], 3)["improved"], b.snapshot(["improved"], 3, 1)["improved"]
    )
