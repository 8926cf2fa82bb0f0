"""The stiffness criterion of src.analyze stiffness on classical XY files: the helicity modulus
Upsilon(T; L) crosses the universal jump 2T/pi above T_BKT = 0.8929 (Hasenbusch 2005), closer to it
for the larger L (T*(L) - T_BKT ~ 1/ln^2 L); a file without a stiffness is refused."""

from __future__ import annotations

import math

import pytest
from helpers import sample_runs

from src.analysis.stiffness import stiffness_curves
from src.storage.reader import RunFileError

T_BKT = 0.8929


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    common = ["sweeps.thermalize=300", "sweeps.measure=4000", "temperatures=[0.88, 0.92, 0.96, 1.0, 1.04]"]
    settings = {L: ["model.name=xy", f"model.L={L}", *common] for L in (8, 16)}
    settings["ising"] = ["model.name=ising", "model.L=4", "temperatures=[2.0, 3.0]", "sweeps.measure=50"]
    return sample_runs(tmp_path_factory.mktemp("runs"), settings)


def test_helicity_modulus_crosses_2T_over_pi_above_T_BKT_and_nearer_for_larger_L(files):
    curves = stiffness_curves([files[16], files[8]])
    assert [c["L"] for c in curves] == [8, 16] and {c["estimate"] for c in curves} == {"helicity_modulus"}
    (T8, e8), (T16, e16) = (c["crossing"] for c in curves)
    for T, error in ((T8, e8), (T16, e16)):
        assert T_BKT < T - 4 * error and T + 4 * error < T_BKT + 0.12, (T, error)
    assert T8 - T16 > 4 * math.hypot(e8, e16)  # measured: 0.964(2) and 0.936(2)


def test_a_file_without_a_stiffness_is_refused(files):
    with pytest.raises(RunFileError, match="no stiffness or helicity modulus"):
        stiffness_curves([files["ising"]])
