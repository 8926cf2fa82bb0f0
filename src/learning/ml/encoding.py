"""How stored snapshots become the input channels of a network: float32 (n, C, L, L).

Representations that the registry marks as read as stored (correlation, improved, fk_bonds: their
two channels, bonds along x-hat and y-hat) go in as they are; `spin` is encoded by its model
(Model.encode_spin): one channel s = +-1 for ising and the quantum models (sigma^z at imaginary time
0), one-hot q channels for Potts labels (unordered: the symmetry permutes them), (cos theta, sin theta)
for clock and xy alike (so a network trained on one applies to the other).

A two-point input (correlation, improved) can be rescaled by L^x (`data.rescale: x` of the training
config, recorded in the model file and applied again when the network is evaluated): with x = eta_c
its mean G(L/2) L^eta_c is the same at T_c for every L, so that one network's threshold is a
scale-invariant criterion (eta_c = 1/4 for the 2D Ising model and at the KT point).
"""

from __future__ import annotations

import numpy as np

from src.sampling.representations import REPRESENTATIONS

RESCALABLE = ("correlation", "improved")  # two-point correlations, which scale as L^-eta


def channels(model, representation: str) -> int:
    if REPRESENTATIONS[representation].as_stored:
        return model.snapshot_shape(representation)[0]
    return model.spin_channels()


def describe(model, representation: str, rescale: float = 0.0) -> str:
    """The encoding in words, for the metadata of a trained network."""
    if REPRESENTATIONS[representation].as_stored:
        scaled = f", times L^{rescale:g}" if rescale else ""
        return f"{representation}: 2 channels (x-hat, y-hat) as stored{scaled}"
    return model.describe_spin()


def encode(stored: np.ndarray, model, representation: str, rescale: float = 0.0) -> np.ndarray:
    """(n, ...) snapshots as stored in a run file -> (n, C, L, L) float32, times L^rescale."""
    if REPRESENTATIONS[representation].as_stored:
        x = stored.astype(np.float32)
        if rescale:
            x *= np.float32(model.L**rescale)
        return x
    return model.encode_spin(stored)
