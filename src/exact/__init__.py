"""Exact reference results for validating the Monte Carlo codes on small lattices."""

from .enumeration import (
    EnumeratedStates,
    ExactAverages,
    boltzmann_probabilities,
    enumerate_states,
    exact_averages,
)
from .ising_torus import IsingTorusResult, ising_critical_temperature, ising_torus
from .quantum import XXZSpectrum, XXZThermal, xxz_thermal
from .transfer_matrix import TransferMatrixAverages, transfer_matrix_averages

__all__ = [
    "EnumeratedStates",
    "ExactAverages",
    "IsingTorusResult",
    "TransferMatrixAverages",
    "boltzmann_probabilities",
    "enumerate_states",
    "exact_averages",
    "ising_critical_temperature",
    "ising_torus",
    "transfer_matrix_averages",
    "XXZSpectrum",
    "XXZThermal",
    "xxz_thermal",
]
