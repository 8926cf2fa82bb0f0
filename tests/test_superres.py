"""Super-resolution networks (src/rg/superres.py): translation covariance, seeded sampling, the
loss, model files. Training and generated files: tests/test_superres_train.py."""

import numpy as np
import pytest
import torch

from src.learning.rg.fk_measure import agreeing
from src.learning.rg.superres import (
    SuperResolution,
    agreement,
    encode,
    generate,
    labels_of,
    load_superres,
    losses,
    probabilities,
    random_stream,
    sample,
    save_superres,
    superres_spec,
    training_pairs,
)

SPECS = {
    "ising spin": superres_spec("ising", "spin", channels=(8, 8)),
    "potts spin": superres_spec("potts", "spin", q=3, channels=(8, 8)),
    "bonds": superres_spec("ising", "fk_bonds", channels=(8, 8)),
}


def random_configs(spec, n, L, seed=0):
    rng = np.random.default_rng(seed)
    if spec["target"] == "fk_bonds":
        return rng.integers(0, 2, size=(n, 2, L, L), dtype=np.uint8)
    if spec["model"] == "potts":
        return rng.integers(0, spec["q"], size=(n, L, L), dtype=np.int8)
    return (2 * rng.integers(0, 2, size=(n, L, L)) - 1).astype(np.int8)


@pytest.mark.parametrize("name", SPECS)
def test_shapes_and_translation_covariance(name):
    """Shifting the input by one coarse site shifts every output probability by two fine sites."""
    spec = SPECS[name]
    torch.manual_seed(1)
    network = SuperResolution(spec)
    inputs = encode(labels_of(random_configs(spec, 3, 6), spec), spec)
    probs = probabilities(network, inputs)
    assert probs.shape == (3, inputs.shape[1], 12, 12)  # one output channel per input channel
    shifted = probabilities(network, inputs.roll(shifts=(1, -1), dims=(-2, -1)))
    assert torch.allclose(shifted, probs.roll(shifts=(2, -2), dims=(-2, -1)), atol=1e-6)


@pytest.mark.parametrize("name", ["ising spin", "potts spin"])
def test_spin_networks_commute_with_the_global_symmetry(name):
    """Flipping the Ising spins, or permuting the Potts labels, of the input does the same to the
    output probabilities: exactly, for any weights."""
    spec = SPECS[name]
    torch.manual_seed(6)
    network = SuperResolution(spec)
    labels = random_configs(spec, 3, 6)
    probs = probabilities(network, encode(labels, spec))
    if spec["model"] == "ising":
        flipped = probabilities(network, encode(-labels, spec))
        torch.testing.assert_close(flipped, 1 - probs, rtol=0, atol=1e-6)
        return
    for relabel in ([1, 2, 0], [0, 2, 1], [2, 1, 0]):
        moved = probabilities(network, encode(np.array(relabel, dtype=np.int8)[labels], spec))
        torch.testing.assert_close(moved[:, relabel], probs, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", SPECS)
def test_sampling_is_seeded(name):
    spec = SPECS[name]
    torch.manual_seed(2)
    network = SuperResolution(spec)
    coarse = labels_of(random_configs(spec, 4, 4), spec)
    first, again, other = (generate(network, coarse, 2, random_stream(network, seed)) for seed in (5, 5, 6))
    shape = (4, 2, 16, 16) if spec["target"] == "fk_bonds" else (4, 16, 16)
    assert first[1].shape == shape
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[1], other[1])


def test_samples_follow_the_probabilities():
    """Sampled, not rounded: the frequencies of the drawn values match the probabilities."""
    generator = torch.Generator().manual_seed(0)
    p_up = torch.full((2000, 1, 4, 4), 0.3)
    spins = sample(p_up, SPECS["ising spin"], generator)
    assert set(np.unique(spins)) == {-1, 1}
    assert abs((spins == 1).mean() - 0.3) < 0.01
    p_labels = torch.tensor([0.2, 0.5, 0.3]).view(1, 3, 1, 1).expand(2000, 3, 4, 4)
    labels = sample(p_labels, SPECS["potts spin"], generator)
    assert np.allclose(np.bincount(labels.ravel(), minlength=3) / labels.size, [0.2, 0.5, 0.3], atol=0.01)


def test_save_and_load(tmp_path):
    spec = SPECS["potts spin"]
    torch.manual_seed(3)
    network = SuperResolution(spec)
    save_superres(tmp_path / "net.pt", network, {"temperature": 1.5})
    loaded, meta = load_superres(tmp_path / "net.pt")
    assert meta == {"temperature": 1.5} and loaded.spec == spec
    inputs = encode(random_configs(spec, 2, 4), spec)
    assert torch.equal(probabilities(loaded, inputs), probabilities(network, inputs))


@pytest.mark.parametrize("name", SPECS)
def test_loss_is_the_cross_entropy_per_variable(name):
    """losses: the mean over a configuration's variables of -log P(its value); agreement: the
    fraction of variables whose most likely value is the target's. The variables of the graph side
    are the bonds whose ends agree."""
    spec = SPECS[name]
    torch.manual_seed(5)
    network = SuperResolution(spec)
    configs, spins = random_configs(spec, 3, 8), None
    free = torch.ones(3, 1, 8, 8, dtype=torch.bool)
    if spec["target"] == "fk_bonds":  # bonds only where the ends agree; the others are no variables
        spins = random_configs(SPECS["ising spin"], 3, 8, seed=1)
        free = torch.from_numpy(agreeing(spins))
        configs = configs * free.numpy()
    inputs, targets = training_pairs(configs, spec, spins)
    logits = network(inputs)
    probs = probabilities(network, inputs)
    if spec["model"] == "potts":
        p_target = probs.gather(1, targets[:, None])
    else:
        p_target = torch.where(targets > 0.5, probs, 1 - probs)
    per_configuration = [-p[f].log().mean() for p, f in zip(p_target, free.expand_as(p_target))]
    torch.testing.assert_close(
        losses(logits, targets, spec), torch.stack(per_configuration), rtol=1e-5, atol=1e-6
    )
    likely = probs.argmax(dim=1, keepdim=True) if spec["model"] == "potts" else (probs > 0.5).float()
    target_values = targets[:, None] if spec["model"] == "potts" else targets
    same = [(lk == t)[f].float().mean() for lk, t, f in zip(likely, target_values, free.expand_as(likely))]
    torch.testing.assert_close(agreement(logits, targets, spec), torch.stack(same))
