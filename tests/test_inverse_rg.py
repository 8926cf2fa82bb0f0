"""The inverse-RG analysis (src/analysis/inverse_rg.py): interpolation and matching on synthetic
curves, and end to end on Monte Carlo files standing in for generated ones, where the flow is known:
an independent run gives the diagonal T' = T, a run sampled at T_s = T* + k (T - T*) and relabelled
T gives T' = T_s and the fixed point T*."""

from __future__ import annotations

import csv
from pathlib import Path

import h5py
import numpy as np
import pytest
from helpers import N_SIGMA, sample_runs, stand_in_for_generated

from src.analysis.inverse_rg import (
    OBSERVABLES,
    InverseRGError,
    comparisons,
    contraction,
    fixed_point,
    ideal_temperature,
    interpolate,
    inverse_rg_report,
    match_temperature,
    parse_sides,
)
from src.models import make_model
from src.storage.reader import RunFileError

GRID = "{min: 1.8, max: 2.8, count: 21, spacing: linear}"  # spacing 0.05
MIDPOINTS = [1.925, 2.125, 2.325, 2.525, 2.725]
T_STAR, K = 2.3, 1.5
LABELS = np.array([2.0, 2.1, 2.2, 2.4, 2.5, 2.6])
SAMPLED = np.round(T_STAR + K * (LABELS - T_STAR), 10)  # 1.85 ... 2.75, on the grid
MONOTONIC = [n for n in OBSERVABLES if n != "susceptibility_connected"]  # chi' peaks inside the grid


# -- synthetic curves --------------------------------------------------------------------------
def test_interpolation_is_linear_with_propagated_errors():
    grid, values, errors = np.array([1.0, 2.0, 4.0]), np.array([3.0, 5.0, 1.0]), np.array([0.3, 0.4, 0.1])
    value, error = interpolate(grid, values, errors, [1.5, 2.0, 3.0, 4.0, 0.5, 4.5])
    assert np.allclose(value[:4], [4.0, 5.0, 3.0, 1.0])
    assert np.allclose(error[:4], [np.hypot(0.15, 0.2), 0.4, np.hypot(0.2, 0.05), 0.1])
    assert np.isnan(value[4:]).all() and np.isnan(error[4:]).all()


def test_matched_temperature_and_its_error_against_resampling():
    grid, values, errors, target, target_error = [1.0, 2.0], [1.0, 3.0], [0.1, 0.2], 2.2, 0.05
    match = match_temperature(grid, values, errors, target, target_error, near=1.5)
    assert np.isclose(match.T, 1.6) and match.solutions == 1 and not match.note
    rng = np.random.default_rng(1)
    y1, y2 = rng.normal(values, errors, size=(20000, 2)).T
    level = rng.normal(target, target_error, 20000)
    resampled = 1.0 + (level - y1) / (y2 - y1)
    assert np.isclose(match.error, resampled.std(), rtol=0.03)


def test_ideal_flow_and_its_contraction():
    """The ideal inverse RG contracts T - T_c by 2^(-k/nu) (Ising nu = 1, 3-state Potts 5/6); a flow
    T' - T_c = kappa (T - T_c) gives back kappa on both sides of T_c, NaN T' left out."""
    ising, potts = make_model("ising", 8), make_model("potts", 8, q=3)
    T = np.array([2.0, 2.1, 2.5, 2.8])
    assert np.allclose(ideal_temperature(ising, T, 1) - 2.269185, (T - 2.269185) / 2)
    assert np.allclose(ideal_temperature(potts, [1.2], 2) - 0.994973, 0.205027 * 2 ** (-2.4))
    assert np.isnan(ideal_temperature(make_model("potts", 8, q=6), [1.0], 1)).all()  # first order
    T_prime = 2.269185 + np.array([0.3, 0.3, 0.4, np.nan]) * (T - 2.269185)
    below, above = contraction(T, T_prime, 2.269185)
    assert np.isclose(below, 0.3) and np.isclose(above, 0.4)


