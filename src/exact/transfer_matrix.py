"""Exact averages on the L x L torus from the row-to-row transfer matrix.

T[a, b] = exp(-beta [h(a)/2 + v(a, b) + h(b)/2]) for row states a, b (h: bonds inside a
row, v: bonds between consecutive rows) is real symmetric, so Z = Tr T^L = sum_mu
lambda_mu^L. A two-point function is a trace with diagonal insertions,

    G(dy, dx) = Tr[D_0 T^dy D_dx T^(L - dy)] / Z,

with D_x = diag(v(k_x)) the order-parameter vector of site x of the row (see
Model.site_vectors of src.models.tables: v(a) . v(b) is s s, cos(theta_a - theta_b) or
(q delta_ab - 1)/(q - 1)); for the clock model its two components are the real and
imaginary parts of exp(i theta). In the eigenbasis each trace is a double sum over
eigenvalue powers. Every bond appears once for L >= 3 and twice on L = 2, as in the
enumeration.
"""

from dataclasses import dataclass

import numpy as np

from .enumeration import row_tables, table_model

MAX_ROW_STATES = 2500  # dense eigendecomposition of q^L x q^L in a few seconds


@dataclass(frozen=True)
class TransferMatrixAverages:
    """energy: <e> per site; m2: <m^2>; nn_correlation: G at distance 1 (horizontal and
    vertical averaged); correlation: (L, L) array G(dy, dx); lnZ: total ln Z."""

    energy: float
    m2: float
    nn_correlation: float
    correlation: np.ndarray
    lnZ: float


def transfer_matrix_averages(
    model: str, L: int, q: int | None, beta: float, J: float = 1.0
) -> TransferMatrixAverages:
    """Exact <e>, <m^2> and two-point functions of ising, potts or clock on L x L.

    <e> comes from the nearest-neighbour functions G(0, 1) (in a row) and G(1, 0)
    (between rows); <m^2> = (1/N) sum_j G(0, j). Raises ValueError when the q^L row
    states exceed MAX_ROW_STATES.
    """
    if int(L) != L or L < 2:
        raise ValueError(f"L must be an integer >= 2, got {L}")
    L = int(L)
    lattice = table_model(model, L, q, J)
    q = lattice.q
    if q**L > MAX_ROW_STATES:
        raise ValueError(f"{q}^{L} = {q**L} row states exceed the transfer-matrix limit of {MAX_ROW_STATES}")
    tables = row_tables(lattice)
    half_row = tables.horizontal_energy / 2
    exponent = -beta * (half_row[:, None] + tables.vertical_energy + half_row[None, :])
    shift = exponent.max()
    eigenvalues, basis = np.linalg.eigh(np.exp(exponent - shift))
    scale = np.abs(eigenvalues).max()
    powers = (eigenvalues / scale)[None, :] ** np.arange(L + 1)[:, None]
    norm = powers[L].sum()

    vectors = lattice.site_vectors()

    def in_eigenbasis(x: int, component: int) -> np.ndarray:
        """U^T D U for the insertion of one vector component at site x of the row."""
        diagonal = vectors[tables.digits[:, x], component]
        return basis.T @ (diagonal[:, None] * basis)

    components = range(vectors.shape[1])
    at_origin = [in_eigenbasis(0, c) for c in components]
    correlation = np.empty((L, L))
    for dx in range(L):
        overlap = sum(at_origin[c] * in_eigenbasis(dx, c) for c in components)
        for dy in range(L):
            correlation[dy, dx] = powers[L - dy] @ overlap @ powers[dy] / norm

    nn = correlation[0, 1], correlation[1, 0]
    energy = lattice.energy_from_corr_nn(np.mean(nn))  # E/N from the bond-averaged correlation
    return TransferMatrixAverages(
        energy=float(energy),
        m2=float(correlation.sum() / L**2),
        nn_correlation=float(np.mean(nn)),
        correlation=correlation,
        lnZ=float(L * (shift + np.log(scale)) + np.log(norm)),
    )
