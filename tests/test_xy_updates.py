"""Classical XY at L = 16, T = 0.9: Swendsen-Wang, Wolff and Metropolis (with and without
over-relaxation) agree on the energy and the helicity modulus."""

import itertools

import numpy as np
import pytest
from helpers import N_SIGMA, run_chain, summary

from src.models import make_model

RUNS = {
    "sw": dict(every=1, measure=6000),
    "wolff": dict(every=1, measure=6000),
    "metropolis": dict(every=4, measure=6000),
    "metropolis+overrelax": dict(every=2, measure=6000, overrelax=2),
}


@pytest.mark.slow
def test_updates_agree_on_energy_and_helicity():
    model = make_model("xy", 16)
    results = {}
    for label, opts in RUNS.items():
        update = label.split("+")[0]
        series = run_chain(model, update, [0.9], seed=2, thermalize=1000, **opts)
        results[label] = summary(series, model, [0.9])
    for a, b in itertools.combinations(results, 2):
        for q in ("energy", "helicity_modulus"):
            (va, ea), (vb, eb) = (tuple(float(x[0]) for x in results[k][q]) for k in (a, b))
            dev = abs(va - vb) / np.hypot(ea, eb)
            assert dev < N_SIGMA, f"{q}: {a} {va} +- {ea} vs {b} {vb} +- {eb} ({dev:.1f} sigma)"
    # the helicity modulus near T_BKT on L = 16 lies between 2T/pi = 0.573 and 1 (a sanity window)
    assert 0.5 < float(results["sw"]["helicity_modulus"][0][0]) < 1.0
