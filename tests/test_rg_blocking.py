"""Block transformations (src/rg): the majority and block-cluster rules on hand-made configurations,
the run-file transformation, and the RG flow T -> T' they induce for Ising and 3-state Potts."""

import h5py
import numpy as np
import pytest

from src.learning.rg import (
    COARSE_FORMAT,
    block_cluster_labels,
    block_majority,
    block_run_file,
    cluster_labels,
    coarse_improved,
    coarse_representations,
    label_identity,
)
from src.models import make_model
from src.sampling.config import validate
from src.sampling.driver.run import run
from src.sampling.graph import Graph
from src.sampling.sampler import Sampler
from src.stats.jackknife import jackknife
from src.storage.reader import RunFileError

N_SIGMA = 4.0


def blocks(*rows):
    """A 4 x 4 configuration from its four 2 x 2 blocks, each given in reading order."""
    x = np.empty((4, 4), dtype=np.int8)
    for k, (a, b, c, d) in enumerate(rows):
        y, xx = 2 * (k // 2), 2 * (k % 2)
        x[y : y + 2, xx : xx + 2] = [[a, b], [c, d]]
    return x


def test_majority_ising():
    spin = blocks((1, 1, 1, 1), (-1, 1, 1, 1), (-1, 1, 1, -1), (1, -1, -1, -1))
    # 3:1 wins whatever the corner; the 2:2 tie takes the top-left spin
    assert block_majority(spin).tolist() == [[1, 1], [-1, -1]]
    assert np.array_equal(block_majority(-spin), -block_majority(spin))


def test_majority_potts_ties():
    labels = blocks((2, 0, 0, 0), (1, 2, 0, 2), (1, 0, 0, 1), (3, 2, 1, 0))
    # 3:1 -> 0; 2:1:1 -> 2 (not the corner); 2:2 tie -> corner 1; all different -> corner 3
    assert block_majority(labels).tolist() == [[0, 2], [1, 3]]


def test_majority_commutes_with_relabelling():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, size=(5, 8, 8)).astype(np.int8)
    perm = np.array([2, 0, 1], dtype=np.int8)
    assert np.array_equal(block_majority(perm[labels]), perm[block_majority(labels)])


def test_shapes_and_dtypes_with_leading_axes():
    rng = np.random.default_rng(4)
    spin = rng.choice(np.array([-1, 1], dtype=np.int8), size=(3, 5, 8, 8))
    bonds = rng.integers(0, 2, size=(3, 5, 2, 8, 8)).astype(np.uint8)
    assert block_majority(spin).shape == (3, 5, 4, 4) and block_majority(spin).dtype == np.int8
    assert cluster_labels(bonds).shape == (3, 5, 8, 8)
    assert block_cluster_labels(bonds).shape == (3, 5, 4, 4)
    improved = coarse_improved(bonds, 2)
    assert improved.shape == (3, 5, 2, 4, 4) and improved.dtype == np.float32
    # the batch is labelled per configuration: same answer as one at a time
    assert np.array_equal(cluster_labels(bonds)[2, 1], cluster_labels(bonds[2, 1]))


@pytest.mark.parametrize("shape", [(7, 7), (2, 2, 7, 7)])
def test_odd_size_is_refused(shape):
    x = np.zeros(shape, dtype=np.int8)
    transform = block_majority if len(shape) == 2 else block_cluster_labels
    with pytest.raises(ValueError, match="^L = 7 is not divisible by the block size 2$"):
        transform(x)


def test_non_square_is_refused():
    with pytest.raises(ValueError, match="square"):
        block_majority(np.zeros((4, 6), dtype=np.int8))
    with pytest.raises(ValueError, match=r"\(\.\.\., 2, L, L\)"):
        cluster_labels(np.zeros((3, 4, 4), dtype=np.uint8))


def wrapping_cluster_bonds():
    """L = 4 with one cluster A = {(0,0), (0,3), (1,3), (3,0), (3,1)} that wraps both ways
    (sites as (y, x)); every other site is alone."""
    bonds = np.zeros((2, 4, 4), dtype=np.uint8)
    bonds[0, 0, 3] = 1  # (0,3)-(0,0) across the x boundary
    bonds[1, 3, 0] = 1  # (3,0)-(0,0) across the y boundary
    bonds[1, 0, 3] = 1  # (0,3)-(1,3)
    bonds[0, 3, 0] = 1  # (3,0)-(3,1)
    return bonds


def test_cluster_labels_wrap_around_the_boundary():
    labels = cluster_labels(wrapping_cluster_bonds())
    members = {(0, 0), (0, 3), (1, 3), (3, 0), (3, 1)}
    in_a = np.array([[(y, x) in members for x in range(4)] for y in range(4)])
    assert np.all(labels[in_a] == 0)  # canonical label: the flat index of the first site
    assert np.array_equal(labels[~in_a], np.flatnonzero(~in_a))


