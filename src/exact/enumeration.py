"""Brute-force enumeration of every configuration of a tiny L x L periodic lattice.

A configuration assigns a digit k in {0..q-1} to each site n = y * L + x. The
configuration index is the base-q number whose most significant digit is site 0, so
configurations come in lexicographic order of their flattened state arrays. Ising
digits map to spins s = 1 - 2k (index 0 is all spins up).

The lattice is built from rows: a configuration is L row states r_y in {0..q^L - 1},
its energy is sum_y [horizontal(r_y) + vertical(r_y, r_{y+1})], both with periodic
wrap-around, which is also the decomposition the transfer matrix uses. On L = 2 the
wrap-around counts the pairs (i, i+x) and (i, i-x) separately, i.e. 2N = 8 bonds.
"""

from dataclasses import dataclass

import numpy as np

MODELS = ("ising", "potts", "clock")
MAX_STATES = 1 << 24  # 1.7e7: energies, m^2 and states stay within a few hundred MB
_CHUNK = 1 << 18


def resolve_q(model: str, q: int | None) -> int:
    """Validate the model name and return its number of states per site."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; expected one of {MODELS}")
    if model == "ising":
        if q not in (None, 2):
            raise ValueError(f"ising has q = 2 states per site, got q = {q}")
        return 2
    if q is None or int(q) != q or q < 2:
        raise ValueError(f"{model} needs an integer q >= 2, got q = {q}")
    return int(q)


def pair_energy_table(model: str, q: int | None, J: float) -> np.ndarray:
    """Energy of one bond, indexed [k_i, k_j] by the digits of its two sites."""
    q = resolve_q(model, q)
    k = np.arange(q)
    if model == "ising":
        spin = 1 - 2 * k
        return -J * np.outer(spin, spin).astype(float)
    if model == "potts":
        return -J * np.eye(q)
    return -J * np.cos(2 * np.pi * (k[:, None] - k[None, :]) / q)


def site_vectors(model: str, q: int | None) -> np.ndarray:
    """Order-parameter vector v(k) of one site, shape (q, components).

    Chosen so that m^2 = |sum_i v(k_i)|^2 / N^2 reproduces the project's definitions and
    v(a) . v(b) is the two-point function f: s s (ising), cos(theta_a - theta_b)
    (clock), (q delta_ab - 1)/(q - 1) (potts, from the simplex embedding
    sqrt(q/(q-1)) (e_a - 1/q)).
    """
    q = resolve_q(model, q)
    k = np.arange(q)
    if model == "ising":
        return (1.0 - 2.0 * k)[:, None]
    if model == "potts":
        return np.sqrt(q / (q - 1)) * (np.eye(q) - 1.0 / q)
    angle = 2 * np.pi * k / q
    return np.stack([np.cos(angle), np.sin(angle)], axis=1)


@dataclass(frozen=True)
class RowTables:
    """Per-row-state quantities of an L-site periodic row with q states per site.

    digits: (R, L) site digits of each row state, R = q^L, first site most significant.
    horizontal_energy: (R,) energy of the L bonds inside the row.
    vertical_energy: (R, R) energy of the L bonds from a row to the row below it.
    components: (R, c) sum over the row of the site order-parameter vectors.
    """

    digits: np.ndarray
    horizontal_energy: np.ndarray
    vertical_energy: np.ndarray
    components: np.ndarray


def row_tables(model: str, L: int, q: int | None, J: float) -> RowTables:
    """Tabulate the row energies and order-parameter sums of every row state."""
    q = resolve_q(model, q)
    pair = pair_energy_table(model, q, J)
    n_rows = q**L
    index = np.arange(n_rows)
    digits = np.stack([(index // q ** (L - 1 - x)) % q for x in range(L)], axis=1)
    horizontal = sum(pair[digits[:, x], digits[:, (x + 1) % L]] for x in range(L))
    vertical = sum(pair[digits[:, x][:, None], digits[:, x][None, :]] for x in range(L))
    components = site_vectors(model, q)[digits].sum(axis=1)
    return RowTables(digits.astype(np.int8), horizontal, vertical, components)


def state_count(L: int, q: int) -> int:
    """Number of configurations q^(L^2), raising ValueError beyond MAX_STATES."""
    if L < 1:
        raise ValueError(f"L must be >= 1, got {L}")
    count = q ** (L * L)
    if count > MAX_STATES:
        raise ValueError(
            f"{q}^({L}x{L}) = {count:.3g} configurations exceed the enumeration limit "
            f"of {MAX_STATES:.3g}; use the transfer matrix or Monte Carlo instead"
        )
    return count


def _evaluate(tables: RowTables, L: int, start: int, stop: int, with_states: bool):
    """Energy, m^2 and optionally the digits of configurations start..stop-1."""
    n_row_states = len(tables.digits)
    index = np.arange(start, stop, dtype=np.int64)
    rows = [(index // n_row_states ** (L - 1 - y)) % n_row_states for y in range(L)]
    energy = np.zeros(stop - start)
    total = np.zeros((stop - start, tables.components.shape[1]))
    for y in range(L):
        below = rows[(y + 1) % L]
        energy += tables.horizontal_energy[rows[y]]
        energy += tables.vertical_energy[rows[y], below]
        total += tables.components[rows[y]]
    m2 = (total**2).sum(axis=1) / float(L * L) ** 2
    digits = np.stack([tables.digits[r] for r in rows], axis=1) if with_states else None
    return energy, m2, digits


def _energies_and_m2(model, L, q, J, with_states):
    """Energy and m^2 of every configuration (and the states), filled chunk by chunk so
    that the peak memory is the output plus one chunk."""
    q = resolve_q(model, q)
    count = state_count(L, q)
    tables = row_tables(model, L, q, J)
    energy, m2 = np.empty(count), np.empty(count)
    states = np.empty((count, L, L), dtype=np.int8) if with_states else None
    for start in range(0, count, _CHUNK):
        stop = min(start + _CHUNK, count)
        energy[start:stop], m2[start:stop], digits = _evaluate(tables, L, start, stop, with_states)
        if with_states:
            states[start:stop] = 1 - 2 * digits if model == "ising" else digits
    return energy, m2, states


@dataclass(frozen=True)
class EnumeratedStates:
    """Every configuration of the lattice, in configuration-index order.

    states: (n, L, L) int8, spins +-1 for ising, digits k for potts and clock.
    energy: (n,) total energy E.
    m2: (n,) squared order parameter per the project's definition of each model.
    """

    states: np.ndarray
    energy: np.ndarray
    m2: np.ndarray


def enumerate_states(model: str, L: int, q: int | None, J: float = 1.0) -> EnumeratedStates:
    """List every configuration of the L x L torus with its energy and m^2.

    q is ignored-but-checked for ising (None or 2). Raises ValueError when q^(L^2)
    exceeds MAX_STATES.
    """
    energy, m2, states = _energies_and_m2(model, L, q, J, with_states=True)
    return EnumeratedStates(states, energy, m2)


def _weights(energy: np.ndarray, beta: float) -> tuple[np.ndarray, float]:
    """Boltzmann weights relative to the ground state and ln of their sum's scale."""
    lowest = energy.min()
    return np.exp(-beta * (energy - lowest)), -beta * lowest


