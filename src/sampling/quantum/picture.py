"""The loops of the loop algorithm in one (x, tau) plane, for pictures (src.analysis.pictures): a
chain of the square lattice thermalised at beta, then one graph of its configuration, cut at the row
y = 0. Run files keep no world lines, so a picture is of a fresh chain of the same model and T."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from src.sampling.quantum.chain import LoopChain
from src.sampling.quantum.lattice import square
from src.sampling.quantum.loop import graph_segments
from src.sampling.streams import seed_streams


@dataclass(frozen=True)
class LoopPlane:
    """Row y = 0 of an L x L torus over imaginary time [0, beta): per site x, its segments as
    (start, end, loop label, spin) rows, and the times of the vertices that join x and x + 1."""

    beta: float
    segments: list[np.ndarray]  # per x: (k, 4) float rows
    joins: list[np.ndarray]  # per x: times of the vertices on the bond (x, x + 1)


def loop_plane(L: int, beta: float, Jz: float = 0.0, J: float = 1.0, seed: int = 0, thermalize=200):
    chain = LoopChain(square(L), Jz, J, seed_streams(seed, 1)[0], np.arange(L * L) % 2)
    for _ in range(thermalize):
        chain.update(beta)
    chain.update(beta, flip=False)  # a graph of the configuration, which it leaves as it is
    w = chain.work
    offsets, time, label, spin = graph_segments(
        L * L, chain.bonds, chain.n_vertices, w.vbond, w.vtime, w.vstate, w.node, w.flipped
    )
    segments, starts = [], []
    for x in range(L):
        rows = slice(offsets[x], offsets[x + 1])
        t = time[rows]
        if t.size == 0:  # no vertex: the whole circle is one free loop
            segments.append(np.array([[0.0, beta, 2 * chain.n_vertices + x, chain.spin0[x]]]))
        else:
            # a segment runs from its vertex to the next one; the last wraps through tau = beta
            ends = np.r_[t[1:], t[0] + beta]
            rows_x = np.stack([t, ends, label[rows], spin[rows]], axis=1)
            wrapped = rows_x[-1].copy()
            rows_x[-1, 1] = beta
            wrapped[:2] = 0.0, t[0]
            segments.append(np.vstack([wrapped[None], rows_x]))
        starts.append(t)
    joins = [np.intersect1d(starts[x], starts[(x + 1) % L]) for x in range(L)]
    return LoopPlane(beta, segments, joins)
