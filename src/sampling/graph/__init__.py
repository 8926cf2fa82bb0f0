"""Graphs of configurations: the Fortuin-Kasteleyn and embedded-cluster graphs that the cluster
updates build, their labelling into clusters, and the configurations derived from them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Graph:
    """The cluster graph of a batch: bonds (R, 2, L, L) uint8 (channel 0 the bond (i, i + x-hat),
    channel 1 (i, i + y-hat)), labels (R, L, L) (equal within a cluster, the smallest site index of
    the cluster where the sampler labels them), and axes: the embedding axis of every replica for
    models with embedded clusters (None for Fortuin-Kasteleyn clusters)."""

    bonds: object
    labels: object
    axes: object | None
