"""Cluster moves of the array (GPU) backend, for the two kinds of cluster a model can have.

Both draw the Swendsen-Wang graph of a batch (bonds (R, 2, L, L) bool, plus the embedding axis of
every chain where there is one); the backend labels it (src.sampling.graph.labelling) and then
either moves every cluster (`recluster`, Swendsen-Wang) or the cluster of one seed site per chain
(`flip`, Wolff: the seed's cluster in the full graph has the distribution of Wolff's cluster).
"""

from __future__ import annotations

from src.sampling.updates import array_kernels as ak


def _per_site(mask, state):
    """A mask (R, N) broadcast over the trailing axes of a vector state (R, N, ...)."""
    return mask.reshape(mask.shape + (1,) * (state.ndim - 2))


class FortuinKasteleynClusters:
    """Label states (ising, potts): equal labels bond with p = 1 - exp(-beta K); a cluster takes a
    uniform new label (Swendsen-Wang) or one of the q - 1 others (Wolff)."""

    def __init__(self, xp, q: int, bond_coupling: float):
        self.xp, self.q, self.K = xp, q, bond_coupling

    def draw(self, rng, lattice, betas):
        p_bond = -self.xp.expm1(-betas * self.K)
        return ak.potts_bonds(self.xp, rng, lattice, p_bond), None

    def axis_values(self, axis):
        return None

    def recluster(self, rng, state, labels, axis):
        R, n = state.shape
        new_label = rng.integers(0, self.q, size=R * n).astype(state.dtype)
        return new_label[labels]

    def flip(self, rng, state, member, seed, axis):
        xp = self.xp
        old = state.reshape(-1)[seed].astype(xp.intp)
        if self.q == 2:
            new = 1 - old
        else:
            new = (old + 1 + rng.integers(0, self.q - 1, size=len(seed))) % self.q
        return xp.where(member, new[:, None].astype(state.dtype), state)


class EmbeddedClusters:
    """Unit spins (clock, xy, ...): Wolff's embedded clusters about a random axis r per chain,
    p = 1 - exp(min(0, -2 beta J (r.s_i)(r.s_j))); a cluster is reflected about the plane normal
    to r with probability 1/2 (Swendsen-Wang) or always (Wolff). `axes` is the model's: it draws
    the axes and gives the projections r.s, the reflections and the axes as stored in the graph."""

    def __init__(self, xp, J: float, axes):
        self.xp, self.J, self.axes = xp, J, axes

    def draw(self, rng, lattice, betas):
        axis = self.axes.draw(rng, lattice.shape[0])
        projection = self.axes.projection(lattice, axis)
        return ak.embedded_bonds(self.xp, rng, projection, 2.0 * self.J * betas), axis

    def axis_values(self, axis):
        return self.axes.values(axis)

    def recluster(self, rng, state, labels, axis):
        R, n = state.shape[:2]
        flip = rng.random(R * n) < 0.5
        return self.xp.where(_per_site(flip[labels], state), self.axes.reflect(state, axis), state)

    def flip(self, rng, state, member, seed, axis):
        return self.xp.where(_per_site(member, state), self.axes.reflect(state, axis), state)
