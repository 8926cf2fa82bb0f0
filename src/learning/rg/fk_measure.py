"""The generated bonds of the graph side as a Fortuin-Kasteleyn measure (docs/rg.md).

The graph network gives every bond b of the fine lattice a probability p_b. Drawn as independent
bonds they miss the factor q^C of the FK measure (C the number of clusters), which favours
configurations of many clusters: independent bonds of the same density join more sites and the
clusters come out too large. Here p_b is the
bond probability of the inhomogeneous FK measure

    P(w) ~ prod_b p_b^{w_b} (1 - p_b)^{1 - w_b} q^{C(w)},

which is the measure of Monte Carlo at T when p_b = 1 - exp(-K) for every bond (K = 2 J / T for
Ising, J / T for Potts: the Swendsen-Wang probability). It is the bond marginal of the Edwards-Sokal
measure prod_b [(1 - p_b)(1 - w_b) + p_b w_b delta(s_i, s_j)], whose two conditionals are simple:
given the bonds every cluster takes a uniform label; given the spins a bond is occupied with
probability p_b where its ends agree and is empty where they differ. Alternating them (a
Swendsen-Wang sweep with bond-dependent probabilities) leaves the measure invariant, and the
second conditional is also what the network is trained on: the likelihood of the stored bonds
given the stored spins needs no partition function (`bond_targets`).
"""

from __future__ import annotations

import numpy as np
import torch

from src.sampling.graph.configurations import label_identity
from src.sampling.graph.labelling import cluster_labels

UNSATISFIED = -1  # bond target where the spins differ: empty whatever the network says
FK_SWEEPS = 40  # sweeps of generated bonds by default: converged, measured in docs/rg.md


def paint(labels: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """Spins (R, L, L) int8 where every cluster takes the colour its label indexes: colours (R, L*L)
    of independent uniform labels, labels (R, L, L) the sites' cluster labels (flat site indices)."""
    R = len(labels)
    return np.take_along_axis(colours, labels.reshape(R, -1), axis=1).reshape(labels.shape).astype(np.int8)


def agreeing(spins) -> np.ndarray:
    """Whether the two ends of every bond agree: (R, L, L) spins -> (R, 2, L, L) bool, channel 0 the
    bond (i, i + x-hat), channel 1 (i, i + y-hat), as `fk_bonds`."""
    return label_identity(np.asarray(spins), 1) > 0


def bond_targets(bonds, spins) -> np.ndarray:
    """The training targets of stored (bonds, spins): the bond (0 or 1) where the ends agree,
    UNSATISFIED where they differ. A ValueError when an occupied bond joins unlike spins: then the
    bonds were not drawn from these spins."""
    bonds, agree = np.asarray(bonds), agreeing(spins)
    if (bonds.astype(bool) & ~agree).any():
        raise ValueError(
            "an occupied bond joins unlike spins: the fk_bonds and spin snapshots do not belong together"
        )
    return np.where(agree, bonds.astype(np.float32), np.float32(UNSATISFIED))


def fk_sweeps(
    p: torch.Tensor, labels: np.ndarray, q: int, sweeps: int, stream: torch.Generator
) -> np.ndarray:
    """`sweeps` (>= 1) Edwards-Sokal sweeps of the FK measure with bond probabilities p (R, 2, L, L),
    starting from the partition `labels` (R, L, L) of the sites (any integer labels); returns the
    last bonds (R, 2, L, L) uint8. The random numbers come from `stream`."""
    R, _, L, _ = p.shape
    labels = np.stack([np.unique(row, return_inverse=True)[1] for row in np.reshape(labels, (R, -1))])
    bonds = None
    for _ in range(sweeps):
        if bonds is not None:
            labels = cluster_labels(bonds).reshape(R, -1)
        colours = torch.randint(q, (R, L * L), generator=stream, device=stream.device).cpu().numpy()
        agree = torch.from_numpy(agreeing(paint(labels.reshape(R, L, L), colours))).to(p.device)
        drawn = torch.rand(p.shape, generator=stream, device=stream.device) < p
        bonds = (agree & drawn).cpu().numpy().astype(np.uint8)
    return bonds
