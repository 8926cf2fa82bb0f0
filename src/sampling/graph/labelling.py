"""Cluster labelling, in one place: every update and every reader that labels clusters uses it.

- On the CPU (numba, inside the Swendsen-Wang sweeps of src.sampling.updates): a union-find forest
  whose roots are the smallest site index of their tree, merged while the bonds are drawn, then
  turned into root labels in one pass; the same forest labels stored `fk_bonds` (the inverse RG,
  generated files: cluster_labels).
- On arrays (NumPy or CuPy, the GPU backend): label propagation with pointer jumping over the
  occupied bonds of a whole batch.
Both give every site the smallest site index of its cluster (the array one offset by the
chain's first site in the batch, see local_labels), so the graphs of every path agree.
"""

from __future__ import annotations

from functools import lru_cache

import numba as nb
import numpy as np

from src.sampling.updates.array_kernels import index_dtype, scatter_min

# --------------------------------------------------------------------------------------------
# Union-find on the CPU (numba)

# Indices read from the parent array are cast to unsigned before they index it: they are never
# negative, and numba adds a wrap-around test to every signed index it cannot prove non-negative.


@nb.njit(inline="always")
def find(parent, i):
    """Root of i, halving the path on the way. The usual case, parent[i] a root, costs two loads
    and one well-predicted test."""
    p = parent[np.uint64(i)]
    g = parent[np.uint64(p)]
    while p != g:
        parent[np.uint64(i)] = g
        i = g
        p = parent[np.uint64(i)]
        g = parent[np.uint64(p)]
    return p


@nb.njit(inline="always")
def link(parent, r, j):
    """Merge the tree of root r with the tree of j and point j at the merged root, which is
    returned (the smaller of the two roots). j = r is a no-op, so callers select j without a
    branch."""
    rj = find(parent, j)
    lo = min(r, rj)
    parent[np.uint64(max(r, rj))] = lo
    parent[np.uint64(j)] = lo
    return lo


@nb.njit(inline="always")
def merge_site(parent, i, right, down, b_x, b_y, last):
    """Step 2 of a Swendsen-Wang sweep (src.sampling.updates.cpu_clusters) for site i with bonds b_x
    to `right` and b_y to `down`.
    Branch-free apart from the rare extra steps of _find: an absent bond links the root with
    itself. Below the last row the site below is untouched, so a y-bond only points it at the
    root (which also initialises it); on the last row the y-bond wraps to row 0 and is a link."""
    r = find(parent, i)
    lo = link(parent, r, right if b_x else r)
    if last:
        link(parent, lo, down if b_y else lo)
    else:
        parent[np.uint64(down)] = lo if b_y else down


@nb.njit(inline="always")
def root_label(parent, i):
    """Step 3 of a Swendsen-Wang sweep for site i: its root, stored as its label."""
    p = parent[np.uint64(parent[i])]
    parent[i] = p
    return p


# --------------------------------------------------------------------------------------------
# Label propagation on arrays


@lru_cache(maxsize=32)
def forward_neighbours(xp, L: int, dtype):
    """(2 N,) flat index of the right neighbour of every site followed by its down neighbour: the
    far end of bond (d, i) is entry d * N + i. Cached (one small table per lattice size)."""
    idx = np.arange(L * L)
    y, x = idx // L, idx % L
    right = y * L + (x + 1) % L
    down = ((y + 1) % L) * L + x
    return xp.asarray(np.concatenate([right, down]), dtype=dtype)


def _compress(xp, labels):
    """Pointer jumping, labels = labels[labels], until every site points at a root."""
    while True:
        nxt = labels[labels]
        if not bool((nxt != labels).any()):
            return labels
        labels = nxt


def label_components(xp, bonds):
    """Connected components of the occupied bonds of a batch, bonds (R, 2, L, L).

    Returns (R, N) labels that are global over the batch: the label of a site is r * N + (the
    smallest site index of its cluster in replica r). The whole batch is one label array, so
    every step is one array operation.

    The algorithm is label propagation across the occupied bonds with pointer jumping (the GPU
    labelling of Komura & Okabe and of Weigel, here as whole-array operations). Invariant: every
    site's label is a site of its own cluster with an index not larger than its own. Each round,
    for every bond whose two ends still carry different labels, the larger of the two (a root,
    since labels are compressed) is hooked to the smaller one by a scatter-min, and the labels
    are then compressed by pointer jumping until each points at a root. Bonds whose ends agree
    are dropped for good. When no bond joins different labels, each cluster carries one label,
    which is its smallest site (that site's label can only be itself). The result does not
    depend on the order of the scatter, so it is deterministic on the GPU too.
    """
    R, _, L, _ = bonds.shape
    n = L * L
    dtype = index_dtype(xp, 2 * R * n)
    far = forward_neighbours(xp, L, dtype)
    edge = xp.flatnonzero(bonds.reshape(-1)).astype(dtype)
    replica_start = (edge // (2 * n)) * n
    local = edge % (2 * n)
    a = replica_start + local % n
    b = replica_start + far[local]
    labels = xp.arange(R * n, dtype=dtype)
    while True:
        la = labels[a]
        lb = labels[b]
        keep = la != lb
        a = a[keep]
        if a.size == 0:
            break
        b = b[keep]
        la = la[keep]
        lb = lb[keep]
        scatter_min(xp, labels, xp.maximum(la, lb), xp.minimum(la, lb))
        labels = _compress(xp, labels)
    return labels.reshape(R, n)


def local_labels(xp, global_labels):
    """Per-replica labels (smallest site index of the cluster, as the CPU kernels store them)."""
    R, n = global_labels.shape
    offset = xp.arange(R, dtype=global_labels.dtype)[:, None] * n
    return (global_labels - offset).astype(xp.int32)


# --------------------------------------------------------------------------------------------
# Stored bonds


def cluster_labels(bonds) -> np.ndarray:
    """Cluster labels (..., L, L) int64 of bond configurations (..., 2, L, L).

    Channel 0 holds the bond (i, i + x-hat), channel 1 (i, i + y-hat), both wrapping around the
    periodic boundary. The label of a cluster is the flat index y L + x of its first site in
    reading order, so labels are canonical: two configurations with the same clusters have equal
    labels, whatever the labelling that produced them. The union-find of the Swendsen-Wang sweeps,
    one configuration after another.
    """
    bonds = np.asarray(bonds)
    *lead, two, L, L2 = bonds.shape
    if two != 2 or L != L2:
        raise ValueError(f"bonds must have shape (..., 2, L, L), got {bonds.shape}")
    n_configs = int(np.prod(lead, dtype=np.int64))
    flat = np.ascontiguousarray(bonds.reshape(n_configs, 2, L * L)).astype(np.uint8, copy=False)
    labels = np.empty((n_configs, L * L), dtype=np.int64)
    _label_bonds(flat, L, labels)
    return labels.reshape(*lead, L, L)


@nb.njit(cache=True)
def _label_bonds(bonds, L, labels):
    """labels[c] = the root (smallest site) of every site's cluster in bonds[c] (2, N)."""
    n = L * L
    for c in range(bonds.shape[0]):
        parent = labels[c]
        for x in range(L):
            parent[x] = x
        for y in range(L):
            row, down_row = y * L, ((y + 1) % L) * L
            for x in range(L):
                i = row + x
                right = i + 1 if x + 1 < L else row
                merge_site(parent, i, right, down_row + x, bonds[c, 0, i], bonds[c, 1, i], y + 1 == L)
        for i in range(n):
            root_label(parent, i)
