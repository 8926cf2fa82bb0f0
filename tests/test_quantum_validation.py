"""The quantum models through the whole run (config, driver with replica exchange, file, summary)
against exact diagonalisation of the 4 x 4 torus at T = 0.3, 0.5, 1, 2 for Jz = 0 (quantum_xy) and
Jz = 1 (quantum_xxz, the Heisenberg antiferromagnet up to a sublattice rotation). Every comparison is
within 4 jackknife errors; each run must also resolve a 20 % change of temperature (in the energy above
the ground-state plateau T = 0.3, in chi_x everywhere), so it can fail."""

from pathlib import Path

import numpy as np
import pytest
from helpers import assert_agrees, xxz_spectrum_4x4

from src.analysis.stiffness import stiffness_curves
from src.models import make_model
from src.sampling.config import load
from src.sampling.driver import run as driver
from src.sampling.sampler import Sampler
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


@pytest.mark.parametrize("Jz", [0.0, 1.0])
def test_representation_means_at_r1_and_r2(Jz):
    """mean(improved) = 8 C_xx(r), mean(correlation) = 4 C_zz(r) at r = 1, 2 on 4 x 4 at T = 0.5, 1;
    and, configuration by configuration, the diagonal energy that replica exchange computes from the
    world lines equals (Jz / 4) x the sum of `correlation` at r = 1 (the tau-averaged bond products)."""
    temperatures = np.array([0.5, 1.0])
    exact = xxz_spectrum_4x4(Jz).thermal(1 / temperatures)
    s = Sampler(make_model("quantum_xxz" if Jz else "quantum_xy", 4, Jz=Jz), "loop", temperatures, seed=4)
    s.sweep(500)
    n = 12_000
    means = {(name, r): np.empty((2, n)) for name in ("improved", "correlation") for r in (1, 2)}
    for k in range(n):
        s.sweep(1)
        for r in (1, 2):
            reps = s.snapshot(["improved", "correlation"], r)
            for name, value in reps.items():
                means[name, r][:, k] = value.mean(axis=(1, 2, 3))
        if k % 1000 == 0:
            weights = s.exchange_weights()
            np.testing.assert_allclose(
                weights[:, 0], Jz / 4 * 32 * means["correlation", 1][:, k], atol=1e-5
            )  # float32
            assert np.all(weights[:, 1] == [c.n_kinks for c in s.backend.chains])
    for (name, r), series in means.items():
        target = 8 * exact.cxx[:, 0, r] if name == "improved" else 4 * exact.czz[:, 0, r]
        value, error = jackknife(lambda x: x, series, n_bins=32)
        assert_agrees(f"{name}(r={r})", value, error, target, f"Jz={Jz}")


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
