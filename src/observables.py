"""Per-measurement observables of a batch of replicas, written against numpy or cupy (`xp`).

Every value is per site and has shape (R,). Names (shared with the files and src.stats):
- energy: E / N.
- m2, m4, m_abs: squared, fourth power and modulus of the order parameter m. Ising: m = mean s.
  Potts: the (q-1)-component simplex vector, m^2 = (q sum_a rho_a^2 - 1)/(q - 1), rho_a the
  fraction of sites with label a (the normalisation of the correlation (q delta - 1)/(q - 1)).
  Clock, xy: m = (mean cos theta, mean sin theta).
- m (ising), mx and my (clock, xy): the order parameter's components.
- helicity_cos = (1/2N) sum_i [cos(theta_i - theta_{i+x}) + cos(theta_i - theta_{i+y})] and
  helicity_sin2 = [(sum_i sin(theta_i - theta_{i+x}))^2 + (same for y)] / (2 N^2) (clock, xy),
  so the helicity modulus is Upsilon = J <helicity_cos> - beta J^2 N <helicity_sin2>.
- corr_nn, improved_nn: nearest-neighbour plain and improved correlation, averaged over bonds.
Quantum models have their own (src.quantum.estimators.OBSERVABLES, derived in src.quantum.estimators).
"""

from __future__ import annotations

from src.graph.representations import Graph, angles, correlation_configuration, improved_configuration
from src.models.spec import ModelSpec
from src.quantum.estimators import OBSERVABLES as QUANTUM_OBSERVABLES


def _energy_from_corr_nn(model: ModelSpec, corr_nn):
    if model.name == "potts":
        # delta = ((q - 1) c + 1) / q for the Potts correlation c
        return -2.0 * model.J * ((model.q - 1) * corr_nn + 1.0) / model.q
    return -2.0 * model.J * corr_nn


def _corr_nn_from_energy(model: ModelSpec, energy):
    """The inverse of _energy_from_corr_nn."""
    delta = -energy / (2.0 * model.J)
    return (model.q * delta - 1.0) / (model.q - 1) if model.name == "potts" else delta


def energy_per_site(model: ModelSpec, state, xp):
    """E/N of every replica of a batch (R, L, L)."""
    corr = correlation_configuration(model, state, 1, xp).astype(xp.float64)
    return _energy_from_corr_nn(model, corr.reshape(state.shape[0], -1).mean(axis=1))


def observables(model: ModelSpec, state, graph: Graph | None, xp, energy=None) -> dict:
    """The observables of a batch state (R, L, L) with its current graph; without a graph, all but
    improved_nn (which needs the clusters). energy: E/N of every replica where the caller has it
    already (replica exchange needs it too), else computed."""
    R = state.shape[0]
    n = model.n_sites
    out = {}
    if energy is None:
        energy = energy_per_site(model, state, xp)
    out["energy"] = energy
    corr_nn = _corr_nn_from_energy(model, energy)
    out["corr_nn"] = corr_nn
    if graph is not None:
        out["improved_nn"] = improved_configuration(model, state, graph, 1, xp).reshape(R, -1).mean(axis=1)
    if model.name == "potts":
        counts = xp.stack([(state == a).reshape(R, -1).sum(axis=1) for a in range(model.q)], axis=1)
        rho = counts.astype(xp.float64) / n
        m2 = (model.q * (rho**2).sum(axis=1) - 1.0) / (model.q - 1.0)
        m2 = xp.maximum(m2, 0.0)  # round-off on a disordered configuration
    else:
        if model.name == "ising":
            m = (1.0 - 2.0 * state.astype(xp.float64)).reshape(R, -1).mean(axis=1)
            out["m"] = m
            m2 = m * m
        else:
            theta = angles(model, state, xp)
            mx = xp.cos(theta).reshape(R, -1).mean(axis=1)
            my = xp.sin(theta).reshape(R, -1).mean(axis=1)
            out["mx"], out["my"] = mx, my
            m2 = mx * mx + my * my
            sin_sums = [
                xp.sin(theta - xp.roll(theta, -1, axis=a)).reshape(R, -1).sum(axis=1) for a in (-1, -2)
            ]
            out["helicity_cos"] = corr_nn
            out["helicity_sin2"] = (sin_sums[0] ** 2 + sin_sums[1] ** 2) / (2.0 * n * n)
    out["m2"] = m2
    out["m4"] = m2 * m2
    out["m_abs"] = xp.sqrt(m2)
    return out


def observable_names(model: ModelSpec) -> tuple[str, ...]:
    """The names `observables` returns for a model, in a fixed order."""
    if model.quantum:
        return QUANTUM_OBSERVABLES
    names = ["energy", "m2", "m4", "m_abs", "corr_nn", "improved_nn"]
    if model.name == "ising":
        names.append("m")
    if model.vector:
        names += ["mx", "my", "helicity_cos", "helicity_sin2"]
    return tuple(names)
