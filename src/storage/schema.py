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

from src.sampling.observables import OBSERVABLES
from src.sampling.representations import REPRESENTATIONS

FORMAT = "spinml-run"
# 2: `improved` of ising/potts stored as uint8 (version 1: float32); readers take both
FORMAT_VERSION = 2

SUMMARY_DOCS = {
    "specific_heat": "c = beta^2 N (<e^2> - <e>^2) (quantum: minus <kinks>)",
    "susceptibility": "chi = beta N <m^2>",
    "susceptibility_connected": "chi' = beta N (<m^2> - <|m|>^2)",
    "binder": "U = 1 - <m^4> / (3 <m^2>^2)",
    "helicity_modulus": "Upsilon = J <helicity_cos> - beta J^2 N <helicity_sin2>",
    "tau_int_energy": "integrated autocorrelation time of the energy, in measurements",
    "tau_int_m2": "integrated autocorrelation time of m2, in measurements",
}


def observable_attributes(name: str) -> dict:
    """The attributes of /observables/<name> (the registry's description and units)."""
    return {"description": OBSERVABLES[name].description, "units": OBSERVABLES[name].units}


def representation_description(name: str) -> str:
    return REPRESENTATIONS[name].description
