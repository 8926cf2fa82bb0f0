"""Generation throughput of the inverse-RG (super-resolution) networks of src.learning.rg.superres:
configurations per second of the largest lattice (default 128 x 128, generated from 16 x 16 in 3 steps)
for the spin-based and the graph-based (FK bonds) network, on the CPU with one thread and with every
core, and on CUDA where torch sees a device.

    python -m bench.superres [--models ising potts3] [--L-start 16] [--steps 3] [--channels 32 32 32]
        [--batch N] [--seconds 3] [--network LABEL=MODEL.pt ...] [--markdown PATH]

What is timed is src.learning.rg.superres.generate on a batch of start configurations, the loop that
`python -m src.analyze superres` runs: per step the encoding of the labels, the network (2 evaluations
per call for Ising spins, q! = 6 for 3-state Potts spins: the exact global symmetry), sampling from the
probabilities with a seeded generator, and the labels of the sample for the next step (for bonds the
cluster labels, scipy on the CPU, also in the CUDA case). Not timed: reading the source, the
observables and `improved` of the generated files, and writing them (the study's wall times in
docs/studies_rg.md give that end to end). The batch is the one `analyze superres` uses (2^20 sites of
the largest lattice, counting the symmetry's evaluations) unless --batch is given.

Throughput does not depend on the weights: the layers cost the same for any values, and sampling and
cluster labelling are linear in the number of variables. The default networks are therefore untrained
(seeded initial weights, channels as in the study configs); --network LABEL=PATH times a trained
model file instead. The start configurations are Swendsen-Wang snapshots of L_start at T_c.
Rate: configurations of the largest size per wall second over repeated calls lasting --seconds, after
one untimed call (allocation, first-call overheads); the CPU-time ratio is printed as a check against
other load on the machine.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"  # numba, scipy and BLAS single-threaded; torch's threads are set per case

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench.run import machine  # noqa: E402
from src.learning.rg.generation import SITES_PER_BATCH  # noqa: E402
from src.learning.rg.superres import (  # noqa: E402
    SuperResolution,
    generate,
    labels_of,
    load_superres,
    random_stream,
    superres_spec,
)
from src.models import make_model  # noqa: E402
from src.sampling.sampler import Sampler  # noqa: E402

MODELS = {"ising": ("ising", 2), "potts3": ("potts", 3)}
SIDES = {"spin": "spin", "graph": "fk_bonds"}
HEADER = ["network", "device", "threads", "batch", "configs/s", "ms/config", "sites/s", "cpu/wall"]


def start_labels(model: str, q: int, L: int, n: int, target: str) -> np.ndarray:
    """Labels (n, L, L) of n Swendsen-Wang snapshots at T_c: spins, or cluster labels of the bonds."""
    lattice = make_model(model, L, q=q)
    sampler = Sampler(lattice, "sw", [lattice.literature_tc] * n, seed=1)
    sampler.sweep(100)
    snap = sampler.snapshot([target], L // 2)[target]
    return labels_of(snap, {"target": target})


def networks(args) -> list[tuple[str, SuperResolution, str]]:
    """(label, network on the CPU, where its weights come from)."""
    out = []
    if args.network:
        for item in args.network:
            label, _, path = item.partition("=")
            if not path:
                raise SystemExit(f"error: --network {item!r}: expected LABEL=MODEL.pt")
            network, _ = load_superres(path, "cpu")
            out.append((label, network, f"trained ({path})"))
        return out
    for name in args.models:
        model, q = MODELS[name]
        for side, target in SIDES.items():
            torch.manual_seed(1)
            spec = superres_spec(model, target, q=q, channels=args.channels)
            out.append((f"{name} {side}", SuperResolution(spec).eval(), "untrained"))
    return out


def time_case(network, labels: np.ndarray, steps: int, device: str, threads: int, seconds: float) -> dict:
    """Configurations of the largest size per wall second, and CPU/wall seconds (this process)."""
    torch.set_num_threads(threads)
    network = network.to(device)
    stream = random_stream(network, 1)

    def call():
        out = generate(network, labels, steps, stream)
        if device == "cuda":
            torch.cuda.synchronize()
        return out

    call()  # untimed: allocation and first-call overheads
    n_calls, wall0, cpu0 = 0, time.perf_counter(), time.process_time()
    while True:
        call()
        n_calls += 1
        wall = time.perf_counter() - wall0
        if wall >= seconds:
            break
    cpu = time.process_time() - cpu0
    configs = n_calls * len(labels)
    return {"rate": configs / wall, "cpu_ratio": cpu / wall}


def run(args) -> list[list[str]]:
    cores = len(os.sched_getaffinity(0))
    devices = [("cpu", 1), ("cpu", cores)] if cores > 1 else [("cpu", 1)]
    if torch.cuda.is_available():
        devices.append(("cuda", 1))
    L_end = args.L_start << args.steps
    print(
        f"machine: {machine()}; torch {torch.__version__}"
        + (f", CUDA: {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ", no CUDA device")
    )
    print(f"{args.L_start} x {args.L_start} -> {L_end} x {L_end} in {args.steps} steps")
    print(" | ".join(HEADER), flush=True)
    rows = [HEADER]
    for label, network, weights in networks(args):
        spec = network.spec
        batch = args.batch or max(1, SITES_PER_BATCH // (L_end**2 * network.evaluations))
        labels = start_labels(spec["model"], spec["q"], args.L_start, batch, spec["target"])
        for device, threads in devices:
            result = time_case(network, labels, args.steps, device, threads, args.seconds)
            row = [
                f"{label} ({weights})",
                device,
                str(threads),
                str(batch),
                f"{result['rate']:.3g}",
                f"{1e3 / result['rate']:.3g}",
                f"{result['rate'] * L_end**2:.3g}",
                f"{result['cpu_ratio']:.2f}",
            ]
            rows.append(row)
            print(" | ".join(row), flush=True)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", choices=sorted(MODELS), default=["ising", "potts3"])
    p.add_argument("--L-start", type=int, default=16, help="linear size of the start configurations")
    p.add_argument("--steps", type=int, default=3, help="applications of the network (L -> 2^steps L)")
    p.add_argument("--channels", type=int, nargs="+", default=[32, 32, 32], help="of the untrained networks")
    p.add_argument("--batch", type=int, help="start configurations per call (default: as analyze superres)")
    p.add_argument("--seconds", type=float, default=3.0, help="wall seconds of each timed case")
    p.add_argument(
        "--network", action="append", help="LABEL=MODEL.pt: time this trained model file (repeatable)"
    )
    p.add_argument("--markdown", help="also write the table as markdown to this file")
    args = p.parse_args(argv)
    rows = run(args)
    if args.markdown:
        L_end = args.L_start << args.steps
        with open(args.markdown, "w") as f:
            f.write(
                f"Generated {L_end} x {L_end} configurations per wall second from {args.L_start} x "
                f"{args.L_start} ({args.steps} steps); {machine()}; torch {torch.__version__}.\n\n"
            )
            f.writelines(
                "| " + " | ".join(r) + " |\n" + ("|---" * len(r) + "|\n" if i == 0 else "")
                for i, r in enumerate(rows)
            )


if __name__ == "__main__":
    main()
