"""Inverse RG by super-resolution: a network maps an L/2 configuration to a distribution over L
configurations (Efthymiou, Beach, Melko, PRB 99, 075113 (2019); Shiina et al., Sci. Rep. 11, 9617
(2021)), trained on (block transform of an L configuration -> that configuration) pairs.

Two targets:
- `spin`: the fine spins. Ising: P(s = +1) per site (sigmoid); q-state Potts: a softmax over the
  q labels per site.
- `fk_bonds`: the fine Fortuin-Kasteleyn bonds, per bond (2 channels) the probability p_b of an
  inhomogeneous FK measure (src.learning.rg.fk_measure): a bond whose ends agree is occupied with
  probability p_b, as in a Swendsen-Wang sweep, so training fits the stored bonds given the stored
  spins, and generation samples the measure, factor q^C included, by Edwards-Sokal sweeps. The fine
  `improved` at r = 1 would be a poor target: its sites are deltas of one partition, so they obey
  transitivity around every plaquette, and sampling them site by site gives sets of deltas that
  belong to no partition. Every bond configuration is a valid graph, so the bonds are sampled and
  the partition (cluster labels, hence `improved` at any r) follows from them.

Both sides share one pipeline on *labels* (spins, or cluster labels of the bonds):
  network input = encoding of the coarse labels, coarse labels = block_majority(fine labels).
The graph input is delta(B_I, B_{I + x}), delta(B_I, B_{I + y}) of the coarse labels, i.e. the
coarse `improved` at r' = 1: local, like the bonds it predicts, whereas the stored r' = L'/2 is not.
In generation the sampled fine configuration is turned into labels the same way and fed back, so
the block-cluster partition of training and the FK partition of a generated lattice play the same
role (the RG assumption that both are FK partitions at the renormalised temperature).

Configurations are always sampled from the predicted probabilities with a seeded generator, never
rounded (rounding would produce the most likely configuration, not a typical one).

Training from a config with DDP: src.learning.rg.training; generated configurations as files:
src.learning.rg.generation.
"""

from __future__ import annotations

from functools import cache
from itertools import permutations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from src.learning.ml.networks import ACTIVATIONS
from src.models import make_model, model_class
from src.sampling.graph.labelling import cluster_labels
from src.storage import networks as network_files

from .blocking import BLOCK, block_majority, label_identity
from .fk_measure import FK_SWEEPS, bond_targets, fk_sweeps

TARGETS = ("spin", "fk_bonds")


def superres_spec(
    model: str,
    target: str,
    q: int = 2,
    channels=(32, 32, 32),
    kernel: int = 3,
    activation: str = "relu",
) -> dict:
    """The plain-data description a network is built from and saved with."""
    if not model_class(model).fortuin_kasteleyn:
        raise ValueError(
            f"super-resolution is defined for models of Fortuin-Kasteleyn clusters, not {model!r}"
        )
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r} (allowed: {', '.join(TARGETS)})")
    q = make_model(model, BLOCK, q=q).attributes()["q"]  # ising: 2, whatever was given
    return {
        "model": model,
        "q": q,
        "target": target,
        "channels": list(channels),
        "kernel": kernel,
        "activation": activation,
    }


@cache
def _spin_channels(model: str, q: int) -> int:
    """The spin channels of a network's model (its lattice size does not matter: the network fits
    any L); asked once per (model, q), not per batch."""
    return make_model(model, BLOCK, q=q).spin_channels()


def _potts_spins(spec: dict) -> bool:
    """Whether the network predicts labels (a softmax over one-hot channels, Potts) rather than
    Bernoulli variables (one channel, the Ising spin or a bond)."""
    return spec["target"] == "spin" and _spin_channels(spec["model"], spec["q"]) > 1


def _channels(spec: dict) -> int:
    """Channels of the input and of the output alike: one per bond direction, or the model's spin
    channels (one per Potts label: one-hot in, softmax out; one Ising spin)."""
    if spec["target"] == "fk_bonds":
        return 2
    return _spin_channels(spec["model"], spec["q"])


