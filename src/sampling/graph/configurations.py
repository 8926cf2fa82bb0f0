"""Configurations on the bonds (i, i + r x-hat), (i, i + r y-hat) of every site, shared by the models'
representations: shape (..., 2, L, L), channel 0 along x-hat, channel 1 along y-hat, periodic.

The improved correlation configurations derived from a graph come in two forms:
- Fortuin-Kasteleyn clusters (ising, potts): delta(C_i, C_j), 1 when i and j lie in one cluster;
- embedded clusters of n-component unit spins (clock, xy: n = 2): n delta(C_i, C_j) |r.s_i| |r.s_j|
  with r the embedding axis. Given the graph the cluster signs are independent, so
  E[(r.s_i)(r.s_j)] = delta |r.s_i| |r.s_j|, and averaging over the uniform axis gives
  E_r[(r.s_i)(r.s_j)] = (s_i.s_j) / n.
For every model the mean of `improved` is the mean of the plain correlation (factor 1).

Functions take an array module `xp` (numpy or cupy), so CPU and GPU backends share them.
"""

from __future__ import annotations

import numpy as np


def partner(a, r: int, direction: int, xp):
    """The array of values at i + r e_direction (direction 0 = x-hat, 1 = y-hat) of (..., L, L)."""
    return xp.roll(a, -r, axis=-1 if direction == 0 else -2)


def resolve_distance(distance, L: int) -> int:
    """`half` means r = L/2; an integer is taken as it is (1 <= r < L)."""
    r = L // 2 if distance == "half" else int(distance)
    if not 1 <= r < L:
        raise ValueError(f"snapshots.distance must be 'half' or an integer in [1, {L - 1}], got {distance!r}")
    return r


def label_identity(labels, r: int, xp=np):
    """delta(l_i, l_{i + r x-hat}), delta(l_i, l_{i + r y-hat}): (..., L, L) -> (..., 2, L, L) float32,
    periodic. On cluster labels this is the Fortuin-Kasteleyn `improved` configuration at distance r."""
    return xp.stack([labels == partner(labels, r, d, xp) for d in (0, 1)], axis=-3).astype(xp.float32)


def pair_table_configuration(table, labels, r: int, xp):
    """table[l_i, l_j] on the bonds at distance r of label configurations (R, L, L): (R, 2, L, L) float32."""
    table = xp.asarray(table, dtype=xp.float32)
    idx = labels.astype(xp.intp)
    return xp.stack([table[idx, partner(idx, r, d, xp)] for d in (0, 1)], axis=1).astype(xp.float32)


def embedded_improved(labels, weights, n_components: int, r: int, xp):
    """The embedded-cluster improved configuration n delta(C_i, C_j) w_i w_j, w = |r.s| (R, L, L)."""
    same = [labels == partner(labels, r, d, xp) for d in (0, 1)]
    chans = [float(n_components) * s * weights * partner(weights, r, d, xp) for d, s in enumerate(same)]
    return xp.stack(chans, axis=1).astype(xp.float32)
