"""The layout of a run file, in one place (documented for users in docs/format.md).

/                       attrs: format, format_version, model, L, q, J, Jz, update, seed, config
                        (YAML), software_version, git_commit, host, backend, n_ranks, n_replicas,
                        measurements_per_replica, snapshots_per_replica, started, finished,
                        seconds_total, seconds_exchange, seconds_write, seconds_wait, complete
/temperatures           (n_T,)
/observables/<name>     (n_T, n_replicas * n_measurements) float64, one value per measurement
/snapshots/<rep>        (n_T, n_replicas * n_snapshots, ...) chunks of consecutive snapshots
/exchange/...           chain_at_temperature (like an observable), acceptance, round_trips
/summary/<name>         (n_T, 2): value and error (jackknife after binning)
"""

from __future__ import annotations

FORMAT = "spinml-run"
# 2: `improved` of ising/potts stored as uint8 (version 1: float32); readers take both
FORMAT_VERSION = 2

OBSERVABLE_DOCS = {
    "energy": ("energy per site E/N", "J"),
    "m2": ("squared order parameter per site (see docs/format.md for the Potts normalisation)", "1"),
    "m4": ("fourth power of the order parameter", "1"),
    "m_abs": ("modulus of the order parameter", "1"),
    "m": ("ising magnetisation per site", "1"),
    "mx": ("x component of the planar magnetisation per site", "1"),
    "my": ("y component of the planar magnetisation per site", "1"),
    "corr_nn": ("plain nearest-neighbour correlation averaged over the 2N bonds", "1"),
    "improved_nn": ("improved (cluster) estimator of corr_nn", "1"),
    "helicity_cos": ("(1/2N) sum_i [cos(theta_i - theta_i+x) + cos(theta_i - theta_i+y)]", "1"),
    "helicity_sin2": ("[(sum_i sin(theta_i - theta_i+x))^2 + (same, y)] / (2 N^2)", "1"),
    # quantum models (src.quantum.estimators)
    "kinks": ("number of kinks (expansion order) per site", "1"),
    "chi_z": ("uniform S^z susceptibility per site beta M^2 / N", "1/J"),
    "chi_z_loop": ("loop-improved estimator of chi_z", "1/J"),
    "chi_x": ("transverse susceptibility per site from the loop lengths", "1/J"),
    "stiffness": ("spin stiffness from the winding numbers, T <W_x^2 + W_y^2> / 2", "J"),
    "czz_nn": ("nearest-neighbour <S^z_i S^z_j> at imaginary time 0, averaged over the 2N bonds", "1"),
    "cxx_nn": ("nearest-neighbour <S^x_i S^x_j> from the same-loop probability at imaginary time 0", "1"),
}

REPRESENTATION_DOCS = {
    "spin": "the configuration: ising +-1, potts/clock labels k (clock angle 2 pi k / q), xy angles in "
    "[0, 2 pi); quantum: sigma^z at imaginary time 0 (+-1); axes (y, x)",
    "correlation": "plain correlation configuration at distance r: channel 0 c(i, i + r x), channel 1 "
    "c(i, i + r y); c = s s (ising), (q delta - 1)/(q - 1) (potts), cos(theta_i - theta_j) (clock, xy); "
    "quantum: sigma^z_i sigma^z_j averaged over imaginary time (mean 4 C_zz(r))",
    "fk_bonds": "occupation of the Fortuin-Kasteleyn bonds: channel 0 (i, i + x), channel 1 (i, i + y)",
    "improved": "improved correlation configuration at distance r: delta(C_i, C_j) (ising, potts), "
    "2 delta(C_i, C_j) |r.s_i| |r.s_j| (clock, xy embedded clusters); its mean equals that of "
    "`correlation`; quantum: twice the fraction of imaginary time at which i and j lie on one loop "
    "(mean 8 C_xx(r) = <sigma^x sigma^x + sigma^y sigma^y>, the in-plane correlation)",
}

SUMMARY_DOCS = {
    "specific_heat": "c = beta^2 N (<e^2> - <e>^2) (quantum: minus <kinks>)",
    "susceptibility": "chi = beta N <m^2>",
    "susceptibility_connected": "chi' = beta N (<m^2> - <|m|>^2)",
    "binder": "U = 1 - <m^4> / (3 <m^2>^2)",
    "helicity_modulus": "Upsilon = J <helicity_cos> - beta J^2 N <helicity_sin2>",
    "tau_int_energy": "integrated autocorrelation time of the energy, in measurements",
    "tau_int_m2": "integrated autocorrelation time of m2, in measurements",
}
