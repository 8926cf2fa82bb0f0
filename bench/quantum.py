"""`make bench` (quantum): site-sweeps per second of the loop algorithm for the spin-1/2 XY model on the
periodic L x L lattice, beside the ALPS `loop` application (PyPI `pyalps`) on the same model, lattice
and temperatures, measured in the same run.

    python -m bench.quantum [--sizes 16 32] [--temperatures 0.35 1.0] [--seconds 3] [--markdown PATH]

Ours: H = -J sum (S^x S^x + S^y S^y); ALPS' MODEL "spin" with Jxy = 1, Jz = 0 is the same with +J,
which has the same spectrum on the bipartite square lattice (rotate one sublattice by pi about z); the
energies per site printed beside the rates check it. Both run the continuous-time path-integral loop
algorithm; one sweep is one loop update (a new graph on every bond, every loop flipped with
probability 1/2). Rates are L^2 x sweeps per wall second on one core (threads pinned to 1), with the
CPU-time ratio as a check against other load. Ours is timed in-process after JIT compilation and
thermalisation, with and without the per-sweep measurements a production run makes (energy, chi_z,
chi_x, stiffness, nearest-neighbour correlations); ALPS (its default measurements: energy,
magnetisation, susceptibilities, stiffness) is timed as the difference of two runs of n1 and n2 sweeps,
which removes its start-up.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from importlib import metadata  # noqa: E402

import numpy as np  # noqa: E402

from bench.run import machine  # noqa: E402
from src.models import make_model  # noqa: E402
from src.sampling.sampler import Sampler  # noqa: E402
from src.stats.binning import binned_error  # noqa: E402

N_THERMAL = 500


def _clocks() -> np.ndarray:
    """(wall, CPU seconds of this process and its finished children)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return np.array([time.perf_counter(), time.process_time() + children.ru_utime + children.ru_stime])


def _rates(n_sites: int, sweeps: int, seconds) -> dict:
    """Rates per wall and per CPU second from seconds = (wall, cpu)."""
    return {"rate": n_sites * sweeps / seconds[0], "rate_cpu": n_sites * sweeps / seconds[1]}


def time_ours(L: int, T: float, seconds: float, measure: bool) -> dict:
    s = Sampler(make_model("quantum_xy", L), "loop", [T], seed=1)
    s.sweep(N_THERMAL)
    s.measure()  # JIT of the estimators
    t0 = time.perf_counter()
    s.sweep(20)
    n = max(20, int(20 * seconds / (time.perf_counter() - t0)))
    energy = np.empty(n)
    start = _clocks()
    if measure:
        for k in range(n):
            s.sweep(1)
            energy[k] = s.measure()["energy"][0]
    else:
        s.sweep(n)  # one call: the estimators are computed after the last update only
    out = _rates(L * L, n, _clocks() - start)
    if measure:
        out["energy"] = (energy.mean(), binned_error(energy, 32))
    return out


def alps_binary() -> tuple[str | None, str]:
    """(path of the ALPS loop binary or None, its version or why it is unavailable)."""
    try:
        import pyalps
    except ImportError as err:
        return None, f"n/a (pyalps not installed: {err}; pip install pyalps)"
    binary = os.path.join(os.path.dirname(pyalps.__file__), "bin", "loop")
    if not os.access(binary, os.X_OK):
        return None, f"n/a (no loop binary at {binary})"
    return binary, f"pyalps {metadata.version('pyalps')}"


