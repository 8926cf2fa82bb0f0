"""The start configuration of every chain, the same on every backend."""

import numpy as np


def initial_state(model, seed: int, replica_ids) -> np.ndarray:
    """Host (R, N, ...) random ("hot") start; chain k's depends only on the seed and its id."""
    ids = np.asarray(replica_ids)
    n = model.n_sites
    state = np.empty((len(ids), n, *model.site_shape), dtype=model.state_dtype)
    for k, rid in enumerate(ids):
        start = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(rid), 1)))
        state[k] = model.random_state(start, n)
    return state
