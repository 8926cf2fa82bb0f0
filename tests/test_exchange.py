"""Replica exchange: detailed balance against exact acceptances, bookkeeping, determinism, restarts.

The toy system is a set of d-dimensional harmonic oscillators: at temperature T the energy of one
is Gamma(k = d/2, scale T). Drawing every chain's energy afresh at its current temperature before
each attempt stands for perfect equilibration between exchanges.
"""

import h5py
import numpy as np
import pytest
from scipy import integrate, special, stats

from src.sampling.driver.exchange import EXCHANGE_STREAM, ReplicaExchange

N_SIGMA = 4.0
BIG = 1e6  # an energy difference that makes every exponent +-huge


def exact_acceptance(k: float, beta_hot: float, beta_cold: float) -> float:
    """E[min(1, exp[(b_c - b_h)(E_c - E_h)])] for E_c ~ Gamma(k, 1/b_c), E_h ~ Gamma(k, 1/b_h).

    With x = b E ~ Gamma(k) and r = b_h / b_c the exponent is (1 - r)(x_c - x_h / r). For fixed
    x_h the swap is certain when x_c >= x_h / r, and otherwise the x_c-integral of
    f(x_c) exp[(1 - r) x_c] is r^-k P(k, x_h) (P the regularised incomplete gamma function).
    """
    r = beta_hot / beta_cold

    def given_hot(x_h):
        accept = special.gammaincc(k, x_h / r) + np.exp(-(1 - r) * x_h / r) * r**-k * special.gammainc(k, x_h)
        return stats.gamma.pdf(x_h, k) * accept

    return integrate.quad(given_hot, 0, np.inf)[0]


def equilibrium_energies(rx: ReplicaExchange, k: float, rng) -> np.ndarray:
    return rng.gamma(k, 1.0 / rx.betas_of_chains())


def ordered_energies(rx: ReplicaExchange, sign: float) -> np.ndarray:
    """Energies by chain with E_t - E_{t+1} = sign BIG for every pair: every swap certain (+) or
    impossible (-)."""
    return -sign * BIG * rx.temperature_of


def forcing_energies(rx: ReplicaExchange, swaps) -> np.ndarray:
    """Energies by chain that make exactly the pairs (s, t) in `swaps` swap in the next attempt."""
    at = np.zeros(rx.chain_at.shape)
    for t in range(rx.n_attempts % 2, rx.n_T - 1, 2):
        at[:, t + 1] = BIG  # refused unless reversed below
    for s, t in swaps:
        at[s, t], at[s, t + 1] = BIG, 0.0
    energies = np.empty_like(at)
    np.put_along_axis(energies, rx.chain_at, at, axis=1)
    return energies


def assert_consistent(rx: ReplicaExchange):
    n_sets, n_T = rx.chain_at.shape
    assert np.all(np.sort(rx.chain_at, axis=1) == np.arange(n_T))
    assert np.all(np.take_along_axis(rx.temperature_of, rx.chain_at, axis=1) == np.arange(n_T))
    assert np.all(np.take_along_axis(rx.chain_at, rx.temperature_of, axis=1) == np.arange(n_T))


def test_acceptance_matches_exact_for_equilibrated_chains():
    k, betas = 2.0, 1.0 / np.array([1.0, 1.3, 1.7, 2.2, 3.0])
    rx = ReplicaExchange(betas, n_sets=4, seed=11)
    rng = np.random.default_rng(12)
    for _ in range(20000):
        rx.attempt(equilibrium_energies(rx, k, rng))
        assert_consistent(rx)
    attempts = rx.pair_attempts.sum(axis=0)
    exact = np.array([exact_acceptance(k, betas[t + 1], betas[t]) for t in range(betas.size - 1)])
    # Fresh energies and a fresh uniform every time: each attempt is an independent Bernoulli trial.
    sigma = np.sqrt(exact * (1 - exact) / attempts)
    deviation = np.abs(rx.acceptance() - exact) / sigma
    assert np.all(deviation < N_SIGMA), f"acceptance {rx.acceptance()} vs exact {exact}"