def boltzmann_probabilities(model: str, L: int, q: int | None, beta: float, J: float = 1.0) -> np.ndarray:
    """Probability of each configuration at inverse temperature beta.

    Same order as enumerate_states; weights are taken relative to the lowest energy so
    that nothing overflows at any beta.
    """
    energy, _, _ = _energies_and_m2(model, L, q, J, with_states=False)
    weights, _ = _weights(energy, beta)
    return weights / weights.sum()


@dataclass(frozen=True)
class ExactAverages:
    """Exact thermal averages: energy <e> and specific heat c per site, <m^2>, <m^4>,
    and the total ln Z."""

    energy: float
    specific_heat: float
    m2: float
    m4: float
    lnZ: float


def exact_averages(model: str, L: int, q: int | None, beta: float, J: float = 1.0) -> ExactAverages:
    """Exact averages on the L x L torus by summing over every configuration.

    c = beta^2 N (<e^2> - <e>^2) is computed from centred energies to avoid
    cancellation; m^4 = (m^2)^2 per configuration.
    """
    energy, m2, _ = _energies_and_m2(model, L, q, J, with_states=False)
    prob, log_scale = _weights(energy, beta)
    norm = prob.sum()
    prob /= norm
    mean_energy = prob @ energy
    variance = prob @ (energy - mean_energy) ** 2
    n_sites = L * L
    return ExactAverages(
        energy=float(mean_energy / n_sites),
        specific_heat=float(beta**2 * variance / n_sites),
        m2=float(prob @ m2),
        m4=float(prob @ m2**2),
        lnZ=float(log_scale + np.log(norm)),
    )
