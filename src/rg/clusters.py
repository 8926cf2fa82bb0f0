"""Fortuin-Kasteleyn clusters of stored `fk_bonds` configurations (periodic L x L lattice)."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components


def cluster_labels(bonds) -> np.ndarray:
    """Cluster labels (..., L, L) int64 of bond configurations (..., 2, L, L).

    Channel 0 holds the bond (i, i + x-hat), channel 1 (i, i + y-hat), both wrapping around the
    periodic boundary. The label of a cluster is the flat index y L + x of its first site in
    reading order, so labels are canonical: two configurations with the same clusters have equal
    labels, whatever the labelling that produced them.
    """
    bonds = np.asarray(bonds)
    *lead, two, L, L2 = bonds.shape
    if two != 2 or L != L2:
        raise ValueError(f"bonds must have shape (..., 2, L, L), got {bonds.shape}")
    n_sites = L * L
    n_configs = int(np.prod(lead, dtype=np.int64))
    # Every configuration of the batch is a separate block of one sparse graph: one call labels all.
    site = np.arange(n_configs * n_sites).reshape(n_configs, L, L)
    flat = bonds.reshape(n_configs, 2, L, L).astype(bool)
    heads = [np.roll(site, -1, axis=-1), np.roll(site, -1, axis=-2)]
    rows = np.concatenate([site[flat[:, d]] for d in (0, 1)])
    cols = np.concatenate([heads[d][flat[:, d]] for d in (0, 1)])
    n_nodes = n_configs * n_sites
    graph = coo_array((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n_nodes, n_nodes))
    _, component = connected_components(graph, directed=False)
    # np.unique's first occurrence of a component is its smallest node, i.e. its first site.
    _, first_node, inverse = np.unique(component, return_index=True, return_inverse=True)
    labels = first_node[inverse].reshape(n_configs, n_sites) - np.arange(n_configs)[:, None] * n_sites
    return labels.reshape(*lead, L, L)
