"""How stored snapshots become the input channels of a network: float32 (n, C, L, L).

Representations that the registry marks as read as stored (correlation, improved, fk_bonds: their
two channels, bonds along x-hat and y-hat) go in as they are; `spin` is encoded by its model
(Model.encode_spin): one channel s = +-1 for ising and the quantum models (sigma^z at imaginary time
0), one-hot q channels for Potts labels (unordered: the symmetry permutes them), (cos theta, sin theta)
for clock and xy alike (so a network trained on one applies to the other).
"""

from __future__ import annotations

import numpy as np

from src.sampling.representations import REPRESENTATIONS


def channels(model, representation: str) -> int:
    if REPRESENTATIONS[representation].as_stored:
        return model.snapshot_shape(representation)[0]
    return model.spin_channels()


def describe(model, representation: str) -> str:
    """The encoding in words, for the metadata of a trained network."""
    if REPRESENTATIONS[representation].as_stored:
        return f"{representation}: 2 channels (x-hat, y-hat) as stored"
    return model.describe_spin()


def encode(stored: np.ndarray, model, representation: str) -> np.ndarray:
    """(n, ...) snapshots as stored in a run file -> (n, C, L, L) float32."""
    if REPRESENTATIONS[representation].as_stored:
        return stored.astype(np.float32)
    return model.encode_spin(stored)
