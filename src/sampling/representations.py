"""The representations of a configuration that the project stores and learns from: the one registry
of their names, read by the configs, the run files' schema and the networks' input encoding.

Each model says which it offers and builds them (src.models); the shapes are those of one snapshot,
channels first, with the lattice axes (y, x) last.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Representation:
    description: str  # the run file's `description` attribute of /snapshots/<name>
    from_graph: bool  # built from the cluster graph, so a snapshot needs the current graph
    as_stored: bool  # networks read it as stored (else the model encodes it, e.g. one-hot Potts labels)


REPRESENTATIONS = {
    "spin": Representation(
        "the configuration: ising +-1, potts/clock labels k (clock angle 2 pi k / q), xy angles in "
        "[0, 2 pi); quantum: sigma^z at imaginary time 0 (+-1); axes (y, x)",
        from_graph=False,
        as_stored=False,
    ),
    "correlation": Representation(
        "plain correlation configuration at distance r: channel 0 c(i, i + r x), channel 1 "
        "c(i, i + r y); c = s s (ising), (q delta - 1)/(q - 1) (potts), cos(theta_i - theta_j) (clock, xy); "
        "quantum: sigma^z_i sigma^z_j averaged over imaginary time (mean 4 C_zz(r))",
        from_graph=False,
        as_stored=True,
    ),
    "fk_bonds": Representation(
        "occupation of the Fortuin-Kasteleyn bonds: channel 0 (i, i + x), channel 1 (i, i + y)",
        from_graph=True,
        as_stored=True,
    ),
    "improved": Representation(
        "improved correlation configuration at distance r: delta(C_i, C_j) (ising, potts), "
        "2 delta(C_i, C_j) |r.s_i| |r.s_j| (clock, xy embedded clusters); its mean equals that of "
        "`correlation`; quantum: twice the fraction of imaginary time at which i and j lie on one loop "
        "(mean 8 C_xx(r) = <sigma^x sigma^x + sigma^y sigma^y>, the in-plane correlation)",
        from_graph=True,
        as_stored=True,
    ),
}
NAMES = tuple(REPRESENTATIONS)


def unknown(name: str) -> str:
    """The message for a name that is not a representation."""
    return f"unknown representation {name!r} (allowed: {', '.join(NAMES)})"
