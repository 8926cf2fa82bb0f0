"""How much quieter the improved configuration of embedded-cluster models gets with several
embedding axes (snapshots.axes), and what the extra graphs cost: a markdown table for
docs/studies.md.

    python tools/improved_axes.py [--L 16 32] [--snapshots 2000]

Per model, size, temperature and number of axes K, from Swendsen-Wang runs of 4 chains (a snapshot
every 2 sweeps, r = L/2): the mean of `improved` and of the plain `correlation` (they must agree),
the s.d. over snapshots of a snapshot's mean (what the networks' inputs fluctuate by), the mean
s.d. of the values within a snapshot, and the wall time per snapshot (CPU backend, one core).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from src.models import make_model
from src.sampling.sampler import Sampler

CASES = [
    ("xy", None, [0.7, 0.9, 1.1], [1, 2, 4]),
    ("clock", 6, [0.7, 0.9, 1.1], [1, 2, 3, 6]),
    ("heisenberg", None, [0.5, 0.7, 1.0], [1, 3]),
]


def measure(model, T: float, axes: int, snapshots: int, chains: int = 4) -> dict:
    s = Sampler(model, "sw", [T] * chains, seed=1)
    s.sweep(500, tune=True)
    r = model.L // 2
    means, pixel, plain = [], [], []
    taken = 0.0
    for _ in range(snapshots):
        s.sweep(2)
        t0 = time.perf_counter()
        reps = s.snapshot(["improved", "correlation"], r, axes)
        taken += time.perf_counter() - t0
        imp = reps["improved"].reshape(chains, -1)
        means.append(imp.mean(axis=1))
        pixel.append(imp.std(axis=1).mean())
        plain.append(reps["correlation"].reshape(chains, -1).mean(axis=1))
    means, plain = np.array(means), np.array(plain)
    return {
        "improved": means.mean(),
        "correlation": plain.mean(),
        "sd": means.std(),
        "sd_plain": plain.std(),
        "pixel": float(np.mean(pixel)),
        "ms": 1e3 * taken / snapshots,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--L", type=int, nargs="+", default=[16, 32])
    p.add_argument("--snapshots", type=int, default=2000)
    args = p.parse_args()
    print(
        "| model | L | T | axes | mean improved | mean correlation | s.d. of a snapshot's mean (plain) "
        "| s.d. within a snapshot | ms per snapshot |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, q, temperatures, axes_list in CASES:
        for L in args.L:
            model = make_model(name, L, q=q)
            for T in temperatures:
                for axes in axes_list:
                    m = measure(model, T, axes, args.snapshots)
                    print(
                        f"| {model.label} | {L} | {T} | {axes} | {m['improved']:.4f} "
                        f"| {m['correlation']:.4f} "
                        f"| {m['sd']:.4f} ({m['sd_plain']:.4f}) | {m['pixel']:.3f} | {m['ms']:.2f} |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
