"""The start configuration of every replica, the same on every backend."""

import numpy as np

from src.models.spec import ModelSpec


def initial_state(model: ModelSpec, seed: int, replica_ids) -> np.ndarray:
    """Host (R, N) random ("hot") start; replica k's depends only on the seed and its id."""
    ids = np.asarray(replica_ids)
    n = model.n_sites
    state = np.empty((len(ids), n), dtype=model.state_dtype)
    for k, rid in enumerate(ids):
        start = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(rid), 1)))
        if model.continuous:
            state[k] = start.uniform(0.0, 2.0 * np.pi, n)
        else:
            state[k] = start.integers(0, model.q, n)
    return state
