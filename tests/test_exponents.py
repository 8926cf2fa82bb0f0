"""Critical exponents from a sequence of sizes (src/analysis/exponents.py): the fit and its errors on
synthetic power laws where they are known, and Monte Carlo of the Ising model at T_c against the
exact eta = 1/4 and gamma/nu = 7/4."""

import numpy as np
import pytest
from helpers import N_SIGMA, sample_runs, stand_in_for_generated

from src.analysis.exponents import QUANTITIES, Series, exponents_report, fit
from src.analysis.inverse_rg import InverseRGError
from src.models import make_model

T_C = 2.269185
SIZES = np.array([16, 32, 64, 128])


def synthetic(
    rng, n: int = 256, eta: float = 0.25, paired: bool = True, shared: bool | None = None
) -> Series:
    """Y(L) = L^(-eta) (1 + 0.3 e_i + 0.1 d_{L,i}), the same for the three quantities (chi with
    exponent 2 - eta). shared (default: paired): e_i is shared by the sizes of row i (one source
    configuration); otherwise every size draws its own (independent runs)."""
    shared = paired if shared is None else shared
    common = rng.normal(size=n if shared else (len(SIZES), n))
    values = {}
    for name, (_, symbol, _) in QUANTITIES.items():
        power = -eta if symbol == "η" else 2 - eta
        noise = 1 + 0.3 * common + 0.1 * rng.normal(size=(len(SIZES), n))
        values[name] = SIZES[:, None] ** power * noise
    if not paired:
        values = {k: list(v) for k, v in values.items()}
    return Series("synthetic", make_model("ising", 16), T_C, SIZES, values, paired)


@pytest.mark.parametrize("paired", [True, False])
def test_fit_recovers_the_exponent_with_honest_errors(paired):
    """Over 300 synthetic data sets the fitted eta is unbiased (mean within 4 sigma of 1/4) and its
    spread matches the reported error (ratio within 0.8 ... 1.25: 300 samples know an s.d. to 4 %);
    the effective exponents of successive sizes too. Paired rows share their noise, which cancels
    in the slope; fitted as independent sizes the same data give larger errors."""
    rng = np.random.default_rng(7)
    rows = [fit(synthetic(rng, paired=paired), "g_half") for _ in range(300)]
    values, errors = np.array([r["value"] for r in rows]), np.array([r["error"] for r in rows])
    assert abs(values.mean() - 0.25) < N_SIGMA * values.std() / len(values) ** 0.5
    assert 0.8 < values.std() / errors.mean() < 1.25, (values.std(), errors.mean())
    local = np.array([r["local"] for r in rows])
    local_errors = np.array([r["local_error"] for r in rows])
    assert np.all(np.abs(local.std(axis=0) / local_errors.mean(axis=0) - 1) < 0.25)
    if paired:
        independent = fit(synthetic(np.random.default_rng(8), paired=False, shared=True), "g_half")
        assert errors.mean() < 0.5 * independent["error"]


@pytest.fixture(scope="module")
def critical_runs(tmp_path_factory):
    common = ["temperatures=[2.269185]", "sweeps.thermalize=200", "sweeps.measure=4000", "snapshots.every=2"]
    common += ["snapshots.representations=[spin]"]
    settings = {L: [*common, f"model.L={L}", f"seed={L}"] for L in (8, 16, 32)}
    return sample_runs(tmp_path_factory.mktemp("critical"), settings)


def test_monte_carlo_at_tc_gives_the_exact_exponents(critical_runs, tmp_path):
    """Swendsen-Wang at T_c, L = 8, 16, 32 (2000 snapshots each): eta from G(L/2) and G(L/4) and
    gamma/nu from L^2 m^2 within 4 sigma of 1/4 and 7/4 (measured: 0.239(23), 0.241(18), 1.765(20)).
    The Monte Carlo files stand in for a generated folder too (they are three sizes at T_c)."""
    folder = tmp_path / "as_generated"
    folder.mkdir()
    for L, path in critical_runs.items():
        stand_in_for_generated(path, folder / f"L{L}.h5")
    text = exponents_report(list(critical_runs.values()), {"mc": folder}, tmp_path / "out")
    assert (tmp_path / "out" / "exponents.png").exists() and "| mc | 8 16 32 |" in text
    rows = (tmp_path / "out" / "exponents.csv").read_text().splitlines()[1:]
    assert len(rows) == 6
    for row in rows:
        cells = row.split(",")
        value, error, exact = float(cells[6]), float(cells[7]), float(cells[8])
        assert abs(value - exact) < N_SIGMA * error, row


def test_bad_input_is_one_error(critical_runs, tmp_path):
    with pytest.raises(InverseRGError, match="none: no such directory of generated files"):
        exponents_report([], {"few": tmp_path / "none"}, tmp_path / "out")
    (tmp_path / "two").mkdir()
    for L in (8, 16):
        stand_in_for_generated(critical_runs[L], tmp_path / "two" / f"L{L}.h5")
    with pytest.raises(
        InverseRGError, match=r"two: the fit needs three or more different sizes \(have L = \[8, 16\]\)"
    ):
        exponents_report([], {"two": tmp_path / "two"}, tmp_path / "out")