def test_block_cluster_rule_by_hand():
    labels = block_cluster_labels(wrapping_cluster_bonds())
    # blocks (0,0): A 1 of 4, all tied -> corner (A); (0,1): A 2 of 4; (1,0): A 2 of 4;
    # (1,1): four single sites -> its corner (2,2), flat index 10
    assert labels.tolist() == [[0, 0], [0, 10]]
    improved = coarse_improved(wrapping_cluster_bonds(), 1)
    assert improved[0].tolist() == [[1, 1], [0, 0]]  # x-hat: block pairs (I, I + x-hat), periodic
    assert improved[1].tolist() == [[1, 0], [1, 0]]  # y-hat


def test_block_cluster_ignores_the_labelling():
    """Renumbering the clusters at random changes no coarse `improved` value."""
    rng = np.random.default_rng(5)
    bonds = (rng.random((20, 2, 8, 8)) < 0.45).astype(np.uint8)
    labels = cluster_labels(bonds)
    renumbered = rng.permutation(labels.size)[labels + 64 * np.arange(20)[:, None, None]]
    for r in (1, 2):
        coarse = label_identity(block_majority(labels), r)
        assert np.array_equal(label_identity(block_majority(renumbered), r), coarse)
        assert np.array_equal(coarse, coarse_improved(bonds, r))


@pytest.mark.parametrize("name,q,T", [("ising", 2, 2.4), ("potts", 3, 1.0)])
def test_cluster_labels_reproduce_the_sampler_improved(name, q, T):
    s = Sampler(make_model(name, 12, q=q), "sw", [T, 1.5 * T], seed=2)
    s.sweep(20, tune=True)
    for r in (1, 5, 6):
        snap = s.snapshot(["fk_bonds", "improved"], r)
        assert np.array_equal(label_identity(cluster_labels(snap["fk_bonds"]), r), snap["improved"])


# --- the transformation of a run file ---------------------------------------------------------


def small_run(path, representations):
    config = {
        "model": {"name": "potts", "L": 8, "q": 3},
        "temperatures": [0.9, 1.1],
        "sweeps": {"thermalize": 20, "measure": 400, "every": 1},
        "snapshots": {"every": 50, "representations": representations, "distance": "half"},
        "output": str(path),
        "backend": "cpu",
    }
    return run(validate(config), show_progress=False, log=lambda *a: None)


@pytest.mark.filterwarnings("ignore:series of")
def test_block_run_file(tmp_path):
    source = small_run(tmp_path / "run.h5", ["spin", "fk_bonds"])
    target = block_run_file(source, tmp_path / "coarse.h5", chunk=3)
    with h5py.File(source, "r") as f, h5py.File(target, "r") as g:
        assert g.attrs["format"] == COARSE_FORMAT and g.attrs["L"] == 4 and g.attrs["distance"] == 2
        assert np.array_equal(g["temperatures"][:], f["temperatures"][:])
        fine = {k: f["snapshots"][k][:] for k in ("spin", "fk_bonds")}
        expected = coarse_representations(fine, ["spin", "improved"], 2)
        for k, v in expected.items():
            assert g["snapshots"][k].shape == v.shape == (2, 8) + v.shape[2:]
            assert g["snapshots"][k].dtype == make_model("potts", 8, q=3).stored_dtype(k)  # int8, uint8
            assert np.array_equal(g["snapshots"][k][:], v)
    with pytest.raises(FileExistsError):
        block_run_file(source, target)


@pytest.mark.filterwarnings("ignore:series of")
def test_block_run_file_needs_the_bonds(tmp_path):
    source = small_run(tmp_path / "run.h5", ["spin", "improved"])
    with pytest.raises(RunFileError, match="no representation 'fk_bonds' \\(has: improved, spin\\)"):
        block_run_file(source, tmp_path / "coarse.h5")
    assert not list(tmp_path.glob("coarse*"))


# --- the RG flow: match the coarse L = 16 -> 8 lattice to Monte Carlo of L = 8 ----------------

T_C = {"ising": 2.269185, "potts": 0.994973}
FINE_T = np.array([0.8, 1.0, 1.25])  # in units of T_c: well below, at, well above
GRID_T = np.linspace(0.55, 1.95, 41)  # L = 8 reference curves; spacing 0.035 T_c
N_MEASURE = 2**15
OBSERVABLES = ("corr_nn", "m2", "improved_nn", "improved_half")
# The coarse configuration at T_c is critical but carries further-neighbour couplings, so matching
# one of its observables to the nearest-neighbour model lands near, not at, T_c (measured: up to
# 0.9 % of T_c, Ising corr_nn; see docs/rg.md). Allowed on top of the statistical 4 sigma.
CRITICAL_OFFSET = 0.02