def _alps_run(binary: str, workdir: str, L: int, T: float, sweeps: int) -> np.ndarray:
    """(wall, CPU) seconds of one run; its results stay in workdir."""
    import pyalps

    parms = {
        "LATTICE": "square lattice",
        "L": L,
        "MODEL": "spin",
        "local_S": 0.5,
        "Jxy": 1,
        "Jz": 0,
        "T": T,
        "ALGORITHM": "loop; path integral",
        "THERMALIZATION": N_THERMAL,
        "SWEEPS": sweeps,
        "SEED": 1,
    }
    for name in os.listdir(workdir):
        os.remove(os.path.join(workdir, name))
    job = pyalps.writeInputFiles(os.path.join(workdir, "parm"), [parms])
    env = {**os.environ, "ALPS_XML_PATH": os.path.join(os.path.dirname(pyalps.__file__), "xml")}
    start = _clocks()
    proc = subprocess.run([binary, job], cwd=workdir, env=env, capture_output=True, text=True)
    seconds = _clocks() - start
    if proc.returncode or "Error:" in proc.stdout + proc.stderr:  # it exits 0 on bad parameters
        raise RuntimeError(f"ALPS loop failed: {(proc.stdout + proc.stderr)[-300:]}")
    return seconds


def time_alps(binary: str, L: int, T: float, seconds: float) -> dict:
    import pyalps

    with tempfile.TemporaryDirectory(prefix="bench_alps_") as workdir:
        n1 = 1000
        short = _alps_run(binary, workdir, L, T, n1)
        n2 = 2 * n1
        while True:  # lengthen the long run until the difference lasts about `seconds`
            seconds_more = _alps_run(binary, workdir, L, T, n2) - short
            if seconds_more[0] > 0.5 * seconds:
                break
            n2 = (
                n1 + 2 * (n2 - n1)
                if seconds_more[0] < 0.1 * seconds
                else int(n1 + (n2 - n1) * seconds / seconds_more[0])
            )
        out = _rates(L * L, n2 - n1, seconds_more)
        data = pyalps.loadMeasurements(
            pyalps.getResultFiles(dirname=workdir, prefix="parm"), ["Energy Density"]
        )
        value = data[0][0].y[0]
        out["energy"] = (float(value.mean), float(value.error))
    return out


def run(sizes, temperatures, seconds: float) -> list[list[str]]:
    binary, alps = alps_binary()
    print(f"machine: {machine()}; ALPS: {alps}")
    rows = [
        [
            "L",
            "T",
            "ours",
            "ours + measurements",
            "ALPS loop",
            "ratio",
            "ratio (measuring)",
            "E/N ours",
            "E/N ALPS",
        ]
    ]
    for L in sizes:
        for T in temperatures:
            bare, measured = time_ours(L, T, seconds, False), time_ours(L, T, seconds, True)
            ref = time_alps(binary, L, T, seconds) if binary else None
            e = "{:.4f}({:.0f})".format(measured["energy"][0], 1e4 * measured["energy"][1])
            if ref:
                ratios = [
                    f"{x['rate'] / ref['rate']:.2f} (cpu {x['rate_cpu'] / ref['rate_cpu']:.2f})"
                    for x in (bare, measured)
                ]
                ref_cells = [
                    f"{ref['rate']:.3g}",
                    *ratios,
                    "{:.4f}({:.0f})".format(ref["energy"][0], 1e4 * ref["energy"][1]),
                ]
            else:
                ref_cells = [alps, "n/a", "n/a", "n/a"]
            row = [
                str(L),
                f"{T:g}",
                f"{bare['rate']:.3g}",
                f"{measured['rate']:.3g}",
                *ref_cells[:3],
                e,
                ref_cells[3],
            ]
            rows.append(row)
            print(" | ".join(row), flush=True)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[16, 32])
    p.add_argument("--temperatures", type=float, nargs="+", default=[0.35, 1.0])
    p.add_argument("--seconds", type=float, default=3.0, help="wall seconds of each timed part")
    p.add_argument("--markdown", help="also write the table as markdown to this file")
    args = p.parse_args(argv)
    rows = run(args.sizes, args.temperatures, args.seconds)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(f"Site-sweeps per wall second, one core; {machine()}.\n\n")
            f.writelines(
                "| " + " | ".join(r) + " |\n" + ("|---" * len(r) + "|\n" if i == 0 else "")
                for i, r in enumerate(rows)
            )


if __name__ == "__main__":
    main()
