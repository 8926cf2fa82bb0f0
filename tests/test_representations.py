"""Every model at three temperatures: the mean of `improved` equals the mean of `correlation`
(factor 1, see src/sampling/graph/configurations.py) at r = 1 and r = L/2; and shapes and types."""

import numpy as np
import pytest
from helpers import assert_agrees, run_chain

from src.models import make_model
from src.sampling.representations import NAMES as REPRESENTATIONS
from src.sampling.sampler import Sampler
from src.stats.jackknife import jackknife

CASES = [
    ("ising", 2, [2.0, 2.269185, 2.6]),
    ("potts", 3, [0.9, 0.995, 1.1]),
    ("clock", 6, [0.6, 0.9, 1.2]),
    ("xy", 2, [0.7, 0.9, 1.2]),
]


@pytest.mark.parametrize("r", [1, 4])
@pytest.mark.parametrize("name,q,temperatures", CASES)
def test_improved_mean_equals_correlation_mean(name, q, temperatures, r):
    model = make_model(name, 8, q=q)
    _, reps = run_chain(
        model,
        "sw",
        temperatures,
        seed=7,
        thermalize=300,
        measure=3000,
        snapshot=(["correlation", "improved"], r),
    )
    diff, err = jackknife(lambda a, b: a - b, reps["improved"], reps["correlation"])
    assert_agrees("improved - correlation", diff, err, 0.0, f"{name} r={r}")
    if not model.fortuin_kasteleyn:
        return  # one random embedding axis per graph adds noise: no variance reduction to check
    # for Fortuin-Kasteleyn clusters the improved estimator is the quieter one
    _, e_plain = jackknife(lambda a: a, reps["correlation"])
    _, e_impr = jackknife(lambda a: a, reps["improved"])
    assert np.all(e_impr < 1.2 * e_plain)


@pytest.mark.parametrize("name,q", [("ising", 2), ("potts", 3), ("clock", 6), ("xy", 2)])
def test_representation_shapes(name, q):
    model = make_model(name, 6, q=q)
    s = Sampler(model, "wolff", [1.0, 2.0], seed=1)
    s.sweep(5, tune=True)
    reps = s.snapshot(REPRESENTATIONS, 3)
    assert reps["spin"].shape == (2, 6, 6)
    for k in ("correlation", "fk_bonds", "improved"):
        assert reps[k].shape == (2, 2, 6, 6)
    assert set(np.unique(reps["fk_bonds"])) <= {0, 1}
    if name == "ising":
        assert set(np.unique(reps["spin"])) <= {-1, 1}
    # bonds join only sites of one cluster, so a bonded pair is always improved-correlated at r = 1
    r1 = s.snapshot(["fk_bonds", "improved"], 1)
    assert np.all(r1["improved"][r1["fk_bonds"] == 1] > 0)
