"""The array (GPU) backend: labelling, exactness on small tori, batching, seeding. Every test runs
on NumPy; those taking `device` run on CuPy as well where a CUDA device is visible (skipped
otherwise), so a GPU machine runs the same checks with `python -m pytest tests/test_array_backend.py`."""

from functools import cache

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from src.models import make_model
from src.sampling.backends.array import ArrayBackend, array_module, cuda_visible
from src.sampling.backends.cpu import CpuBackend
from src.sampling.backends.lattice import UPDATES
from src.sampling.graph import Graph, labelling
from src.sampling.updates import array_kernels as ak
from src.stats import binned_error

N_BINS = 20


# the `device` argument of ArrayBackend: NumPy everywhere, CuPy on a machine with a GPU
DEVICES = [
    pytest.param(False, id="numpy"),
    pytest.param(True, id="cupy", marks=pytest.mark.skipif(not cuda_visible(), reason="no CUDA device")),
]
host = ak.to_host


def scipy_labels(bonds: np.ndarray) -> np.ndarray:
    """Reference labelling, (R, N): the smallest site index of every site's component."""
    R, _, L, _ = bonds.shape
    n = L * L
    idx = np.arange(n).reshape(L, L)
    far = (np.roll(idx, -1, axis=1), np.roll(idx, -1, axis=0))
    out = np.empty((R, n), dtype=np.int64)
    for r in range(R):
        rows, cols = [], []
        for d in (0, 1):
            occupied = bonds[r, d].astype(bool)
            rows.append(idx[occupied])
            cols.append(far[d][occupied])
        rows, cols = np.concatenate(rows), np.concatenate(cols)
        graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
        _, comp = connected_components(graph, directed=False)
        smallest = np.full(comp.max() + 1, n)
        np.minimum.at(smallest, comp, np.arange(n))
        out[r] = smallest[comp]
    return out


# ------------------------------------------------------------------------------------------
# (1) labelling


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("L", [2, 3, 5, 8, 16])
def test_labels_are_the_connected_components(L, device):
    xp = array_module(device)
    rng = np.random.default_rng(L)
    for p in (0.0, 0.3, 0.5, 0.6, 0.9, 1.0):
        bonds = (rng.random((6, 2, L, L)) < p).astype(np.uint8)
        glob = host(labelling.label_components(xp, xp.asarray(bonds)))
        local = labelling.local_labels(np, glob)
        np.testing.assert_array_equal(local, scipy_labels(bonds))
        # global labels are offset by replica, so different replicas never share a label
        np.testing.assert_array_equal(glob - local, np.repeat(np.arange(6)[:, None] * L * L, L * L, axis=1))


@pytest.mark.parametrize("L", [1, 2, 3, 5, 8, 16, 33])
def test_labels_of_stored_bonds_are_the_connected_components(L):
    """cluster_labels (the union-find of stored fk_bonds) against scipy, at every bond density."""
    rng = np.random.default_rng(L + 100)
    for p in (0.0, 0.3, 0.5, 0.6, 0.9, 1.0):
        bonds = (rng.random((6, 2, L, L)) < p).astype(np.uint8)
        np.testing.assert_array_equal(labelling.cluster_labels(bonds).reshape(6, -1), scipy_labels(bonds))


def test_labels_of_clusters_wrapping_the_boundary():
    L = 6
    bonds = np.zeros((3, 2, L, L), dtype=np.uint8)
    bonds[0, 0, 2, :] = 1  # row 2 closed into a ring through the x boundary
    bonds[1, 1, :, 4] = 1  # column 4 closed through the y boundary
    bonds[1, 0, 0, L - 1] = 1  # (0, L-1) -- (0, 0) across the x boundary only
    # a spiral that winds around both directions
    bonds[2, 0, 5, 3:] = 1
    bonds[2, 1, 5, 0] = 1
    bonds[2, 1, 0:3, 0] = 1
    local = labelling.local_labels(np, labelling.label_components(np, bonds))
    np.testing.assert_array_equal(local, scipy_labels(bonds))
    assert len(np.unique(local[0])) == L * L - L + 1
    assert local[0, 2 * L + 5] == 2 * L
    assert local[1, 5 * L + 4] == 4 and local[1, 0] == 0 and local[1, L - 1] == 0
    assert local[2, 5 * L + 5] == 0


# ------------------------------------------------------------------------------------------
# (2), (3), (4): exact averages on small tori, a batch at two temperatures