def state_labels(model, spin):
    """Stored labels (src/models/ising.py) of a spin configuration: ising s = 1 - 2k."""
    return ((1 - spin) // 2).astype(np.int8) if model.name == "ising" else spin


def coarse_observables(coarse, spin, bonds) -> dict:
    """The OBSERVABLES of the block transforms of a batch of fine (spin, fk_bonds), shape (R,)."""
    labels = block_cluster_labels(bonds)
    obs = coarse.measure(state_labels(coarse, block_majority(spin)), Graph(None, labels, None), np)
    obs["improved_half"] = label_identity(labels, coarse.L // 2).reshape(len(labels), -1).mean(axis=1)
    return {k: obs[k] for k in OBSERVABLES}


def fine_series(model, coarse, temperatures, seed, chunk=1024) -> dict:
    s = Sampler(model, "sw", temperatures, seed=seed)
    s.sweep(500, tune=True)
    series = {k: np.empty((len(temperatures), N_MEASURE)) for k in OBSERVABLES}
    for start in range(0, N_MEASURE, chunk):
        snaps = []
        for _ in range(chunk):
            s.sweep(1)
            snaps.append(s.snapshot(["spin", "fk_bonds"], 1))
        spin = np.concatenate([x["spin"] for x in snaps])  # (chunk x n_T, L, L), temperature fastest
        bonds = np.concatenate([x["fk_bonds"] for x in snaps])
        for k, v in coarse_observables(coarse, spin, bonds).items():
            series[k][:, start : start + chunk] = v.reshape(chunk, -1).T
    return series


def reference_series(coarse, temperatures, seed) -> dict:
    s = Sampler(coarse, "sw", temperatures, seed=seed)
    s.sweep(500, tune=True)
    series = {k: np.empty((len(temperatures), N_MEASURE)) for k in OBSERVABLES}
    for i in range(N_MEASURE):
        s.sweep(1)
        obs = s.measure()
        obs["improved_half"] = s.snapshot(["improved"], coarse.L // 2)["improved"].mean(axis=(1, 2, 3))
        for k in OBSERVABLES:
            series[k][:, i] = obs[k]
    return series


def matching_temperature(values, curves, grid):
    """T' where each decreasing reference curve (k, n_grid) first falls below each value (k, n):
    linear interpolation between the grid points around the crossing; NaN off the grid."""
    below = curves[:, None, :] < values[:, :, None]
    i = below.argmax(axis=-1)
    inside = below.any(axis=-1) & (i > 0)
    i = np.maximum(i, 1)
    hi = np.take_along_axis(curves, i, axis=-1)
    lo = np.take_along_axis(curves, i - 1, axis=-1)
    T = grid[i - 1] + (grid[i] - grid[i - 1]) * (lo - values) / (lo - hi)
    return np.where(inside, T, np.nan)


@pytest.fixture(scope="module", params=[("ising", 2), ("potts", 3)], ids=["ising", "potts3"])
def flow(request):
    """{observable: (T, T', error of T')} for the three FINE_T, with a jackknife over the bins
    of both the coarse series and the reference curves (independent chains)."""
    name, q = request.param
    model, coarse = make_model(name, 16, q=q), make_model(name, 8, q=q)
    T, grid = FINE_T * T_C[name], GRID_T * T_C[name]
    fine = fine_series(model, coarse, T, seed=11)
    ref = reference_series(coarse, grid, seed=12)
    out = {}
    for k in OBSERVABLES:
        t_prime, err = jackknife(lambda v, c: matching_temperature(v, c, grid), fine[k], ref[k])
        out[k] = (T, t_prime, err)
        print(
            f"{name} {k}: "
            + "  ".join(f"{a:.4f} -> {b:.4f}({1e4 * e:.0f})" for a, b, e in zip(T, t_prime, err))
        )
    return name, out


@pytest.mark.parametrize("observable", OBSERVABLES)
def test_rg_flow_goes_the_right_way(flow, observable):
    name, table = flow
    T, t_prime, err = table[observable]
    assert np.all(np.isfinite(t_prime)), f"{name} {observable}: T' off the reference grid: {t_prime}"
    shift = (t_prime - T) / err
    context = f"{name} {observable}: T {T} -> T' {t_prime} +- {err}"
    assert shift[0] < -N_SIGMA, f"{context}: below T_c the coarse lattice must look colder"
    assert shift[2] > N_SIGMA, f"{context}: above T_c the coarse lattice must look hotter"
    tolerance = N_SIGMA * err[1] + CRITICAL_OFFSET * T_C[name]
    assert abs(t_prime[1] - T[1]) < tolerance, f"{context}: at T_c the flow must be stationary"