def test_matching_hits_grid_points_takes_the_nearest_solution_and_names_the_range():
    grid, errors = np.arange(5.0), np.full(5, 0.1)
    for k in range(5):  # an exact grid value is found at either end and inside
        assert match_temperature(grid, grid**2, errors, k**2, 0.0, near=k).T == k
    peak = 4 - (grid - 2) ** 2  # two solutions of 3: T = 1 and 3
    assert match_temperature(grid, peak, errors, 3.0, 0.0, near=2.9).T == 3.0
    below, above = (match_temperature(grid, 2 * grid, errors, v, 0.0, 2.0) for v in (-1.0, 9.0))
    assert np.isnan(below.T) and below.solutions == 0 and "T' < 0" in below.note
    assert np.isnan(above.T) and "T' > 4" in above.note


# -- sampled files -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    def ising(L, temperatures, measure, seed, reps="[spin,improved]"):
        return [
            "model.name=ising",
            f"model.L={L}",
            f"temperatures={temperatures}",
            "sweeps.thermalize=200",
            f"sweeps.measure={measure}",
            "snapshots.every=4",
            f"snapshots.representations={reps}",
            f"seed={seed}",
        ]

    potts = ["model.name=potts", "model.q=3", "model.L=4", "sweeps.measure=400"]
    settings = {
        "mc8": ising(8, GRID, 4000, 1),
        "same8": ising(8, MIDPOINTS, 4000, 2),
        "affine8": ising(8, SAMPLED.tolist(), 4000, 3),
        "spin4": ising(4, [2.0, 2.5], 400, 4, reps="[spin]"),
        "improved4": ising(4, [2.0, 2.5], 400, 5),
        "potts_mc4": [*potts, "temperatures={min: 0.8, max: 1.2, count: 5, spacing: linear}", "seed=6"],
        "potts_gen4": [*potts, "temperatures=[0.9, 1.1]", "seed=7"],
    }
    folder = tmp_path_factory.mktemp("runs")
    files = sample_runs(folder, settings)
    for name, target in (("same8", "L8"), ("affine8", "L8"), ("improved4", "L4"), ("potts_gen4", "L4")):
        (folder / name).mkdir()
        stand_in_for_generated(files[name], folder / name / f"{target}.h5")
        files[f"dir_{name}"] = folder / name
    with h5py.File(files["dir_affine8"] / "L8.h5", "r+") as f:
        f["temperatures"][...] = LABELS
    (folder / "self").mkdir()
    stand_in_for_generated(files["mc8"], folder / "self" / "L8.h5")
    files["dir_self"] = folder / "self"
    return files


def by_name(comparison):
    return {name: np.array([(m.T, m.error) for m in flow]).T for name, flow in comparison.flow.items()}


def test_an_independent_run_flows_along_the_diagonal_and_agrees_within_errors(runs):
    [c] = comparisons([runs["mc8"]], {"mc": runs["dir_same8"]})
    assert list(c.generated.estimates) == list(OBSERVABLES)
    for name, (T_prime, error) in by_name(c).items():
        found = np.isfinite(T_prime)
        assert found.all() or name not in MONOTONIC, name
        assert np.all(np.abs(T_prime - c.generated.T)[found] < N_SIGMA * error[found]), (name, T_prime, error)
        (value, value_error), (mc, mc_error) = c.generated.estimates[name], c.at_T[name]
        z = (value - mc) / np.hypot(value_error, mc_error)
        assert np.all(np.abs(z) < N_SIGMA), (name, z)


def test_the_file_itself_matches_exactly(runs):
    [c] = comparisons([runs["mc8"]], {"self": runs["dir_self"]})
    for name, (T_prime, _) in by_name(c).items():
        assert np.allclose(T_prime, c.generated.T, rtol=0, atol=1e-12), name
        assert np.array_equal(c.at_T[name][0], c.generated.estimates[name][0])