class SuperResolution(nn.Module):
    """(n, C_in, L/2, L/2) -> (n, C_out, L, L) logits: nearest-neighbour upsampling, then
    convolutions with circular padding and a 1x1 output layer. Every layer commutes with the
    translations of the torus (one coarse site = two fine sites), and one network fits any L.

    On spins the output also commutes exactly with the model's global symmetry (the spin flip, the
    permutations of the q Potts labels), as the block rule does: it is the mean of the layers'
    output over the group, each term relabelled back. A learnt, inexact symmetry would leave a
    small preference for one state that grows when the network is applied repeatedly."""

    def __init__(self, spec: dict):
        super().__init__()
        self.spec = spec
        kernel, act = spec["kernel"], ACTIVATIONS[spec["activation"]]
        layers: list[nn.Module] = [nn.Upsample(scale_factor=BLOCK, mode="nearest")]
        widths = [_channels(spec), *spec["channels"]]
        for c_in, c_out in zip(widths, widths[1:]):
            layers += [nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, padding_mode="circular"), act()]
        layers.append(nn.Conv2d(widths[-1], _channels(spec), 1))
        self.layers = nn.Sequential(*layers)
        if _potts_spins(spec):  # the relabellings pi of the q labels: row k holds pi_k(c), c = 0 ... q - 1
            relabel = torch.tensor(list(permutations(range(spec["q"]))))
            self.register_buffer("relabel", relabel, persistent=False)

    @property
    def evaluations(self) -> int:
        """How many times a call evaluates the layers on each configuration (the group's size)."""
        if self.spec["target"] != "spin":
            return 1
        return len(self.relabel) if _potts_spins(self.spec) else 2

    def forward(self, x):
        if self.spec["target"] != "spin":  # bonds and the deltas they come from do not see the symmetry
            return self.layers(x)
        if not _potts_spins(self.spec):  # odd in the spin: P(+1 | x) = P(-1 | -x)
            flipped = self.layers(torch.cat([x, -x]))
            return (flipped[: len(x)] - flipped[len(x) :]) / 2
        # the mean over pi of pi^-1 . layers(pi . x), where (pi . x)_d = x_{pi^-1(d)} for one-hot channels
        relabel, n = self.relabel, len(x)
        moved = x[:, relabel.argsort(dim=1)].transpose(0, 1).flatten(0, 1)  # (k n, q, L/2, L/2)
        y = self.layers(moved).unflatten(0, (len(relabel), n))  # (k, n, q, L, L)
        back = relabel[:, None, :, None, None].expand_as(y)  # (pi^-1 . y)_c = y_{pi(c)}
        return y.gather(2, back).mean(dim=0)


# ---- configurations <-> labels <-> network input -------------------------------------------------


def labels_of(configs, spec: dict) -> np.ndarray:
    """Spins are their own labels; bonds (..., 2, L, L) give their cluster labels (..., L, L)."""
    return cluster_labels(configs) if spec["target"] == "fk_bonds" else np.asarray(configs)


def encode(labels, spec: dict) -> torch.Tensor:
    """Network input (n, C_in, L, L) float32 of labels (n, L, L)."""
    labels = np.asarray(labels)
    if spec["target"] == "fk_bonds":
        return torch.from_numpy(label_identity(labels, 1))
    if _potts_spins(spec):
        one_hot = F.one_hot(torch.from_numpy(labels.astype(np.int64)), spec["q"])
        return one_hot.permute(0, 3, 1, 2).float()
    return torch.from_numpy(labels.astype(np.float32))[:, None]


def target_tensor(configs, spec: dict, spins=None) -> torch.Tensor:
    """What the loss compares the logits with: Potts labels (n, L, L) int64, the Ising spin
    (n, 1, L, L) float32 (1 for s = +1), or for bonds (n, 2, L, L) float32 the bond where its ends
    agree in `spins` and fk_measure.UNSATISFIED where they differ."""
    configs = np.asarray(configs)
    if _potts_spins(spec):
        return torch.from_numpy(configs.astype(np.int64))
    if spec["target"] == "spin":
        return torch.from_numpy(configs == 1).float()[:, None]
    if spins is None:
        raise ValueError("the bond targets need the spins the bonds were drawn from")
    return torch.from_numpy(bond_targets(configs, spins))


