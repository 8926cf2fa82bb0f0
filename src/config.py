"""The run configuration: a YAML file validated against a schema, with command-line overrides.

Every problem is reported as one line that names the key, e.g.
    config key 'model.q': required for the potts model
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from src.graph.representations import REPRESENTATIONS
from src.models.spec import MODEL_NAMES, ModelSpec


class ConfigError(ValueError):
    """A bad configuration; its message is one line naming the key."""


class Strict(BaseModel):
    """A config section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class ModelConfig(Strict):
    name: Literal["ising", "potts", "clock", "xy", "quantum_xy", "quantum_xxz"]
    L: int = Field(ge=2, description="linear lattice size (L x L, periodic)")
    q: int | None = Field(default=None, ge=2, description="number of states (potts, clock)")
    J: float = Field(default=1.0, gt=0, description="ferromagnetic coupling (quantum: the XY coupling)")
    Jz: float | None = Field(default=None, description="S^z S^z coupling (quantum_xxz), |Jz| <= J")

    @model_validator(mode="after")
    def _couplings_fit_model(self):
        if self.name in ("potts", "clock") and self.q is None:
            raise ValueError(f"q: required for the {self.name} model")
        if self.name == "ising" and self.q not in (None, 2):
            raise ValueError("q: the ising model has q = 2; leave q out")
        if self.name == "xy" and self.q is not None:
            raise ValueError("q: the xy model has continuous angles; leave q out (or use clock)")
        if self.name.startswith("quantum") and self.q is not None:
            raise ValueError(f"q: the {self.name} model has spin 1/2; leave q out")
        if self.name == "quantum_xxz" and self.Jz is None:
            raise ValueError("Jz: required for the quantum_xxz model")
        if self.name == "quantum_xy" and self.Jz not in (None, 0):
            raise ValueError("Jz: the quantum_xy model has Jz = 0; use quantum_xxz for Jz != 0")
        if not self.name.startswith("quantum") and self.Jz is not None:
            raise ValueError(f"Jz: only for the quantum models, not {self.name}")
        if self.Jz is not None and abs(self.Jz) > self.J:
            raise ValueError(f"Jz: the loop algorithm needs |Jz| <= J (no sign problem), got {self.Jz}")
        return self

    def spec(self) -> ModelSpec:
        return ModelSpec(self.name, self.L, q=self.q or 2, J=self.J, Jz=self.Jz or 0.0)


class TemperatureRange(Strict):
    min: float = Field(gt=0)
    max: float = Field(gt=0)
    count: int = Field(ge=1)
    spacing: Literal["linear", "inverse", "geometric"] = "linear"

    @model_validator(mode="after")
    def _ordered(self):
        if self.max < self.min or (self.count > 1 and self.max == self.min):
            raise ValueError("max: must be larger than min")
        return self

    def values(self) -> np.ndarray:
        if self.count == 1:
            return np.array([self.min])
        if self.spacing == "linear":
            return np.linspace(self.min, self.max, self.count)
        if self.spacing == "geometric":
            return np.geomspace(self.min, self.max, self.count)
        return 1.0 / np.linspace(1.0 / self.max, 1.0 / self.min, self.count)[::-1]


class Sweeps(Strict):
    thermalize: int = Field(default=1000, ge=0, description="sweeps before the first measurement")
    measure: int = Field(default=10000, ge=1, description="number of measurements")
    every: int = Field(default=1, ge=1, description="sweeps between measurements")


class Snapshots(Strict):
    every: int = Field(default=0, ge=0, description="a snapshot at every k-th measurement; 0: none")
    representations: list[Literal["spin", "correlation", "fk_bonds", "improved"]] = ["spin"]
    distance: Literal["half"] | int = "half"

    @field_validator("representations")
    @classmethod
    def _distinct(cls, v):
        if len(set(v)) != len(v):
            raise ValueError("representations: listed twice")
        return v


class ReplicaExchangeConfig(Strict):
    every: int = Field(default=1, ge=1, description="sweeps between exchange attempts")
    tune_ladder: bool = Field(
        default=False, description="move temperatures toward flat acceptance while thermalising"
    )


class CheckpointConfig(Strict):
    every_minutes: float = Field(default=30.0, gt=0, description="wall minutes between periodic checkpoints")


