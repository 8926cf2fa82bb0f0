"""CPU timings of the public packages a user could install instead of this one.

Competitors (the ``bench`` extra): ``mcising`` and ``peapods``, both Rust cores.
Every ``time_<pkg>_<alg>(L, T, n_sweeps, seed)`` simulates the 2D Ising model
(L x L, periodic, J = 1) at temperature T on ONE thread and returns a dict:

    cpu_s           process CPU seconds of the measured part only
    wall_s          wall seconds of the same part (cpu_s <= wall_s: one thread;
                    for peapods clusters both are differences, see below)
    spin_updates    L*L*n_sweeps; for Wolff the number of flipped spins
    flipped         spins flipped (Wolff), else None
    ns_per_spin     1e9 * cpu_s / spin_updates (ns per spin per sweep)
    ns_per_flipped  1e9 * cpu_s / flipped (Wolff), else None
    note            what exactly was timed
    skipped         None, or why the competitor could not run (package missing)

Start-up is excluded: the lattice is first equilibrated with 50 Swendsen-Wang
sweeps, then a warm-up call of the same length runs, and a second call is timed.
For Wolff both packages call one cluster a "sweep", so n_sweeps counts clusters.
peapods has no cluster-only update (every step is a Metropolis sweep followed by
an optional cluster update), so its cluster cost is the CPU time of
Metropolis+cluster steps minus that of the same number of Metropolis-only steps.

Run from the repository root: ``python bench/competitors.py [-L 64 256] [--alg sw]``
(or ``python -m bench.competitors``).
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import time

import numpy as np

# Rayon reads this when its pool is first built (lazily, at the first parallel
# call); neither package builds it at import time.
os.environ["RAYON_NUM_THREADS"] = "1"

T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))
N_EQUIL = 50  # Swendsen-Wang sweeps that equilibrate the lattice before any timing
PACKAGES = ("mcising", "peapods")


def available() -> dict[str, str]:
    """Importable competitors: package name -> version, or -> 'missing: <reason>'."""
    out = {}
    for name in PACKAGES:
        try:
            mod = importlib.import_module(name)
            out[name] = str(getattr(mod, "__version__", "")) or _dist_version(name)
        except ImportError as exc:
            out[name] = f"missing: {exc}"
    return out


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def _timed(fn) -> tuple[float, float, object]:
    c0, w0 = time.process_time(), time.perf_counter()
    res = fn()
    return time.process_time() - c0, time.perf_counter() - w0, res


def _result(cpu, wall, spin_updates, flipped, note) -> dict:
    return {
        "cpu_s": cpu,
        "wall_s": wall,
        "spin_updates": spin_updates,
        "flipped": flipped,
        "ns_per_spin": 1e9 * cpu / spin_updates if spin_updates else None,
        "ns_per_flipped": 1e9 * cpu / flipped if flipped else None,
        "note": note,
        "skipped": None,
    }


def _skipped(reason: str) -> dict:
    out = dict.fromkeys(("cpu_s", "wall_s", "spin_updates", "flipped"))
    out.update(ns_per_spin=None, ns_per_flipped=None, note="", skipped=reason)
    return out


# --------------------------------------------------------------------- mcising
# mcising.IsingSimulation(L, j1, j2, j3, h, seed, algorithm, lattice_type);
# .sweep(n, temperature=T) runs n sweeps in one Rust call (no observables) and
# returns (accepted, attempted, cluster_flips) summed over them.


def _mcising(alg: str, L: int, T: float, n_sweeps: int, seed: int) -> dict:
    try:
        from mcising import IsingSimulation
    except ImportError as exc:
        return _skipped(f"mcising not importable: {exc}")
    eq = IsingSimulation(L, 1.0, 0.0, 0.0, 0.0, seed, "swendsen_wang", "square")
    eq.sweep(N_EQUIL, temperature=T)
    sim = IsingSimulation(L, 1.0, 0.0, 0.0, 0.0, seed + 1, alg, "square")
    sim.set_spins(eq.get_spins())
    sim.sweep(n_sweeps, temperature=T)  # warm-up call
    cpu, wall, (accepted, attempted, _) = _timed(lambda: sim.sweep(n_sweeps, temperature=T))
    if alg == "wolff":  # attempted == accepted == total size of the n clusters
        note = (
            f"mcising sweep({n_sweeps}) with algorithm='wolff': {n_sweeps} "
            "single-cluster Wolff updates; flipped = exact summed cluster size "
            f"returned by the call (mean cluster {attempted / n_sweeps:.0f})"
        )
        return _result(cpu, wall, attempted, attempted, note)
    what = {
        "metropolis": "sequential-scan Metropolis sweeps (one attempt per site)",
        "swendsen_wang": "Swendsen-Wang sweeps (all bonds, every cluster flipped with p=1/2)",
    }[alg]
    note = f"mcising sweep({n_sweeps}): {what}, one Rust call, no observables; {accepted} spins flipped"
    return _result(cpu, wall, L * L * n_sweeps, None, note)


def time_mcising_sw(L: int, T: float, n_sweeps: int, seed: int) -> dict:
    return _mcising("swendsen_wang", L, T, n_sweeps, seed)


def time_mcising_wolff(L: int, T: float, n_sweeps: int, seed: int) -> dict:
    return _mcising("wolff", L, T, n_sweeps, seed)


def time_mcising_metropolis(L: int, T: float, n_sweeps: int, seed: int) -> dict:
    return _mcising("metropolis", L, T, n_sweeps, seed)


# --------------------------------------------------------------------- peapods
# peapods.Ising((L, L), couplings="ferro", temperatures=array); ._sim.reset(seed)
# seeds it; .sample(n, sweep_mode="metropolis", cluster_update_interval=k,
# cluster_mode="sw"|"wolff", warmup_ratio=r, sequential=True) runs n steps of one
# sequential Metropolis sweep plus, every k steps, one SW update or one Wolff
# cluster. Observables are accumulated only after the first r*n steps, so r = 1
# times bare sweeps; sequential=True keeps replicas/temperatures on one thread.


def _peapods_model(L: int, T: float, seed: int):
    from peapods import Ising

    model = Ising((L, L), couplings="ferro", temperatures=np.array([T]))
    model._sim.reset(seed=seed)
    return model


def _pp_sample(model, n: int, cluster: str | None = None, warmup_ratio=1.0):
    kw = {"cluster_update_interval": 1, "cluster_mode": cluster} if cluster else {}
    with np.errstate(divide="ignore", invalid="ignore"):  # its Binder ratio 0/0
        return model.sample(n, sweep_mode="metropolis", warmup_ratio=warmup_ratio, sequential=True, **kw)


def time_peapods_metropolis(L: int, T: float, n_sweeps: int, seed: int) -> dict:
    try:
        model = _peapods_model(L, T, seed)
    except ImportError as exc:
        return _skipped(f"peapods not importable: {exc}")
    _pp_sample(model, N_EQUIL, "sw")
    _pp_sample(model, n_sweeps)  # warm-up call
    cpu, wall, _ = _timed(lambda: _pp_sample(model, n_sweeps))
    note = (
        f"peapods sample({n_sweeps}, warmup_ratio=1): sequential-scan Metropolis "
        "sweeps, one Rust call, no observables (includes <1 ms per-call set-up)"
    )
    return _result(cpu, wall, L * L * n_sweeps, None, note)


def _peapods_cluster(mode: str, L: int, T: float, n_sweeps: int, seed: int):
    """(cluster_cpu, cluster_wall, <m^2>): Metropolis+cluster minus Metropolis."""
    model = _peapods_model(L, T, seed)
    _pp_sample(model, N_EQUIL, "sw")
    # Warm-up call; it also measures <m^2> over its second half.
    m2 = float(_pp_sample(model, n_sweeps, mode, warmup_ratio=0.5)["mags2"][0])
    c1, w1, _ = _timed(lambda: _pp_sample(model, n_sweeps, mode))
    c0, w0, _ = _timed(lambda: _pp_sample(model, n_sweeps))
    return c1 - c0, w1 - w0, m2


def time_peapods_sw(L: int, T: float, n_sweeps: int, seed: int) -> dict:
    try:
        cpu, wall, _ = _peapods_cluster("sw", L, T, n_sweeps, seed)
    except ImportError as exc:
        return _skipped(f"peapods not importable: {exc}")
    note = (
        f"peapods: CPU of sample({n_sweeps}) with a Swendsen-Wang update after "
        f"every Metropolis sweep minus CPU of sample({n_sweeps}) Metropolis-only "
        "(warmup_ratio=1, no observables); the difference is the SW cost"
    )
    return _result(cpu, wall, L * L * n_sweeps, None, note)


def time_peapods_wolff(L: int, T: float, n_sweeps: int, seed: int) -> dict:
    try:
        cpu, wall, m2 = _peapods_cluster("wolff", L, T, n_sweeps, seed)
    except ImportError as exc:
        return _skipped(f"peapods not importable: {exc}")
    # peapods does not report cluster sizes; at equilibrium the mean Wolff
    # cluster size is exactly <M^2>/N = N <m^2> (improved estimator).
    flipped = round(n_sweeps * L * L * m2)
    note = (
        f"peapods: CPU of sample({n_sweeps}) with one Wolff cluster after every "
        f"Metropolis sweep minus CPU of sample({n_sweeps}) Metropolis-only; "
        f"flipped = n_sweeps * N<m^2> (estimated mean cluster {L * L * m2:.0f}, "
        "from the warm-up call)"
    )
    return _result(cpu, wall, flipped, flipped, note)


COMPETITORS = {
    ("mcising", "sw"): time_mcising_sw,
    ("mcising", "wolff"): time_mcising_wolff,
    ("mcising", "metropolis"): time_mcising_metropolis,
    ("peapods", "sw"): time_peapods_sw,
    ("peapods", "wolff"): time_peapods_wolff,
    ("peapods", "metropolis"): time_peapods_metropolis,
}


def default_sweeps(alg: str, L: int, budget: float = 3e7) -> int:
    """Sweeps for about `budget` spin updates (Wolff at T_c: clusters ~ L^1.75)."""
    per_sweep = L**1.75 if alg == "wolff" else L * L
    return max(20, round(budget / per_sweep))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-L", type=int, nargs="+", default=[64, 256])
    p.add_argument("-T", type=float, default=T_C)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--alg", nargs="+", default=["sw", "wolff", "metropolis"])
    p.add_argument("--budget", type=float, default=3e7, help="spin updates per run")
    args = p.parse_args(argv)
    print("competitors:", available(), f"T={args.T:.6f}")
    print(f"{'package':8} {'alg':10} {'L':>5} {'sweeps':>7} {'ns/spin':>8} {'ns/flip':>8} {'cpu/wall':>8}")
    for L in args.L:
        for (pkg, alg), fn in COMPETITORS.items():
            if alg not in args.alg:
                continue
            n = default_sweeps(alg, L, args.budget)
            r = fn(L, args.T, n, args.seed)
            if r["skipped"]:
                print(f"{pkg:8} {alg:10} {L:5d}  skipped: {r['skipped']}")
                continue
            flip = r["ns_per_flipped"]
            print(
                f"{pkg:8} {alg:10} {L:5d} {n:7d} {r['ns_per_spin']:8.2f} "
                f"{'' if flip is None else f'{flip:8.2f}':>8} "
                f"{r['cpu_s'] / r['wall_s']:8.2f}"
            )


if __name__ == "__main__":
    main()
