"""The representations of a configuration that the project stores and learns from.

Names used everywhere (sampler, files, training, analysis):
- `spin`: the configuration itself (ising +-1, potts/clock labels, xy angles), shape (L, L).
- `correlation`: the plain correlation configuration at distance r, shape (2, L, L): channel 0
  holds c(i, i + r x-hat), channel 1 c(i, i + r y-hat), where c is the order-parameter
  correlation s_i s_j (ising), (q delta - 1)/(q - 1) (potts), cos(theta_i - theta_j) (clock, xy).
- `fk_bonds`: occupation (0/1) of the nearest-neighbour Fortuin-Kasteleyn bonds, shape (2, L, L),
  channel 0 the bond (i, i + x-hat), channel 1 (i, i + y-hat).
- `improved`: the improved estimator of the same correlation, shape (2, L, L). For ising/potts it
  is delta(C_i, C_j), 1 when i and j lie in one FK cluster. For the embedded clusters of clock/xy
  it is 2 delta(C_i, C_j) |r.s_i| |r.s_j| with r the embedding axis: given the graph the cluster
  signs are independent, so E[(r.s_i)(r.s_j)] = delta |r.s_i||r.s_j|, and averaging over the
  uniform axis gives E_r[(r.s_i)(r.s_j)] = cos(theta_i - theta_j) / 2. So for every model the
  mean of `improved` equals the mean of `correlation` (factor 1).

The functions are written against an array module `xp` (numpy or cupy), so the CPU and GPU
backends share them. Batched arrays are indexed [replica, y, x].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from src.models.spec import ModelSpec

REPRESENTATIONS = ("spin", "correlation", "fk_bonds", "improved")


@dataclass
class Graph:
    """A Fortuin-Kasteleyn graph of a batch: bonds (R, 2, L, L) uint8, labels (R, L, L) (equal
    within a cluster), axes (R,) the embedding angle phi for clock/xy (None for ising/potts)."""

    bonds: object
    labels: object
    axes: object | None


def angles(model: ModelSpec, state, xp):
    if model.continuous:
        return state
    return state.astype(xp.float64) * (2.0 * np.pi / model.q)


def _partner(a, r: int, direction: int, xp):
    """The array of values at i + r e_direction (direction 0 = x-hat, 1 = y-hat)."""
    return xp.roll(a, -r, axis=-1 if direction == 0 else -2)


def correlation_configuration(model: ModelSpec, state, r: int, xp):
    """(R, 2, L, L) float32 plain correlations at distance r."""
    if model.vector:
        theta = angles(model, state, xp)
        chans = [xp.cos(theta - _partner(theta, r, d, xp)) for d in (0, 1)]
    else:
        table = xp.asarray(model.correlation_table(), dtype=xp.float32)
        idx = state.astype(xp.intp)
        chans = [table[idx, _partner(idx, r, d, xp)] for d in (0, 1)]
    return xp.stack(chans, axis=1).astype(xp.float32)


def label_identity(labels, r: int, xp=np):
    """delta(l_i, l_{i + r x-hat}), delta(l_i, l_{i + r y-hat}): (..., L, L) -> (..., 2, L, L) float32,
    periodic. On cluster labels this is the `improved` configuration of ising/potts at distance r."""
    return xp.stack([labels == _partner(labels, r, d, xp) for d in (0, 1)], axis=-3).astype(xp.float32)


def improved_configuration(model: ModelSpec, state, graph: Graph, r: int, xp):
    """(R, 2, L, L) float32 improved correlations at distance r (see the module docstring)."""
    labels = graph.labels
    if not model.vector:
        return label_identity(labels, r, xp)
    same = [labels == _partner(labels, r, d, xp) for d in (0, 1)]
    theta = angles(model, state, xp)
    w = xp.abs(xp.cos(theta - xp.asarray(graph.axes)[:, None, None]))
    chans = [2.0 * s * w * _partner(w, r, d, xp) for d, s in enumerate(same)]
    return xp.stack(chans, axis=1).astype(xp.float32)


def resolve_distance(distance, L: int) -> int:
    """`half` means r = L/2; an integer is taken as it is (1 <= r < L)."""
    r = L // 2 if distance == "half" else int(distance)
    if not 1 <= r < L:
        raise ValueError(f"snapshots.distance must be 'half' or an integer in [1, {L - 1}], got {distance!r}")
    return r


def stored_dtype(model: ModelSpec, name: str) -> np.dtype:
    """The dtype of a representation in files: the smallest that holds its values exactly. The
    FK `improved` of ising/potts is an indicator (0 or 1) and takes one byte instead of four; the
    embedded-cluster and quantum ones take values in [0, 2]."""
    if name == "spin":
        return np.dtype(np.float32 if model.continuous else np.int8)
    if name == "fk_bonds" or (name == "improved" and not (model.vector or model.quantum)):
        return np.dtype(np.uint8)
    return np.dtype(np.float32)


def stored_shape(name: str, L: int) -> tuple:
    """The shape of one snapshot of a representation."""
    return (L, L) if name == "spin" else (2, L, L)


def representations(model: ModelSpec, state, graph: Graph | None, names, r: int, xp) -> dict:
    """The requested representations of a batch, each with a leading replica axis."""
    out = {}
    for name in names:
        if name == "spin":
            out[name] = spin_configuration(model, state, xp)
        elif name == "correlation":
            out[name] = correlation_configuration(model, state, r, xp)
        elif name == "fk_bonds":
            out[name] = graph.bonds.astype(xp.uint8)
        elif name == "improved":
            out[name] = improved_configuration(model, state, graph, r, xp)
        else:
            raise ValueError(f"unknown representation {name!r} (allowed: {', '.join(REPRESENTATIONS)})")
    return out


def spin_configuration(model: ModelSpec, state, xp):
    if model.name == "ising":
        return (1 - 2 * state.astype(xp.int8)).astype(xp.int8)
    if model.continuous:
        return state.astype(xp.float32)
    return state.astype(xp.int8)