class Config(Strict):
    model: ModelConfig
    temperatures: list[float] | TemperatureRange
    update: Literal["sw", "wolff", "metropolis", "loop"] | None = Field(
        default=None, description="default: sw for classical models, loop for quantum ones"
    )
    overrelax: int = Field(default=0, ge=0, description="xy over-relaxation sweeps after each update")
    metropolis_window: float = Field(default=math.pi, gt=0, le=math.pi)
    sweeps: Sweeps = Sweeps()
    snapshots: Snapshots = Snapshots()
    replicas: int = Field(default=1, ge=1, description="independent chains (ladders) per temperature")
    replica_exchange: ReplicaExchangeConfig | Literal[False] = ReplicaExchangeConfig()
    checkpoint: CheckpointConfig = CheckpointConfig()
    seed: int = Field(default=1, ge=0)
    output: str = "results/run.h5"
    backend: Literal["auto", "cpu", "gpu", "array"] = "auto"

    @field_validator("temperatures")
    @classmethod
    def _positive_increasing(cls, v):
        if isinstance(v, list):
            if not v:
                raise ValueError("temperatures: empty list")
            if min(v) <= 0:
                raise ValueError(f"temperatures: must be positive, got {min(v)}")
            if any(b <= a for a, b in zip(v, v[1:])):
                raise ValueError("temperatures: must be strictly increasing")
        return v

    @model_validator(mode="after")
    def _consistent(self):
        quantum = self.model.name.startswith("quantum")
        if self.update is None:
            self.update = "loop" if quantum else "sw"
        if quantum != (self.update == "loop"):
            raise ValueError(
                f"update: the {self.model.name} model is sampled with "
                f"{'loop' if quantum else 'sw, wolff or metropolis'}, not {self.update}"
            )
        if quantum and "fk_bonds" in self.snapshots.representations:
            raise ValueError(
                "snapshots.representations: fk_bonds is not defined for quantum models "
                "(their graphs are loops in space-time; use improved)"
            )
        if quantum and self.backend in ("gpu", "array"):
            raise ValueError(f"backend: the loop algorithm runs on the cpu backend, not {self.backend}")
        if self.update == "metropolis" and (self.model.L % 2 or self.model.L < 4):
            # odd L: the sublattices touch across the boundary; L = 2: not ergodic for Ising
            raise ValueError(f"model.L: checkerboard metropolis needs an even L >= 4, got {self.model.L}")
        if self.overrelax and self.model.name != "xy":
            raise ValueError("overrelax: only for the xy model")
        d = self.snapshots.distance
        if d != "half" and not 1 <= d < self.model.L:
            raise ValueError(f"snapshots.distance: must be 'half' or in [1, {self.model.L - 1}], got {d}")
        return self

    def temperature_values(self) -> np.ndarray:
        if isinstance(self.temperatures, TemperatureRange):
            return self.temperatures.values()
        return np.asarray(self.temperatures, dtype=np.float64)

    def distance(self) -> int:
        d = self.snapshots.distance
        return self.model.L // 2 if d == "half" else int(d)

    def exchange(self) -> ReplicaExchangeConfig | None:
        """The replica-exchange settings, None when off (or with a single temperature)."""
        if self.replica_exchange is False or len(self.temperature_values()) < 2:
            return None
        return self.replica_exchange

    def n_snapshots(self) -> int:
        e = self.snapshots.every
        return self.sweeps.measure // e if e else 0


DEFAULT = {
    "model": {"name": "ising", "L": 16},
    "temperatures": [2.0, 2.269185, 2.6],
    "sweeps": {"thermalize": 200, "measure": 2000, "every": 1},
    "snapshots": {"every": 20, "representations": list(REPRESENTATIONS), "distance": "half"},
    "seed": 1,
    "output": "results/run.h5",
}


def _is_union_tag(part) -> bool:
    # pydantic names the branch of a union in the location: 'list[float]', 'TemperatureRange'
    return isinstance(part, str) and ("[" in part or part[:1].isupper() and len(part) > 1)


def one_line(err: ValidationError) -> str:
    """The one-line message of a pydantic validation error: `config key 'a.b': problem`."""
    # of the alternatives of a union, the error that got furthest names the real problem
    e = max(err.errors(), key=lambda e: (len(e["loc"]), not e["type"].endswith("_type")))
    loc = ".".join(str(p) for p in e["loc"] if not _is_union_tag(p))
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] == "value_error" and ": " in msg:
        # our validators start their message with the key (below `loc`) they concern
        sub, msg = msg.split(": ", 1)
        # a full dotted path (from a whole-config validator) replaces the location
        loc = loc if loc.endswith(sub) else sub if not loc or "." in sub else f"{loc}.{sub}"
    elif e["type"] == "extra_forbidden":
        msg = "unknown key"
    elif e["type"] != "missing" and not isinstance(e.get("input"), dict):
        msg = f"{msg} (got {e['input']!r})"
    return f"config key '{loc}': {msg}"


def validate(raw, schema: type[BaseModel] = Config):
    """The validated config (a Config unless another schema is given)."""
    if not isinstance(raw, dict):
        raise ConfigError("config: the file must hold a mapping of keys")
    try:
        return schema.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(one_line(err)) from None


def apply_override(raw: dict, assignment: str) -> None:
    """--set a.b.c=value, the value read as YAML (so numbers, lists and booleans keep their type)."""
    if "=" not in assignment:
        raise ConfigError(f"--set {assignment!r}: expected KEY=VALUE")
    key, value = assignment.split("=", 1)
    parts = key.strip().split(".")
    node = raw
    for p in parts[:-1]:
        if not isinstance(node.get(p, {}), dict):
            raise ConfigError(f"config key '{key}': '{p}' is not a section")
        node = node.setdefault(p, {})
    node[parts[-1]] = yaml.safe_load(value)


def read(path: str | Path | None, overrides=(), default: dict | None = None):
    """The raw mapping of a YAML file (a copy of `default` when path is None) with the overrides."""
    if path is None:
        raw = copy.deepcopy(default)
    else:
        try:
            with open(path) as f:
                raw = yaml.safe_load(f)
        except OSError as err:
            raise ConfigError(f"config file {path}: {err.strerror}") from None
        except yaml.YAMLError as err:
            raise ConfigError(f"config file {path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if isinstance(raw, dict):
        for o in overrides:
            apply_override(raw, o)
    return raw


def load(path: str | Path | None, overrides=()) -> Config:
    """The validated config of a YAML file (the built-in default when path is None)."""
    return validate(read(path, overrides, DEFAULT))


def dump(config: Config) -> str:
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)


__all__ = ["Config", "ConfigError", "DEFAULT", "MODEL_NAMES", "dump", "load", "validate"]
