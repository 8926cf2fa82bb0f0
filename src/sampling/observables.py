"""The observables a measurement records: the one registry of their names, descriptions and units,
read by the run files' schema and the analyses. Each model lists the ones it measures
(Model.observable_names) and computes them (src.models); every value is per site, one per chain.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Observable:
    description: str
    units: str


OBSERVABLES = {
    "energy": Observable("energy per site E/N", "J"),
    "m2": Observable(
        "squared order parameter per site (see docs/format.md for the Potts normalisation)", "1"
    ),
    "m4": Observable("fourth power of the order parameter", "1"),
    "m_abs": Observable("modulus of the order parameter", "1"),
    "m": Observable("ising magnetisation per site", "1"),
    "mx": Observable("x component of the planar magnetisation per site", "1"),
    "my": Observable("y component of the planar magnetisation per site", "1"),
    "corr_nn": Observable("plain nearest-neighbour correlation averaged over the 2N bonds", "1"),
    "improved_nn": Observable("improved (cluster) estimator of corr_nn", "1"),
    "helicity_cos": Observable("(1/2N) sum_i [cos(theta_i - theta_i+x) + cos(theta_i - theta_i+y)]", "1"),
    "helicity_sin2": Observable("[(sum_i sin(theta_i - theta_i+x))^2 + (same, y)] / (2 N^2)", "1"),
    # the loop algorithm's (derived in src.sampling.quantum.estimators)
    "kinks": Observable("number of kinks (expansion order) per site", "1"),
    "chi_z": Observable("uniform S^z susceptibility per site beta M^2 / N", "1/J"),
    "chi_z_loop": Observable("loop-improved estimator of chi_z", "1/J"),
    "chi_x": Observable("transverse susceptibility per site from the loop lengths", "1/J"),
    "stiffness": Observable("spin stiffness from the winding numbers, T <W_x^2 + W_y^2> / 2", "J"),
    "czz_nn": Observable(
        "nearest-neighbour <S^z_i S^z_j> at imaginary time 0, averaged over the 2N bonds", "1"
    ),
    "cxx_nn": Observable(
        "nearest-neighbour <S^x_i S^x_j> from the same-loop probability at imaginary time 0", "1"
    ),
}
