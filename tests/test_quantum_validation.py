"""The quantum models through the whole run (config, driver with replica exchange, file, summary)
against exact diagonalisation of the 4 x 4 torus at T = 0.3, 0.5, 1, 2 for Jz = 0 (quantum_xy) and
Jz = 1 (quantum_xxz, the Heisenberg antiferromagnet up to a sublattice rotation). Every comparison is
within 4 jackknife errors; each run must also resolve a 20 % change of temperature (in the energy above
the ground-state plateau T = 0.3, in chi_x everywhere), so it can fail."""

from pathlib import Path

import numpy as np
import pytest
from helpers import assert_agrees, xxz_spectrum_4x4

from src import driver
from src.analysis.stiffness import stiffness_curves
from src.config import load
from src.models import ModelSpec
from src.sampler import Sampler
from src.stats.jackknife import jackknife
from src.storage.reader import RunFile

TEMPERATURES = np.array([0.3, 0.5, 1.0, 2.0])
CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.fixture(scope="module", params=[("quantum_xy", 0.0), ("quantum_xxz", 1.0)], ids=["xy", "xxz"])
def run(request, tmp_path_factory):
    name, Jz = request.param
    out = tmp_path_factory.mktemp(name) / "run.h5"
    settings = {
        "model": {"name": name, "L": 4, **({"Jz": Jz} if name == "quantum_xxz" else {})},
        "temperatures": TEMPERATURES.tolist(),
        "sweeps": {"thermalize": 1000, "measure": 40000},
        "snapshots": {"every": 4, "representations": ["spin", "correlation", "improved"]},
        "output": str(out),
        "seed": 3,
    }
    config = load(None, [f"{key}={value}" for key, value in settings.items()])
    driver.run(config, show_progress=False, log=lambda *a: None)
    return Jz, out


def test_observables_against_exact(run):
    Jz, out = run
    spectrum = xxz_spectrum_4x4(Jz)
    exact, warmer = spectrum.thermal(1 / TEMPERATURES), spectrum.thermal(1 / (1.2 * TEMPERATURES))
    with RunFile(out) as f:
        summary = f.summary
    pairs = {
        "energy": "energy",
        "specific_heat": "specific_heat",
        "chi_z": "chi_z",
        "chi_z_loop": "chi_z",
        "chi_x": "chi_x",
    }
    for name, field in pairs.items():
        value, error = summary[name]
        assert_agrees(name, value, error, getattr(exact, field), f"Jz={Jz}")
    for name, field in (("czz_nn", "czz"), ("cxx_nn", "cxx")):
        value, error = summary[name]
        assert_agrees(name, value, error, getattr(exact, field)[:, 0, 1], f"Jz={Jz}")
    for name, resolved in (("energy", TEMPERATURES > 0.3), ("chi_x", TEMPERATURES > 0)):
        value, error = summary[name]
        distance = np.abs(getattr(warmer, name) - value)[resolved]
        assert np.all(distance > 4 * error[resolved]), f"{name} cannot resolve 20 % in T"


def test_representations_against_exact(run):
    """mean(improved) = 8 C_xx(r) and mean(correlation) = 4 C_zz(r) at r = L/2 = 2."""
    Jz, out = run
    exact = xxz_spectrum_4x4(Jz).thermal(1 / TEMPERATURES)
    with RunFile(out) as f:
        assert f.distance == 2
        for name, target in (("improved", 8 * exact.cxx[:, 0, 2]), ("correlation", 4 * exact.czz[:, 0, 2])):
            per_snapshot = (
                f.snapshots(name).reshape(len(TEMPERATURES), f.snapshots(name).shape[1], -1).mean(-1)
            )
            value, error = jackknife(lambda x: x, per_snapshot, n_bins=32)
            assert_agrees(name, value, error, target, f"Jz={Jz}")
        spins = f.snapshots("spin")
        assert spins.dtype == np.int8 and set(np.unique(spins)) == {-1, 1}


@pytest.mark.parametrize("Jz", [0.0, 0.6])
def test_nearest_neighbour_representations_equal_the_observables(Jz):
    """At r = 1 the representations average, configuration by configuration, to 8 cxx_nn and
    4 czz_nn, which the test above checks against exact diagonalisation; the diagonal energy that
    replica exchange computes from the world lines equals the one from the graph's segments."""
    name = "quantum_xxz" if Jz else "quantum_xy"
    s = Sampler(ModelSpec(name, 6, Jz=Jz), "loop", [0.4, 1.5], seed=2)
    for _ in range(5):
        s.sweep(3)
        obs, reps = s.measure(), s.snapshot(["improved", "correlation"], 1)
        np.testing.assert_allclose(reps["improved"].mean(axis=(1, 2, 3)), 8 * obs["cxx_nn"], rtol=1e-6)
        np.testing.assert_allclose(reps["correlation"].mean(axis=(1, 2, 3)), 4 * obs["czz_nn"], atol=1e-6)
        n_bonds = 2 * 36
        np.testing.assert_allclose(
            s.exchange_weights()[:, 0], Jz * n_bonds * obs["czz_nn"], atol=1e-9 * n_bonds
        )
        np.testing.assert_allclose(s.exchange_weights()[:, 1], 36 * obs["kinks"])


def test_stiffness_crosses_the_universal_jump_above_t_bkt(tmp_path):
    """rho_s(T; L) = 2T/pi at T*(L), which approaches T_BKT = 0.3427 from above as L grows (slowly,
    T*(L) - T_BKT ~ 1/ln^2 L); configs/quantum_xy_stiffness.yaml at reduced statistics."""
    crossings = {}
    for L in (8, 16):
        out = tmp_path / f"L{L}.h5"
        overrides = [f"model.L={L}", "temperatures=[0.34, 0.36, 0.38, 0.40]", "sweeps.measure=6000"]
        config = load(CONFIGS / "quantum_xy_stiffness.yaml", [*overrides, f"output={out}"])
        driver.run(config, show_progress=False, log=lambda *a: None)
        (curve,) = stiffness_curves([out])
        crossings[L] = curve["crossing"]
    for L, (T, error) in crossings.items():
        assert 0.3427 < T - 4 * error and T + 4 * error < 0.3427 + 0.06, (L, T, error)
    assert crossings[16][0] < crossings[8][0], crossings
