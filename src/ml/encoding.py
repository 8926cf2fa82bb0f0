"""How stored snapshots become the input channels of a network: float32 (n, C, L, L).

- correlation, improved, fk_bonds: their two channels (bonds along x-hat and y-hat) as they are.
- spin of ising and of the quantum models: one channel s = +-1 (quantum: sigma^z at imaginary
  time 0).
- spin of potts: one-hot, q channels. The Potts labels are unordered (the symmetry permutes them),
  so they are not fed as numbers.
- spin of clock and xy: two channels (cos theta, sin theta), the planar spin vector. The network
  sees the vector rather than an angle with a cut at 2 pi, and clock and xy are encoded alike, so a
  network trained on one can be applied to the other.
"""

from __future__ import annotations

import numpy as np

from src.graph.representations import angles
from src.models.spec import ModelSpec


def _spin_encoding(model: ModelSpec) -> str:
    if model.name == "ising" or model.quantum:
        return "sign"
    return "one-hot" if model.name == "potts" else "planar"


def channels(model: ModelSpec, representation: str) -> int:
    if representation != "spin":
        return 2
    return {"sign": 1, "one-hot": model.q, "planar": 2}[_spin_encoding(model)]


def describe(model: ModelSpec, representation: str) -> str:
    """The encoding in words, for the metadata of a trained network."""
    if representation != "spin":
        return f"{representation}: 2 channels (x-hat, y-hat) as stored"
    return {
        "sign": "spin: 1 channel, s = +-1",
        "one-hot": f"spin: one-hot, {model.q} channels",
        "planar": "spin: 2 channels (cos theta, sin theta)",
    }[_spin_encoding(model)]


def encode(stored: np.ndarray, model: ModelSpec, representation: str) -> np.ndarray:
    """(n, ...) snapshots as stored in a run file -> (n, C, L, L) float32."""
    if representation != "spin":
        return stored.astype(np.float32)
    kind = _spin_encoding(model)
    if kind == "sign":
        return stored[:, None].astype(np.float32)
    if kind == "one-hot":
        return (stored[:, None] == np.arange(model.q, dtype=stored.dtype)[:, None, None]).astype(np.float32)
    theta = angles(model, stored, np)
    return np.stack([np.cos(theta), np.sin(theta)], axis=1).astype(np.float32)
