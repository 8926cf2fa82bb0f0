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

from dataclasses import dataclass, fields

import numpy as np

from src.models import model_class
from src.models.base import REGISTRY
from src.models.tables import TableModel

MAX_STATES = 1 << 24  # 1.7e7: energies, m^2 and states stay within a few hundred MB
_CHUNK = 1 << 18
# the models of q labels with a pair table (src.models.tables), the ones enumeration applies to
TABLE_MODELS = tuple(name for name, cls in REGISTRY.items() if issubclass(cls, TableModel))


def table_model(name: str, L: int, q: int | None, J: float = 1.0) -> TableModel:
    """The label model `name` on the L x L torus; ValueError for other models and bad q."""
    if name not in TABLE_MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {TABLE_MODELS}")
    cls = model_class(name)
    if "q" in {f.name for f in fields(cls) if f.init} and (q is None or int(q) != q or q < 2):
        raise ValueError(f"{name} needs an integer q >= 2, got q = {q}")
    return cls.from_config(L, J, q=q)  # ising refuses any q but 2


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


def row_tables(model: TableModel) -> RowTables:
    """Tabulate the row energies and order-parameter sums of every row state."""
    L, q = model.L, model.q
    pair = -model.J * model.pair_table()
    n_rows = q**L
    index = np.arange(n_rows)
    digits = np.stack([(index // q ** (L - 1 - x)) % q for x in range(L)], axis=1)
    horizontal = sum(pair[digits[:, x], digits[:, (x + 1) % L]] for x in range(L))
    vertical = sum(pair[digits[:, x][:, None], digits[:, x][None, :]] for x in range(L))
    components = model.site_vectors()[digits].sum(axis=1)
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


def _energies_and_m2(model: TableModel, with_states):
    """Energy and m^2 of every configuration (and the states), filled chunk by chunk so
    that the peak memory is the output plus one chunk."""
    L = model.L
    count = state_count(L, model.q)
    tables = row_tables(model)
    energy, m2 = np.empty(count), np.empty(count)
    states = np.empty((count, L, L), dtype=np.int8) if with_states else None
    for start in range(0, count, _CHUNK):
        stop = min(start + _CHUNK, count)
        energy[start:stop], m2[start:stop], digits = _evaluate(tables, L, start, stop, with_states)
        if with_states:
            states[start:stop] = model.spin_from_labels(digits)
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
    energy, m2, states = _energies_and_m2(table_model(model, L, q, J), with_states=True)
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
    energy, _, _ = _energies_and_m2(table_model(model, L, q, J), with_states=False)
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
    energy, m2, _ = _energies_and_m2(table_model(model, L, q, J), with_states=False)
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