@cache
def exact(name: str, L: int, q: int, beta: float):
    from src.exact.transfer_matrix import transfer_matrix_averages

    return transfer_matrix_averages(name, L, q, beta, 1.0)


def measure(backend: ArrayBackend, n_meas: int) -> np.ndarray:
    """(n_meas, 3, R): energy, corr_nn, improved_nn after every sweep."""
    out = np.empty((n_meas, 3, backend.state.shape[0]))
    for t in range(n_meas):
        backend.sweep(1)
        obs = backend.model.measure(backend.lattice_state(), backend.graph(), backend.xp)
        out[t] = host(obs["energy"]), host(obs["corr_nn"]), host(obs["improved_nn"])
    return out


# (model, L, q, the two inverse temperatures of the batch). Clock q = 6 runs on the 2 x 2 torus,
# where the transfer matrix is cheap (on 2 x 2 every bond appears twice, in the lattice as in the
# exact sums); the 4 x 4 tori have clusters wrapping the boundary.
EXACT_CASES = [
    ("ising", 4, 2, (0.30, 0.45)),
    ("potts", 4, 3, (0.80, 1.15)),
    ("clock", 4, 4, (0.60, 1.10)),
    ("clock", 2, 6, (0.50, 1.50)),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("update", UPDATES)
@pytest.mark.parametrize("name,L,q,betas", EXACT_CASES, ids=[f"{c[0]}{c[2]}-L{c[1]}" for c in EXACT_CASES])
def test_batch_matches_exact_averages(name, L, q, betas, update, device):
    model = make_model(name, L, q=q)
    copies = 16
    beta_of_replica = np.tile(betas, copies)  # the two temperatures interleaved in one batch
    backend = ArrayBackend(
        model, update, beta_of_replica, seed=20240, replica_ids=np.arange(2 * copies), device=device
    )
    backend.sweep(100, tune=True)
    series = measure(backend, 800)
    ref = [exact(name, L, q, b) for b in betas]
    errors = []
    for k, beta in enumerate(betas):
        x = series[:, :, k::2].mean(axis=2).T  # (3, n_meas): this temperature's replicas
        mean, err = x.mean(axis=1), binned_error(x, N_BINS)
        errors.append(err[0])
        assert abs(mean[0] - ref[k].energy) < 4 * err[0], (beta, mean[0], ref[k].energy, err[0])
        assert abs(mean[1] - ref[k].nn_correlation) < 4 * err[1], (beta, mean[1], ref[k].nn_correlation)
        assert abs(mean[2] - ref[k].nn_correlation) < 4 * err[2], (beta, mean[2], ref[k].nn_correlation)
        # (3) the improved estimator against the plain one on the same configurations
        diff = x[2] - x[1]
        assert abs(diff.mean()) < 4 * binned_error(diff, N_BINS) + 1e-12
    # (4) the two temperatures are far apart compared with the errors, so a mix-up would fail
    assert abs(ref[0].energy - ref[1].energy) > 20 * max(errors)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("update", ["sw", "wolff", "metropolis"])
def test_xy_improved_equals_plain_correlation_and_updates_agree(update, device):
    model = make_model("xy", 4)
    beta = 1.0
    backend = ArrayBackend(
        model,
        update,
        np.full(32, beta),
        seed=7,
        replica_ids=np.arange(32),
        overrelax=1 if update == "metropolis" else 0,
        device=device,
    )
    backend.sweep(100, tune=True)
    series = measure(backend, 800).mean(axis=2).T
    diff = series[2] - series[1]
    assert abs(diff.mean()) < 4 * binned_error(diff, N_BINS)
    # every update must reproduce the energy of long SW runs of both backends
    energy, err = series[0].mean(), binned_error(series[0], N_BINS)
    assert abs(energy - XY_REFERENCE[0]) < 4 * np.hypot(err, XY_REFERENCE[1]), (energy, err)


# XY energy per site at beta = 1 on the 4 x 4 torus: SW runs of 64 replicas x 20000 sweeps on
# CpuBackend (-1.41157(54)) and on ArrayBackend (-1.41201(66)), combined.
XY_REFERENCE = (-1.4118, 0.0004)


# ------------------------------------------------------------------------------------------
# graphs


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name,q", [("ising", 2), ("potts", 3), ("clock", 6), ("xy", 2)])
@pytest.mark.parametrize("update", UPDATES)
def test_graph_is_consistent(name, q, update, device):
    model = make_model(name, 6, q=q)
    backend = ArrayBackend(model, update, [0.2, 0.6, 1.0], seed=3, replica_ids=[0, 1, 2], device=device)
    backend.sweep(5, tune=True)
    graph = host_graph(backend.graph())
    R, L = 3, 6
    assert graph.bonds.shape == (R, 2, L, L) and graph.bonds.dtype == np.uint8
    assert graph.labels.shape == (R, L, L)
    np.testing.assert_array_equal(graph.labels.reshape(R, -1), scipy_labels(graph.bonds))
    spins = host(backend.lattice_state())
    right, down = np.roll(spins, -1, axis=2), np.roll(spins, -1, axis=1)
    if not model.fortuin_kasteleyn:  # embedded clusters
        assert graph.axes.shape == (R,)
        theta = spins if name == "xy" else spins * (2 * np.pi / q)
        proj = np.cos(theta - graph.axes[:, None, None])
        pp = np.stack([proj * np.roll(proj, -1, axis=2), proj * np.roll(proj, -1, axis=1)], axis=1)
        # bonds only join spins on the same side of the axis (for SW after the reflection too)
        assert np.all(pp[graph.bonds == 1] > 0)
    else:
        assert graph.axes is None
        equal = np.stack([spins == right, spins == down], axis=1)
        assert np.all(equal[graph.bonds == 1])
    # the graph stays the same until the spins change
    again = host_graph(backend.graph())
    np.testing.assert_array_equal(again.bonds, graph.bonds)


def host_graph(graph: Graph) -> Graph:
    return Graph(host(graph.bonds), host(graph.labels), None if graph.axes is None else host(graph.axes))


def test_sw_graph_is_the_one_the_update_used():
    model = make_model("potts", 8, q=4)
    backend = ArrayBackend(model, "sw", [0.5, 1.5], seed=11, replica_ids=[0, 1])
    backend.sweep(3)
    graph = backend.graph()
    labels = graph.labels.reshape(2, -1)
    state = backend.state
    # every cluster carries one label after the update
    for r in range(2):
        roots = labels[r]
        np.testing.assert_array_equal(state[r], state[r][roots])
    # improved = 1 exactly on the bonds, and its mean over bonds is >= the bond density
    imp = model.improved(backend.lattice_state(), graph, 1, np)
    assert np.all(imp[graph.bonds == 1] == 1)


# ------------------------------------------------------------------------------------------
# batching, temperatures, seeds, interface


def test_initial_state_equals_cpu_backend():
    for name, q in [("ising", 2), ("potts", 3), ("clock", 6), ("xy", 2)]:
        model = make_model(name, 6, q=q)
        ids = [3, 0, 7]
        a = ArrayBackend(model, "sw", [0.3] * 3, seed=5, replica_ids=ids)
        c = CpuBackend(model, "sw", [0.3] * 3, seed=5, replica_ids=ids)
        np.testing.assert_array_equal(a.state, c.state)
        assert a.state.dtype == c.state.dtype


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name,q", [("ising", 2), ("potts", 3), ("clock", 6), ("xy", 2)])
@pytest.mark.parametrize("update", UPDATES)
def test_same_seed_same_chain(name, q, update, device):
    model = make_model(name, 6, q=q)
    runs = []
    for seed in (9, 9, 10):
        b = ArrayBackend(
            model,
            update,
            [0.4, 0.9],
            seed=seed,
            replica_ids=[0, 1],
            overrelax=1 if name == "xy" else 0,
            device=device,
        )
        b.sweep(4, tune=True)
        b.sweep(3)
        g = b.graph()
        runs.append((host(b.state), host(g.labels), host(g.bonds), b.flipped, b.accepted))
    for x, y in zip(runs[0], runs[1], strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(runs[0][0], runs[2][0])


def test_temperatures_follow_the_replicas_and_can_be_swapped():
    model = make_model("ising", 8)
    backend = ArrayBackend(model, "sw", [0.05, 1.0], seed=1, replica_ids=[0, 1])

    def energies():
        backend.sweep(20)
        e = []
        for _ in range(20):
            backend.sweep(1)
            e.append(model.measure(backend.lattice_state(), backend.graph(), np)["energy"])
        return np.mean(e, axis=0)

    e = energies()
    assert e[0] > -0.4 and e[1] < -1.9
    backend.betas = backend.betas[::-1]  # what the replica-exchange driver does
    assert isinstance(backend.betas, np.ndarray) and backend.betas.shape == (2,)
    e = energies()
    assert e[0] < -1.9 and e[1] > -0.4
    backend.betas[[0, 1]] = backend.betas[[1, 0]]  # an in-place swap works as well
    e = energies()
    assert e[0] > -0.4 and e[1] < -1.9


def test_wolff_tuning_flips_about_n_spins_per_sweep():
    model = make_model("ising", 8)
    backend = ArrayBackend(model, "wolff", [0.2, 0.44, 0.7], seed=2, replica_ids=[0, 1, 2])
    backend.sweep(60, tune=True)
    clusters = backend.wolff.counts.copy()
    assert clusters[0] > clusters[2] >= 1
    start = backend.flipped
    backend.sweep(60)
    np.testing.assert_array_equal(backend.wolff.counts, clusters)  # frozen while measuring
    per_sweep = (backend.flipped - start) / 60 / 3
    assert 0.5 * model.n_sites < per_sweep < 2.0 * model.n_sites


def test_metropolis_counts_and_xy_moves():
    model = make_model("xy", 4)
    backend = ArrayBackend(model, "metropolis", [0.5], seed=4, replica_ids=[0], metropolis_window=1.0)
    backend.sweep(10)
    assert 0 < backend.accepted <= 10 * model.n_sites
    assert np.all((backend.state >= 0) & (backend.state < 2 * np.pi))


@pytest.mark.parametrize("device", DEVICES)
def test_overrelaxation_conserves_energy(device):
    model = make_model("xy", 8)
    backend = ArrayBackend(
        model, "metropolis", [0.7, 1.3], seed=8, replica_ids=[0, 1], overrelax=1, device=device
    )
    backend.sweep(5)
    xp = backend.xp
    e0 = host(model.measure(backend.lattice_state(), backend.graph(), xp)["energy"])
    ak.overrelax_xy(xp, backend.state, backend._boards, 3)
    e1 = host(model.measure(backend.lattice_state(), backend.graph(), xp)["energy"])
    np.testing.assert_allclose(e1, e0, atol=1e-12)


def test_invalid_options():
    with pytest.raises(ValueError):
        ArrayBackend(make_model("ising", 5), "metropolis", [0.4], seed=0, replica_ids=[0])
    with pytest.raises(ValueError):
        ArrayBackend(make_model("ising", 4), "sw", [0.4], seed=0, replica_ids=[0], overrelax=1)
    with pytest.raises(ValueError):
        ArrayBackend(make_model("ising", 4), "heatbath", [0.4], seed=0, replica_ids=[0])
    with pytest.raises(ValueError):
        ArrayBackend(make_model("ising", 4), "sw", [0.4, 0.5], seed=0, replica_ids=[0])


def test_representations_accept_the_graph():
    model = make_model("clock", 6, q=4)
    backend = ArrayBackend(model, "wolff", [0.5, 1.0], seed=1, replica_ids=[0, 1])
    backend.sweep(3)
    graph = backend.graph()
    imp = model.improved(backend.lattice_state(), graph, 2, np)
    cor = model.correlation(backend.lattice_state(), 2, np)
    assert imp.shape == cor.shape == (2, 2, 6, 6)
    assert np.all(imp >= 0) and np.all(imp <= 2)


def test_sampler_runs_the_array_kind():
    from src.sampling.sampler import Sampler

    model = make_model("clock", 4, q=6)
    sampler = Sampler(model, "wolff", [1.5, 0.8], seed=3, backend="array", replica_ids=[4, 5])
    sampler.sweep(5, tune=True)
    sampler.sweep(2)
    obs = sampler.measure()
    assert obs["energy"].shape == (2,) and isinstance(obs["energy"], np.ndarray)
    snap = sampler.snapshot(["spin", "correlation", "fk_bonds", "improved"], 2)
    assert snap["fk_bonds"].shape == (2, 2, 4, 4) and snap["improved"].shape == (2, 2, 4, 4)
    np.testing.assert_allclose(sampler.temperatures, [1.5, 0.8])
    assert sampler.flipped_spins > 0


def test_gpu_kind_needs_cupy():
    try:
        import cupy  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="CuPy"):
            ArrayBackend(make_model("ising", 4), "sw", [0.4], seed=0, replica_ids=[0], device=True)
    else:  # pragma: no cover - only on machines with a GPU
        b = ArrayBackend(make_model("ising", 4), "sw", [0.4], seed=0, replica_ids=[0], device=True)
        b.sweep(2)
        assert b.xp is cupy
