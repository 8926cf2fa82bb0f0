"""The FK measure of generated bonds (src/learning/rg/fk_measure.py): Edwards-Sokal sweeps with
bond-dependent probabilities sample prod_b p_b^w_b (1 - p_b)^(1 - w_b) q^C exactly (checked against
exact enumeration of a 3x3 torus), where independent bonds do not; the training targets of stored
bonds and spins."""

import numpy as np
import pytest
import torch
from helpers import N_SIGMA

from src.learning.rg.fk_measure import UNSATISFIED, bond_targets, fk_sweeps, paint
from src.sampling.graph.labelling import cluster_labels

L = 3
N_BONDS = 2 * L * L
CHAINS = 4000
SWEEPS = 30


def cluster_count(bonds: np.ndarray) -> np.ndarray:
    """Clusters of every configuration (R,): sites that are their cluster's label (its first site)."""
    labels = cluster_labels(bonds).reshape(len(bonds), -1)
    return (labels == np.arange(labels.shape[1])).sum(axis=1)


def exact(p: np.ndarray, q: int) -> tuple[np.ndarray, float]:
    """(P(w_b = 1) of every bond, <C>) of the FK measure on the torus, by enumerating its 2^18 graphs."""
    codes = np.arange(1 << N_BONDS)
    bonds = ((codes[:, None] >> np.arange(N_BONDS)) & 1).astype(np.uint8)
    flat_p = p.reshape(-1)
    log_w = (bonds * np.log(flat_p) + (1 - bonds) * np.log1p(-flat_p)).sum(axis=1)
    clusters = cluster_count(bonds.reshape(-1, 2, L, L))
    log_w += clusters * np.log(q)
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    return (w @ bonds).reshape(2, L, L), float(w @ clusters)


def chains(p: np.ndarray, q: int, sweeps: int, seed: int = 0) -> np.ndarray:
    """CHAINS independent chains started from single-site clusters, after `sweeps` sweeps (0: the
    bonds drawn independently): (CHAINS, 2, L, L)."""
    stream = torch.Generator().manual_seed(seed)
    probs = torch.from_numpy(p).float().expand(CHAINS, 2, L, L)
    if not sweeps:
        return torch.bernoulli(probs, generator=stream).numpy().astype(np.uint8)
    start = np.broadcast_to(np.arange(L * L).reshape(L, L), (CHAINS, L, L))
    return fk_sweeps(probs, start, q, sweeps, stream)


def z_scores(samples: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """(sample mean - expected) / its error, per entry; the chains are independent."""
    return (samples.mean(axis=0) - expected) / (samples.std(axis=0) / len(samples) ** 0.5)


@pytest.mark.parametrize("q", [2, 3])
def test_sweeps_sample_the_fk_measure_and_independent_bonds_do_not(q):
    """Bond probabilities drawn at random in [0.15, 0.9]: the marginal of every bond and the mean
    number of clusters agree with exact enumeration within 4 sigma after the sweeps; without them
    (the network's bonds drawn independently) the clusters are too few by far more than that."""
    p = np.random.default_rng(q).uniform(0.15, 0.9, size=(2, L, L))
    marginals, mean_clusters = exact(p, q)
    bonds = chains(p, q, SWEEPS)
    assert np.abs(z_scores(bonds.reshape(CHAINS, -1), marginals.reshape(-1))).max() < N_SIGMA
    assert abs(z_scores(cluster_count(bonds)[:, None], mean_clusters)[0]) < N_SIGMA
    independent = chains(p, q, 0)
    assert z_scores(cluster_count(independent)[:, None], mean_clusters)[0] < -N_SIGMA


def test_sweeps_are_seeded():
    p = np.full((2, L, L), 0.5)
    assert np.array_equal(chains(p, 3, 3, seed=4), chains(p, 3, 3, seed=4))
    assert not np.array_equal(chains(p, 3, 3, seed=4), chains(p, 3, 3, seed=5))


def test_bond_targets():
    """The bond where its ends agree, UNSATISFIED where they differ; bonds that join unlike spins
    are refused."""
    spins = np.array([[[1, 1], [-1, 1]]], dtype=np.int8)  # x-bonds: (0,0)-(0,1) agree, (1,0)-(1,1) not
    bonds = np.zeros((1, 2, 2, 2), dtype=np.uint8)
    bonds[0, 0, 0, 0] = 1
    targets = bond_targets(bonds, spins)
    assert targets[0, 0, 0, 0] == 1 and targets[0, 0, 0, 1] == 0  # two bonds of one pair on L = 2
    assert (targets[0, 0, 1] == UNSATISFIED).all()
    assert targets[0, 1, 0, 1] == 0  # (0,1)-(1,1) agree, empty
    bonds[0, 0, 1, 0] = 1
    with pytest.raises(ValueError, match="do not belong together"):
        bond_targets(bonds, spins)


def test_paint_gives_every_cluster_one_colour():
    bonds = np.zeros((1, 2, 4, 4), dtype=np.uint8)
    bonds[0, 0, 1, :] = 1  # row 1 is one cluster
    colours = np.arange(16)[None] % 3
    spins = paint(cluster_labels(bonds), colours)
    assert len(set(spins[0, 1])) == 1 and spins[0, 1, 0] == colours[0, 4]
    assert spins.dtype == np.int8