def test_exchanges_keep_the_equilibrium_distribution():
    # Detailed balance: energies drawn at equilibrium are still at equilibrium, temperature by
    # temperature, after exchanges alone (no resampling), although many of them moved.
    k, betas = 2.0, 1.0 / np.array([1.0, 1.3, 1.7, 2.2])
    n_sets = 20000
    rx = ReplicaExchange(betas, n_sets=n_sets, seed=21)
    energies = equilibrium_energies(rx, k, np.random.default_rng(22))
    for _ in range(3):
        rx.attempt(energies)
    assert rx.pair_accepts.sum() > n_sets
    x = betas * np.take_along_axis(energies, rx.chain_at, axis=1)  # Gamma(k) at every t
    for moment, exact in ((x, k), (x**2, k * (k + 1))):
        error = moment.std(axis=0) / np.sqrt(n_sets)
        assert np.all(np.abs(moment.mean(axis=0) - exact) < N_SIGMA * error), moment.mean(axis=0)


@pytest.mark.parametrize(
    "n_T, after_even_odd",
    [(5, [1, 3, 0, 4, 2]), (6, [1, 3, 0, 5, 2, 4])],
)
def test_certain_and_impossible_swaps(n_T, after_even_odd):
    betas = np.linspace(1.0, 0.5, n_T)
    rx = ReplicaExchange(betas, n_sets=3, seed=1)
    for _ in range(4):
        rx.attempt(ordered_energies(rx, -1.0))
        assert np.all(rx.chain_at == np.arange(n_T))
    assert rx.pair_accepts.sum() == 0 and np.all(rx.pair_attempts == 2)
    rx.attempt(ordered_energies(rx, +1.0))
    rx.attempt(ordered_energies(rx, +1.0))
    assert np.all(rx.chain_at == after_even_odd)
    assert_consistent(rx)
    assert np.all(rx.betas_of_chains() == betas[rx.temperature_of])
    assert np.all(rx.pair_accepts == 1)
    assert np.all(rx.acceptance() == 1 / 3)


def test_acceptance_is_nan_where_nothing_was_tried():
    rx = ReplicaExchange([1.0, 0.8, 0.6], n_sets=2, seed=0)
    rx.attempt(np.zeros((2, 3)))
    assert np.isnan(rx.acceptance()[1]) and rx.acceptance()[0] == 1.0
    with pytest.raises(ValueError, match="every pair"):
        rx.tune_ladder()


