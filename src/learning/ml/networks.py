"""The classifiers. Both map (n, C, L, L) float32 to (n, n_classes) logits.

- FullyConnected: the network of Carrasquilla and Melko (Nat. Phys. 13, 431 (2017)), also used by
  Shiina et al.: the flattened configuration, one hidden layer, the output layer. Its input size
  is fixed by L.
- PeriodicCNN: convolutions with periodic (circular) padding and stride 1, then the mean over the
  lattice. The convolutions commute with translations of the torus and the mean is invariant, so
  the output is exactly invariant under translations and one network applies to any L.

A network is built from a spec: plain data (kind, in_channels, n_classes, L, and the settings of
its kind), which the model files store so that a network can be rebuilt without the config
(load_model; the files themselves are src.storage.networks).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from src.storage.networks import read_model

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}


class FullyConnected(nn.Sequential):
    def __init__(self, in_channels: int, L: int, n_classes: int, hidden: int, activation: str):
        super().__init__(
            nn.Flatten(),
            nn.Linear(in_channels * L * L, hidden),
            ACTIVATIONS[activation](),
            nn.Linear(hidden, n_classes),
        )


class PeriodicCNN(nn.Module):
    def __init__(self, in_channels: int, n_classes: int, channels: list[int], kernel: int, activation: str):
        super().__init__()
        layers = []
        for c_in, c_out in zip([in_channels, *channels], channels):
            layers += [
                nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, padding_mode="circular"),
                ACTIVATIONS[activation](),
            ]
        self.features = nn.Sequential(*layers)
        self.classify = nn.Linear(channels[-1], n_classes)

    def forward(self, x):
        return self.classify(self.features(x).mean(dim=(-2, -1)))


def network_spec(network_config, in_channels: int, n_classes: int, L: int | None) -> dict:
    """The spec of the network a NetworkConfig describes (L: the lattice size, for fcn)."""
    spec = {
        "kind": network_config.kind,
        "in_channels": in_channels,
        "n_classes": n_classes,
        "activation": network_config.activation_name(),
    }
    if network_config.kind == "fcn":
        return {**spec, "L": L, "hidden": network_config.hidden}
    return {**spec, "channels": list(network_config.channels), "kernel": network_config.kernel}


def build_network(spec: dict) -> nn.Module:
    c, k, act = spec["in_channels"], spec["n_classes"], spec["activation"]
    if spec["kind"] == "fcn":
        return FullyConnected(c, spec["L"], k, spec["hidden"], act)
    return PeriodicCNN(c, k, spec["channels"], spec["kernel"], act)


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[nn.Module, dict]:
    """A trained network of a model file, in eval mode on `device`, and its metadata (see
    src.storage.networks.read_model); NetworkFileError when the file is not a model file."""
    state_dict, meta = read_model(path, device)
    network = build_network(meta["network"])
    network.load_state_dict(state_dict)
    return network.to(device).eval(), meta
