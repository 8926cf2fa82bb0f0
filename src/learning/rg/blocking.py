"""The b = 2 block transformations of spin and cluster-label configurations (see docs/rg.md).

One rule serves both: a block takes the value held by most of its four sites; on a tie (2-2, or
four different values) it takes the value of its top-left site (2Y, 2X), which always holds one
of the tied values. The rule is a deterministic function of the fine configuration, so a
(coarse, fine) training pair needs no stored random numbers, and it commutes with every global
relabelling (spin flip, Potts permutation, cluster renumbering), so it biases no state.
"""

from __future__ import annotations

import numpy as np

from src.sampling.graph.configurations import label_identity
from src.sampling.graph.labelling import cluster_labels

BLOCK = 2  # the scale factor b


def coarse_size(L: int) -> int:
    """L / b, or a ValueError when the blocks do not tile the lattice."""
    if L % BLOCK:
        raise ValueError(f"L = {L} is not divisible by the block size {BLOCK}")
    return L // BLOCK


def block_majority(labels) -> np.ndarray:
    """Majority rule with the top-left tie rule: (..., L, L) -> (..., L/2, L/2), same dtype.

    Works for any integer-valued configuration: ising spins +-1, Potts labels, cluster labels.
    """
    labels = np.asarray(labels)
    *lead, L, L2 = labels.shape
    if L != L2:
        raise ValueError(f"configurations must be square (..., L, L), got {labels.shape}")
    n = coarse_size(L)
    # the four sites of a block in reading order: top-left, top-right, bottom-left, bottom-right
    sites = labels.reshape(*lead, n, BLOCK, n, BLOCK).swapaxes(-3, -2).reshape(*lead, n, n, BLOCK * BLOCK)
    votes = (sites[..., :, None] == sites[..., None, :]).sum(axis=-1)
    # argmax returns the first maximum: the top-left site whenever the maximum is tied
    winner = votes.argmax(axis=-1)
    return np.take_along_axis(sites, winner[..., None], axis=-1)[..., 0]


def block_cluster_labels(bonds) -> np.ndarray:
    """Block-cluster rule: each block takes the label of the cluster holding most of its sites
    (ties: the cluster of its top-left site). (..., 2, L, L) bonds -> (..., L/2, L/2) labels."""
    coarse_size(np.shape(bonds)[-1])  # fail before labelling the clusters
    return block_majority(cluster_labels(bonds))


def coarse_improved(bonds, r: int) -> np.ndarray:
    """The coarse `improved` configuration at coarse distance r: delta between the block-cluster
    labels of blocks r apart. (..., 2, L, L) bonds -> (..., 2, L/2, L/2) float32."""
    return label_identity(block_cluster_labels(bonds), r)