def run(rx: ReplicaExchange, n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(n):
        rx.attempt(equilibrium_energies(rx, 1.5, rng))
        history.append(rx.chain_at.copy())
    return history


def test_same_seed_same_decisions():
    betas = 1.0 / np.linspace(1.0, 2.5, 7)
    a, b, c = (ReplicaExchange(betas, n_sets=3, seed=seed) for seed in (5, 5, 6))
    history_a, history_b, history_c = (run(rx, 200, seed=7) for rx in (a, b, c))
    assert all(np.array_equal(x, y) for x, y in zip(history_a, history_b))
    assert not all(np.array_equal(x, y) for x, y in zip(history_a, history_c))


@pytest.mark.parametrize("storage", ["memory", "npz", "hdf5"])
def test_restored_state_continues_identically(storage, tmp_path):
    betas = 1.0 / np.linspace(1.0, 2.5, 6)
    uninterrupted = ReplicaExchange(betas, n_sets=3, seed=5)
    run(uninterrupted, 101, seed=8)  # odd, so the restart resumes on the odd pairs
    uninterrupted.tune_ladder()
    run(uninterrupted, 50, seed=9)
    state = uninterrupted.state_dict()
    if storage == "npz":
        np.savez(tmp_path / "state.npz", **state)
        state = np.load(tmp_path / "state.npz")
    elif storage == "hdf5":
        with h5py.File(tmp_path / "state.h5", "w") as f:
            for name, value in state.items():
                f[name] = value
        with h5py.File(tmp_path / "state.h5", "r") as f:
            state = {name: f[name][()] for name in f}
    restored = ReplicaExchange(1.0 / np.linspace(1.0, 2.0, 6), n_sets=3, seed=99)
    restored.load_state_dict(state)
    future = run(uninterrupted, 100, seed=10)
    assert all(np.array_equal(x, y) for x, y in zip(future, run(restored, 100, seed=10)))
    for name, value in uninterrupted.state_dict().items():
        assert np.array_equal(value, restored.state_dict()[name]), name
    assert np.array_equal(uninterrupted.temperature_of, restored.temperature_of)


def test_load_refuses_a_mismatched_checkpoint():
    state = ReplicaExchange([1.0, 0.5, 0.2], n_sets=2, seed=0).state_dict()
    rx = ReplicaExchange([1.0, 0.5, 0.2], n_sets=3, seed=0)
    with pytest.raises(ValueError, match="shape"):
        rx.load_state_dict(state)
    state["chain_at"][0] = [0, 0, 2]
    with pytest.raises(ValueError, match="permutation"):
        ReplicaExchange([1.0, 0.5, 0.2], n_sets=2, seed=0).load_state_dict(state)


def test_round_trips_of_a_scripted_walk():
    # Three temperatures; even attempts try the pair (0, 1), odd ones (1, 2). Per attempt: the sets
    # that swap, then chain_at of set 0 and of set 1 after it, and what that counts.
    script = [
        ([0], [1, 0, 2], [0, 1, 2]),  # chain 1 of set 0 reaches the bottom first: nothing
        # set 0: chain 0 bottom -> top, half trip; set 1: chain 1 reaches the top from the middle, nothing
        ([0, 1], [1, 2, 0], [0, 2, 1]),
        ([0, 1], [2, 1, 0], [2, 0, 1]),  # both sets: chain 2 top (its start) -> bottom, round trip
        ([0], [2, 0, 1], [2, 0, 1]),  # set 0: chain 1 bottom -> top, half trip
        ([0], [0, 2, 1], [2, 0, 1]),  # set 0: chain 0 top -> bottom, round trip
        ([], [0, 2, 1], [2, 0, 1]),
        ([0], [2, 0, 1], [2, 0, 1]),  # set 0: chain 2 back at the bottom, not via the top: nothing
        ([0], [2, 1, 0], [2, 0, 1]),  # set 0: chain 0 bottom -> top, its second half trip
        ([0], [1, 2, 0], [2, 0, 1]),  # set 0: chain 1 top -> bottom, round trip
    ]
    rx = ReplicaExchange([1.0, 0.7, 0.4], n_sets=2, seed=0)
    for i, (sets, expected_0, expected_1) in enumerate(script):
        rx.attempt(forcing_energies(rx, [(s, i % 2) for s in sets]))
        assert rx.chain_at.tolist() == [expected_0, expected_1], i
    assert rx.round_trips.tolist() == [[1, 1, 1], [0, 0, 1]]
    assert rx.half_trips.tolist() == [[2, 1, 0], [0, 0, 0]]


def test_random_stream_use_does_not_depend_on_the_energies():
    n_sets, n_T, n = 3, 6, 7
    betas = np.linspace(1.0, 0.4, n_T)
    shape = (n_sets, n_T)
    feeds = {
        "random": lambda rx: np.random.default_rng(rx.n_attempts).normal(size=shape),
        "accept all": lambda rx: ordered_energies(rx, +1.0),
        "refuse all": lambda rx: ordered_energies(rx, -1.0),
        "nan": lambda rx: np.full(shape, np.nan),
    }
    states = []
    for feed in feeds.values():
        rx = ReplicaExchange(betas, n_sets=n_sets, seed=3)
        for _ in range(n):
            rx.attempt(feed(rx))
        states.append(rx.rng.bit_generator.state)
    # 4 even attempts on 3 pairs, 3 odd ones on 2: one uniform per set and pair.
    reference = np.random.Generator(np.random.PCG64(np.random.SeedSequence(3, spawn_key=(EXCHANGE_STREAM,))))
    reference.random(n_sets * (4 * 3 + 3 * 2))
    assert all(state == reference.bit_generator.state for state in states)


def test_tuning_equalises_acceptance():
    # For oscillators the acceptance depends on beta_{t+1} / beta_t only, so equal acceptance
    # means a geometric ladder; start from one equally spaced in beta, far from it.
    k, n_T = 8.0, 6
    rx = ReplicaExchange(np.linspace(1.0, 0.2, n_T), n_sets=16, seed=31)
    rng = np.random.default_rng(32)

    def exact(betas):
        return np.array([exact_acceptance(k, betas[t + 1], betas[t]) for t in range(n_T - 1)])

    assert np.ptp(exact(rx.betas)) > 0.4
    for _ in range(12):
        for _ in range(400):
            rx.attempt(equilibrium_energies(rx, k, rng))
        rx.tune_ladder()
        assert np.all(np.diff(rx.betas) < 0)
        assert rx.pair_attempts.sum() == 0
    assert rx.betas[0] == 1.0 and rx.betas[-1] == 0.2
    assert np.ptp(exact(rx.betas)) < 0.03
    assert np.allclose(rx.betas[1:] / rx.betas[:-1], 0.2 ** (1 / (n_T - 1)), atol=0.01)