def test_relabelled_temperatures_give_the_known_flow_and_fixed_point(runs):
    [c] = comparisons([runs["mc8"]], {"affine": runs["dir_affine8"]})
    assert np.array_equal(c.generated.T, LABELS)
    for name in MONOTONIC:
        T_prime, error = by_name(c)[name]
        assert np.all(np.abs(T_prime - SAMPLED) < N_SIGMA * error), (name, T_prime, error)
        far = np.abs(LABELS - T_STAR) > 0.15  # shifts of 0.1 and more, 10 errors of T'
        assert np.all(np.abs(T_prime - LABELS)[far] > N_SIGMA * error[far]), name
        T_fixed, T_fixed_error = c.fixed[name]
        assert abs(T_fixed - T_STAR) < N_SIGMA * T_fixed_error and T_fixed_error < 0.03, (name, c.fixed[name])
    assert fixed_point(LABELS[:3], c.flow["energy"][:3]) is None  # all below T*: no crossing


def test_report_tables_csv_and_figures(runs, tmp_path):
    sides = {"same": runs["dir_same8"], "affine": runs["dir_affine8"], "potts": runs["dir_potts_gen4"]}
    text = inverse_rg_report([runs["mc8"], runs["potts_mc4"]], sides, tmp_path)
    assert "literature T_c = 2.269185" in text and "literature T_c = 0.994973" in text
    assert (tmp_path / "report.md").read_text().strip() in text
    for name in (
        "observables_ising.png",
        "flow_ising.png",
        "collapse_ising.png",
        "observables_potts3.png",
        "flow_potts3.png",
        "collapse_potts3.png",
    ):
        assert (tmp_path / name).stat().st_size > 10_000
    with open(tmp_path / "comparison.csv") as f:
        rows = list(csv.DictReader(f))
    n_potts = 2 * len(OBSERVABLES)
    assert len(rows) == (len(MIDPOINTS) + len(LABELS)) * len(OBSERVABLES) + n_potts
    with open(tmp_path / "errors.csv") as f:
        errors = {(r["side"], r["observable"]): r for r in csv.DictReader(f)}
    assert len(errors) == 3 * len(OBSERVABLES)
    for name in MONOTONIC:  # the identity is consistent with zero, the relabelled file is not
        same, affine = errors["same", name], errors["affine", name]
        assert float(same["max_abs_z"]) < N_SIGMA and float(affine["max_abs_z"]) > N_SIGMA, name
        assert abs(float(affine["T_fixed"]) - T_STAR) < N_SIGMA * float(affine["T_fixed_error"])
    assert {r["model"] for r in rows} == {"ising", "potts q=3"}


# -- one-line errors ---------------------------------------------------------------------------
def one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_mismatched_model_and_size(runs):
    with pytest.raises(InverseRGError) as err:
        comparisons([runs["spin4"]], {"potts": runs["dir_potts_gen4"]})
    assert one_line(err).endswith("no Monte Carlo file of potts q=3 L = 4 (have: ising L = 4)")
    with pytest.raises(InverseRGError) as err:
        comparisons([runs["spin4"]], {"mc": runs["dir_same8"]})
    assert one_line(err).endswith("no Monte Carlo file of ising L = 8 (have: ising L = 4)")
    with pytest.raises(InverseRGError) as err:
        comparisons([runs["mc8"], runs["mc8"]], {"mc": runs["dir_same8"]})
    assert "both hold ising L = 8 (one Monte Carlo file per size)" in one_line(err)


def test_missing_representation_or_directory(runs, tmp_path):
    with pytest.raises(RunFileError) as err:
        comparisons([runs["spin4"]], {"graph": runs["dir_improved4"]})
    assert one_line(err).endswith("no representation 'improved' (has: spin)")
    with pytest.raises(InverseRGError) as err:
        comparisons([runs["mc8"]], {"graph": tmp_path / "absent"})
    assert one_line(err).endswith("absent: no such directory of generated files")
    with pytest.raises(InverseRGError) as err:
        comparisons([runs["mc8"]], {"graph": tmp_path})
    assert one_line(err).endswith("no generated files L<L>.h5")
    with pytest.raises(InverseRGError) as err:
        parse_sides(["spin=a", "graph"])
    assert one_line(err) == "--generated graph: expected LABEL=DIR, e.g. spin=results/gen_spin"
    assert parse_sides(["spin=a", "graph=b/c"]) == {"spin": Path("a"), "graph": Path("b/c")}
