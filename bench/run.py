"""`make bench`: CPU time per spin per sweep of this package's kernels beside the public packages
a user could install instead, measured in one run so the ratios are fair.

    python -m bench.run [--sizes 64 256 1024] [--budget 3e7] [--markdown docs/benchmarks.md]

One core, CPU time (time.process_time), JIT compilation and start-up excluded: every case is run
once to warm up and equilibrate, then timed on a second call. Wolff is quoted per flipped spin.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from bench import competitors
from src.models import make_model
from src.sampling.sampler import Sampler

T_C = competitors.T_C
T_XY = 0.89


def time_ours(model, update: str, T: float, budget: float) -> dict:
    s = Sampler(model, update, [T], seed=1, backend="cpu")
    warm = max(2, int(0.2 * budget / model.n_sites))
    s.sweep(warm, tune=True)  # JIT, equilibration, Wolff clusters per sweep
    n = max(2, int(budget / model.n_sites))
    f0 = s.flipped_spins
    t0 = time.process_time()
    s.sweep(n)
    cpu = time.process_time() - t0
    flipped = s.flipped_spins - f0
    return {
        "ns_per_spin": 1e9 * cpu / (n * model.n_sites),
        "ns_per_flipped": 1e9 * cpu / flipped if flipped else None,
        "sweeps": n,
    }


CASES = [  # (label, model name, update, temperature, competitor algorithm)
    ("SW Ising T_c", "ising", "sw", T_C, "sw"),
    ("Wolff Ising T_c", "ising", "wolff", T_C, "wolff"),
    ("Metropolis Ising T_c", "ising", "metropolis", T_C, "metropolis"),
    ("SW XY T=0.89", "xy", "sw", T_XY, None),
]


def run(sizes, budget: float) -> list[dict]:
    rows = []
    for label, name, update, T, alg in CASES:
        for L in sizes:
            if update != "sw" and L > 256:
                continue  # the per-flip and local rates do not depend on L beyond cache effects
            ours = time_ours(make_model(name, L), update, T, budget)
            metric = "ns_per_flipped" if update == "wolff" else "ns_per_spin"
            row = {
                "case": label,
                "L": L,
                "unit": "ns/flipped spin" if update == "wolff" else "ns/spin/sweep",
                "ours": ours[metric],
            }
            for pkg in competitors.PACKAGES:
                fn = competitors.COMPETITORS.get((pkg, alg)) if alg else None
                if fn is None:
                    row[pkg] = None
                    continue
                n = competitors.default_sweeps(alg, L, budget)
                res = fn(L, T, n, 1)
                row[pkg] = res[metric] if not res.get("skipped") else None
            rows.append(row)
            print(" | ".join(_cells(row)), flush=True)
    return rows


def _cell(x):
    return "-" if x is None else f"{x:.2f}"


def _ratio(row, pkg):
    return "-" if row.get(pkg) is None else f"{row[pkg] / row['ours']:.2f}x"


HEADER = [
    "case",
    "L",
    "unit",
    "this package",
    *competitors.PACKAGES,
    *(f"{p}/ours" for p in competitors.PACKAGES),
]


def _cells(row) -> list[str]:
    return [
        row["case"],
        str(row["L"]),
        row["unit"],
        _cell(row["ours"]),
        *(_cell(row[p]) for p in competitors.PACKAGES),
        *(_ratio(row, p) for p in competitors.PACKAGES),
    ]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} cores, {system}, Python {platform.python_version()}"


def write_markdown(path: str, rows: list[list[str]], about: str) -> None:
    """`about`, then rows[0] as the header of a markdown table of the rest; written atomically."""
    lines = [about, ""] + ["| " + " | ".join(r) + " |" for r in rows]
    lines.insert(3, "|---" * len(rows[0]) + "|")
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 1024])
    p.add_argument("--budget", type=float, default=3e7, help="spin updates per timed case")
    p.add_argument("--markdown", help="also write the table as markdown to this file")
    args = p.parse_args(argv)
    print(f"machine: {machine()}; competitors: {competitors.available()}")
    print(" | ".join(HEADER))
    rows = run(args.sizes, args.budget)
    if args.markdown:
        write_markdown(args.markdown, [HEADER] + [_cells(r) for r in rows], f"Machine: {machine()}")


if __name__ == "__main__":
    main()
