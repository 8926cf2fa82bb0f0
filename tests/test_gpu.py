"""The GPU backend (CuPy) through the whole sampler: `python -m src.sample --set backend=gpu` with
replica exchange and every representation, against the exact Ising L = 16 values. Skipped where
no CUDA device is visible; the array-level checks of the same code are in test_array_backend
(run there on NumPy everywhere and on CuPy on a GPU machine)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_agrees, sample_runs

from src.exact import ising_torus
from src.sampling.backends.array import cuda_visible
from src.storage.reader import RunFile

pytestmark = pytest.mark.skipif(not cuda_visible(), reason="no CUDA device")

TEMPERATURES = [2.0, 2.269185, 2.6]
# update: (sweeps between measurements, measurements), for about 2 % errors on c. Wolff is left to
# the 4 x 4 tests of test_array_backend: on the GPU it costs a whole-lattice graph per cluster.
RUNS = {"sw": (1, 6000), "metropolis": (4, 8000)}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    settings = {
        update: [
            "backend=gpu",
            "model.name=ising",
            "model.L=16",
            f"update={update}",
            f"temperatures={TEMPERATURES}",
            "seed=5",
            "sweeps.thermalize=1000",
            f"sweeps.every={every}",
            f"sweeps.measure={measure}",
            "snapshots.every=100",
            "snapshots.representations=[spin,correlation,fk_bonds,improved]",
            "snapshots.distance=1",
        ]
        for update, (every, measure) in RUNS.items()
    }
    return sample_runs(tmp_path_factory.mktemp("gpu"), settings)


@pytest.mark.parametrize("update", list(RUNS))
def test_gpu_run_matches_the_exact_ising_torus(files, update):
    exact = [ising_torus(16, 1.0 / T) for T in TEMPERATURES]
    with RunFile(files[update]) as run:
        assert run.attrs["backend"] == "gpu"
        s = run.summary
        assert_agrees("energy", *s["energy"], [x.energy for x in exact], f"gpu {update}")
        assert_agrees("specific_heat", *s["specific_heat"], [x.specific_heat for x in exact], f"gpu {update}")
        assert np.all(s["specific_heat"][1] < 0.05 * np.array([x.specific_heat for x in exact]))
        # the snapshots are the configurations measured: their nearest-neighbour correlation,
        # plain and improved, averages to -energy / 2 at every temperature
        for name in ("correlation", "improved"):
            per_snapshot = run.snapshots(name).mean(axis=(2, 3, 4))  # (n_T, n_snapshots), independent
            error = per_snapshot.std(axis=1, ddof=1) / np.sqrt(per_snapshot.shape[1])
            assert_agrees(name, per_snapshot.mean(axis=1), error, [-x.energy / 2 for x in exact], update)
        spins = run.snapshots("spin")
        assert spins.dtype == np.int8 and set(np.unique(spins).tolist()) == {-1, 1}
