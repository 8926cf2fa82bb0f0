"""Collective HDF5 output under MPI (run with: mpirun -n 2|4 python -m pytest --with-mpi -m mpi
tests/test_parallel_io.py): every rank writes its own rows and snapshots into one file, and with an
h5py built without MPI rank 0 writes what the others send, with the same result."""

import numpy as np
import pytest

from src.parallel.mpi import world
from src.sampling import config as cfg
from src.storage import writer as writer_module
from src.storage.reader import RunFile

pytestmark = pytest.mark.mpi(min_size=2)


def _shared_tmp(tmp_path_factory):
    w = world()
    return w.bcast(str(tmp_path_factory.mktemp("io")) if w.root else None)


def _layout(n_T=5, k=2, n_meas=7, n_snap=3):
    return writer_module.RunLayout(
        np.linspace(1, 2, n_T), k, n_meas, ("energy", "m2"), {"spin": ((4, 4), np.int8)}, n_snap, 2
    )


def _write_everything(path, w):
    lay = _layout()
    writer = writer_module.RunWriter(path, w, lay, {"note": "test"})
    block = {
        name: np.arange(lay.n_T * lay.n_replicas * 4, dtype=float).reshape(lay.n_T, lay.n_replicas, 4) + o
        for o, name in enumerate(lay.observables)
    }
    writer.write_block("observables", 3, block)
    # every rank writes the snapshots of "its" temperatures, some ranks none
    mine = [t for t in range(lay.n_T) if t % w.size == w.rank and t != 1]
    t, s = np.repeat(mine, 2).astype(int), np.tile([0, 4], len(mine))
    spins = np.ones((len(t), 4, 4), np.int8) * (10 * t + s)[:, None, None]
    writer.write_snapshots(t, s, {"spin": [spins[:1], spins[1:]]})  # in two parts, as the driver's events
    writer.write_small("extra", "vector", np.arange(3.0), {"description": "x"})
    writer.finish({"done": True})
    return lay, block


def _check(path, lay, block):
    with RunFile(path) as run:
        e = run.observable("energy").reshape(lay.n_T, lay.n_replicas, lay.n_measurements)
        np.testing.assert_array_equal(e[:, :, 3:7], block["energy"])
        spin = run.snapshots("spin")
        for t in range(lay.n_T):
            for s in (0, 4):
                expected = 0 if t == 1 else 10 * t + s
                assert np.all(spin[t, s] == expected)
        np.testing.assert_array_equal(run.f["extra/vector"][:], np.arange(3.0))
        assert run.attrs["complete"] and run.attrs["note"] == "test"


def test_collective_write(tmp_path_factory):
    w = world()
    assert writer_module.hdf5_has_mpi()
    path = writer_module.Path(_shared_tmp(tmp_path_factory)) / "collective.h5"
    lay, block = _write_everything(path, w)
    w.barrier()
    if w.root:
        _check(path, lay, block)


def test_serial_hdf5_fallback(tmp_path_factory, monkeypatch):
    w = world()
    monkeypatch.setattr(writer_module, "hdf5_has_mpi", lambda: False)
    path = writer_module.Path(_shared_tmp(tmp_path_factory)) / "serial.h5"
    if w.root:
        with pytest.warns(UserWarning, match="rank 0 writes"):
            lay, block = _write_everything(path, w)
    else:
        lay, block = _write_everything(path, w)
    w.barrier()
    if w.root:
        _check(path, lay, block)


def test_driver_in_process_matches_across_io_modes(tmp_path_factory, monkeypatch):
    """The whole driver on these ranks, once with collective I/O and once through rank 0."""
    from src.sampling.driver.run import run

    w = world()
    base = writer_module.Path(_shared_tmp(tmp_path_factory))
    overrides = [
        "model.L=8",
        "sweeps.thermalize=20",
        "sweeps.measure=300",
        "snapshots.every=30",
        "replicas=2",
    ]
    files = []
    for mode in ("collective", "serial"):
        if mode == "serial":
            monkeypatch.setattr(writer_module, "hdf5_has_mpi", lambda: False)
        config = cfg.load(None, [*overrides, f"output={base / mode}.h5"])
        files.append(run(config, show_progress=False, log=lambda *a: None))
    w.barrier()
    if w.root:
        with RunFile(files[0]) as a, RunFile(files[1]) as b:
            for name in a.observable_names:
                np.testing.assert_array_equal(a.observable(name), b.observable(name))
            for rep in a.representations:
                np.testing.assert_array_equal(a.snapshots(rep), b.snapshots(rep))
