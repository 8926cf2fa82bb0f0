"""Super-resolution networks (src/rg/superres.py): translation covariance, seeded sampling, model
files, and a tiny training on nearly ordered Ising configurations (T = 1.5, L = 8)."""

import numpy as np
import pytest
import torch

from src.rg import block_majority
from src.rg.superres import (
    SuperResolution,
    encode,
    generate,
    labels_of,
    load_superres,
    probabilities,
    run_file_pairs,
    sample,
    save_superres,
    superres_spec,
    train,
)
from src.storage.reader import RunFile
from tests.helpers import sample_runs

N_TRAIN = 150  # of the 200 snapshots per temperature; the rest are held out

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


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    settings = [
        "model.L=8",
        "temperatures=[1.5, 3.5]",
        "sweeps.measure=400",
        "snapshots.every=2",
        "snapshots.representations=[spin,fk_bonds,improved]",
    ]
    return sample_runs(tmp_path_factory.mktemp("superres"), {"ising": settings})["ising"]


@pytest.fixture(scope="module")
def trained_spin_network(run_file):
    torch.manual_seed(0)
    spec = superres_spec("ising", "spin", channels=(16, 16))
    inputs, targets = run_file_pairs(run_file, spec, temperature_index=0)
    network = train(
        SuperResolution(spec), inputs[:N_TRAIN], targets[:N_TRAIN], epochs=20, batch_size=16, lr=3e-3
    )
    return network, inputs[N_TRAIN:]


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


@pytest.mark.parametrize("name", SPECS)
def test_sampling_is_seeded(name):
    spec = SPECS[name]
    torch.manual_seed(2)
    network = SuperResolution(spec)
    coarse = random_configs(spec, 4, 4)
    first, again, other = (generate(network, coarse, 2, seed) for seed in (5, 5, 6))
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


def test_fine_spins_follow_the_block_spin(trained_spin_network):
    """Nearly ordered (T = 1.5): on held-out blocks the fine spins take the block's value."""
    network, held_out = trained_spin_network
    p_up = probabilities(network, held_out)
    block = held_out.repeat_interleave(2, dim=-1).repeat_interleave(2, dim=-2)
    p_agree = torch.where(block > 0, p_up, 1 - p_up)
    assert p_agree.mean() > 0.9


def test_generation_keeps_the_order(run_file, trained_spin_network):
    network, _ = trained_spin_network
    with RunFile(run_file) as run:
        coarse = block_majority(run.snapshots("spin", 0)[N_TRAIN:])
    sizes = generate(network, coarse, 2, seed=0)
    assert [s.shape[1:] for s in sizes] == [(8, 8), (16, 16)]
    assert np.abs(sizes[-1].mean(axis=(1, 2))).mean() > 0.8


def test_bond_network_learns_the_bond_density(run_file):
    """The graph side: predicted occupation of held-out fine bonds matches their density."""
    torch.manual_seed(4)
    spec = SPECS["bonds"]
    inputs, targets = run_file_pairs(run_file, spec, temperature_index=1)
    network = train(SuperResolution(spec), inputs[:N_TRAIN], targets[:N_TRAIN], epochs=10, batch_size=16)
    density = targets[N_TRAIN:].mean()
    assert abs(probabilities(network, inputs[N_TRAIN:]).mean() - density) < 0.05
