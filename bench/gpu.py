"""`make bench` on a machine with a GPU: the CuPy backend (`backend: gpu`) beside the numba CPU
kernels on one core, measured in the same run.

    python -m bench.gpu [--sizes 64 256 1024] [--seconds 1.5] [--markdown FILE]

Every case runs through Sampler, as the driver runs it. GPU rates are wall time per spin per
sweep with the device synchronised, for one lattice (R = 1) and for a batch of R lattices (what
several temperatures or replicas on one rank give); "measuring" adds the per-sweep observables,
copied to the host, as a run with a measurement after every sweep does. The CPU column is CPU
time on one core (bench.run.time_ours). Start-up (compilation, tuning of Wolff clusters) is
excluded.
"""

from __future__ import annotations

import argparse
import time

from bench.run import T_C, T_XY, machine, time_ours, write_markdown
from src.models import make_model
from src.sampling.sampler import Sampler

CASES = [  # (label, model name, update, temperature)
    ("SW Ising T_c", "ising", "sw", T_C),
    ("SW XY T=0.89", "xy", "sw", T_XY),
    ("Metropolis Ising T_c", "ising", "metropolis", T_C),
    ("Wolff Ising T_c", "ising", "wolff", T_C),
]
BATCH_SPINS = 1 << 22  # spins of a batch: 4 M, about 100 MB of device arrays for SW


def gpu_rate(model, update: str, T: float, replicas: int, seconds: float, measure: bool) -> float:
    """ns per spin per sweep (wall) on the GPU, a batch of `replicas` lattices at T."""
    import cupy

    s = Sampler(model, update, [T] * replicas, seed=1, backend="gpu", replica_ids=range(replicas))
    s.sweep(20, tune=True)

    def step():
        s.sweep(1)
        if measure:
            s.measure()

    step()
    cupy.cuda.Device().synchronize()
    n, elapsed = 0, 0.0
    t0 = time.perf_counter()
    while elapsed < seconds:
        step()
        n += 1
        if n % 4 == 0 or update != "metropolis":
            cupy.cuda.Device().synchronize()
            elapsed = time.perf_counter() - t0
    cupy.cuda.Device().synchronize()
    elapsed = time.perf_counter() - t0
    return 1e9 * elapsed / (n * replicas * model.n_sites)


HEADER = [
    "case",
    "L",
    "R",
    "GPU ns/spin/sweep",
    "GPU, measuring",
    "CPU 1 core ns/spin/sweep",
    "CPU / GPU",
    "CPU / GPU, measuring",
]


def run(sizes, seconds: float) -> list[list[str]]:
    rows = [HEADER]
    for label, name, update, T in CASES:
        for L in sizes:
            if update == "wolff" and L > 256:
                continue  # one whole-lattice graph per cluster: the batch pays for it, not size
            model = make_model(name, L)
            cpu = time_ours(model, update, T, budget=max(2e6, 2e7 * seconds / 4))["ns_per_spin"]
            for replicas in sorted({1, max(1, BATCH_SPINS // model.n_sites)}):
                plain = gpu_rate(model, update, T, replicas, seconds, measure=False)
                measured = gpu_rate(model, update, T, replicas, seconds, measure=True)
                row = [
                    label,
                    str(L),
                    str(replicas),
                    f"{plain:.3g}",
                    f"{measured:.3g}",
                    f"{cpu:.3g}",
                    f"{cpu / plain:.2f}",
                    f"{cpu / measured:.2f}",
                ]
                rows.append(row)
                print(" | ".join(row), flush=True)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 1024])
    p.add_argument("--seconds", type=float, default=1.5, help="wall time per timed GPU case")
    p.add_argument("--markdown", help="also write the table as markdown to this file")
    args = p.parse_args(argv)
    import cupy

    props = cupy.cuda.runtime.getDeviceProperties(0)
    about = f"Machine: {machine()}; GPU: {props['name'].decode()}, CuPy {cupy.__version__}"
    print(about, flush=True)
    print(" | ".join(HEADER), flush=True)
    rows = run(args.sizes, args.seconds)
    if args.markdown:
        write_markdown(args.markdown, rows, about)


if __name__ == "__main__":
    main()