def training_pairs(configs, spec: dict, spins=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(input of the block transform, target) for fine configurations (n, L, L) spins or
    (n, 2, L, L) bonds with their spins (n, L, L)."""
    coarse = block_majority(labels_of(configs, spec))
    return encode(coarse, spec), target_tensor(configs, spec, spins)


# ---- probabilities and sampling ------------------------------------------------------------------


def probabilities(network: SuperResolution, inputs: torch.Tensor) -> torch.Tensor:
    """P(label) (n, q, L, L) for Potts spins, otherwise P(variable = 1) (n, C_out, L, L)."""
    with torch.no_grad():
        logits = network(inputs.to(_device(network)))
    return logits.softmax(dim=1) if _potts_spins(network.spec) else logits.sigmoid()


def sample(probs: torch.Tensor, spec: dict, generator: torch.Generator) -> np.ndarray:
    """Configurations drawn from the probabilities, in the run-file representation: ising +-1
    int8 (n, L, L), Potts labels int8 (n, L, L), or bonds uint8 (n, 2, L, L)."""
    if _potts_spins(spec):
        # inverse CDF: the label is the number of cumulative probabilities below a uniform number
        u = torch.rand(probs[:, :1].shape, generator=generator, device=probs.device)
        labels = (probs.cumsum(dim=1)[:, :-1] < u).sum(dim=1)
        return labels.cpu().numpy().astype(np.int8)
    drawn = torch.bernoulli(probs, generator=generator).cpu().numpy()
    if spec["target"] == "spin":
        return (2 * drawn[:, 0] - 1).astype(np.int8)
    return drawn.astype(np.uint8)


def random_stream(network: SuperResolution, seed: int) -> torch.Generator:
    """The seeded random stream of sampling, on the network's device."""
    return torch.Generator(device=_device(network)).manual_seed(seed)


def generate(
    network: SuperResolution, labels, steps: int, stream: torch.Generator, sweeps: int = FK_SWEEPS
) -> list[np.ndarray]:
    """Apply the network `steps` times, L -> 2L -> 4L ..., each step sampling its configurations
    and feeding their labels to the next. labels: (n, L, L) of the start, spins or cluster labels
    (labels_of a configuration, or block_majority of those of a configuration of 2L). Bonds come
    from `sweeps` Edwards-Sokal sweeps of the FK measure of the predicted probabilities
    (src.learning.rg.fk_measure) that start from the block's partition (every fine site in the
    cluster of its block); with sweeps = 0 they are drawn independently. Spins are independent
    given the block. Returns the sampled configurations of every step, in the network's target
    representation."""
    out = []
    network.eval()
    for _ in range(steps):
        probs = probabilities(network, encode(labels, network.spec))
        if network.spec["target"] == "fk_bonds" and sweeps:  # from the block's partition, painted
            fine = np.asarray(labels).repeat(BLOCK, axis=-2).repeat(BLOCK, axis=-1)
            configs = fk_sweeps(probs, fine, network.spec["q"], sweeps, stream)
        else:
            configs = sample(probs, network.spec, stream)
        labels = labels_of(configs, network.spec)
        out.append(configs)
    return out


# ---- training and files --------------------------------------------------------------------------


def _device(network: nn.Module) -> torch.device:
    return next(network.parameters()).device


def _free(targets: torch.Tensor, spec: dict) -> torch.Tensor:
    """Which targets are random variables of the model: all spins; the bonds whose ends agree
    (where they differ the bond is empty under the FK measure whatever the network says)."""
    if spec["target"] == "fk_bonds":
        return targets >= 0
    return torch.ones_like(targets, dtype=torch.bool)


def _per_configuration(values: torch.Tensor, free: torch.Tensor) -> torch.Tensor:
    """The mean of `values` over each configuration's free variables (n,)."""
    return (values * free).flatten(1).sum(dim=1) / free.flatten(1).sum(dim=1).clamp(min=1)


def losses(logits: torch.Tensor, targets: torch.Tensor, spec: dict) -> torch.Tensor:
    """Cross entropy of every configuration (n,), per variable: the mean over its sites, or over
    its bonds whose ends agree (the conditional likelihood of the bonds given the spins)."""
    if _potts_spins(spec):
        per_variable = F.cross_entropy(logits, targets, reduction="none")
    else:
        per_variable = F.binary_cross_entropy_with_logits(logits, targets.clamp(min=0), reduction="none")
    return _per_configuration(per_variable, _free(targets, spec))


def agreement(logits: torch.Tensor, targets: torch.Tensor, spec: dict) -> torch.Tensor:
    """The fraction (n,) of each configuration's variables (as in `losses`) whose most likely value
    is the target's."""
    same = logits.argmax(dim=1) == targets if _potts_spins(spec) else (logits > 0) == (targets > 0.5)
    return _per_configuration(same.float(), _free(targets, spec))


def save_superres(path, network: SuperResolution, meta: dict | None = None) -> None:
    """The network's spec and weights, in a src.storage.networks file; meta: plain data."""
    network_files.save_superres(path, network.spec, network, meta)


def load_superres(path, device: str | torch.device = "cpu") -> tuple[SuperResolution, dict]:
    """The saved network, in eval mode on `device`, and its meta; NetworkFileError when the file
    is not a super-resolution network."""
    spec, state_dict, meta = network_files.read_superres(path, device)
    network = SuperResolution(spec)
    network.load_state_dict(state_dict)
    return network.to(device).eval(), meta
