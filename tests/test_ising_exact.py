"""Ising L = 16 on the torus: energy and specific heat of every update against the exact
Kaufman / Ferdinand-Fisher values at T = 2.0, T_c and 2.6."""

import numpy as np
import pytest
from helpers import assert_agrees, run_chain, summary

from src.exact import ising_torus
from src.models import make_model

TEMPERATURES = [2.0, 2.269185, 2.6]
# (update, sweeps between measurements, measurements): enough for a ~1 % error on c
RUNS = [("sw", 1, 20000), ("wolff", 1, 20000), ("metropolis", 4, 25000)]


@pytest.mark.slow
@pytest.mark.parametrize("update,every,measure", RUNS)
def test_energy_and_specific_heat(update, every, measure):
    model = make_model("ising", 16)
    series = run_chain(model, update, TEMPERATURES, seed=11, thermalize=2000, measure=measure, every=every)
    s = summary(series, model, TEMPERATURES)
    exact = [ising_torus(16, 1.0 / T) for T in TEMPERATURES]
    assert_agrees("energy", *s["energy"], [x.energy for x in exact], update)
    assert_agrees("specific_heat", *s["specific_heat"], [x.specific_heat for x in exact], update)
    # the test resolves the physics: error bars well below the differences between temperatures
    assert np.all(s["specific_heat"][1] < 0.05 * np.array([x.specific_heat for x in exact]))
