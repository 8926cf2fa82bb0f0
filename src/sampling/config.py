"""The sampling run's configuration: the schema of a YAML file for python -m src.sample.

Every problem is reported as one line that names the key (src.configuration), e.g.
    config key 'model.q': required for the potts model
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import Field, field_validator, model_validator

from src import configuration
from src.configuration import ConfigError, Strict, read
from src.models import MODEL_NAMES, Model, model_class
from src.models.base import REGISTRY
from src.sampling.representations import NAMES as REPRESENTATIONS

# every update some model is sampled with, in the order the models list them
UPDATES = tuple(dict.fromkeys(update for model in REGISTRY.values() for update in model.updates))


class ModelConfig(Strict):
    name: Literal[MODEL_NAMES]
    L: int = Field(ge=2, description="linear lattice size (L x L, periodic)")
    q: int | None = Field(default=None, ge=2, description="number of states (potts, clock)")
    J: float = Field(default=1.0, gt=0, description="ferromagnetic coupling (quantum: the XY coupling)")
    Jz: float | None = Field(default=None, description="S^z S^z coupling (quantum_xxz), |Jz| <= J")

    @model_validator(mode="after")
    def _couplings_fit_model(self):
        self.build()  # the model refuses the keys it does not take, naming the key
        return self

    def build(self) -> Model:
        """The model this section describes."""
        return model_class(self.name).from_config(self.L, self.J, q=self.q, Jz=self.Jz)


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
    representations: list[Literal[REPRESENTATIONS]] = ["spin"]
    distance: Literal["half"] | int = "half"
    axes: int | None = Field(
        default=None,
        ge=1,
        description="`improved` of embedded-cluster models averaged over this many embedding axes "
        "(default: the model's; 1 for models without embedding axes)",
    )

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
    update: Literal[UPDATES] | None = Field(
        default=None,
        description="default: the model's first (sw for classical models, loop for quantum ones)",
    )
    overrelax: int = Field(default=0, ge=0, description="xy over-relaxation sweeps after each update")
    metropolis_window: float = Field(default=math.pi, gt=0, le=math.pi)
    sweeps: Sweeps = Sweeps()
    snapshots: Snapshots = Snapshots()
    replicas: int = Field(default=1, ge=1, description="independent chains (ladders) per temperature")
    replica_exchange: ReplicaExchangeConfig | Literal[False] = ReplicaExchangeConfig()
    checkpoint: CheckpointConfig = CheckpointConfig()
    seed: int = Field(default=1, ge=0)
    output: str = Field(default="results/run.h5", min_length=1)
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
        model = model_class(self.model.name)
        if self.update is None:
            self.update = model.updates[0]
        if self.update not in model.updates:
            allowed = ", ".join(model.updates)
            raise ValueError(f"update: the {model.name} model is sampled with {allowed}, not {self.update}")
        for name in self.snapshots.representations:
            if name not in model.representations:
                raise ValueError(
                    f"snapshots.representations: {name} is not defined for the {model.name} model "
                    f"(it offers {', '.join(model.representations)})"
                )
        if self.backend != "auto" and self.backend not in model.backends:
            raise ValueError(
                f"backend: the {model.name} model runs on {', '.join(model.backends)}, not {self.backend}"
            )
        if self.update == "metropolis" and (self.model.L % 2 or self.model.L < 4):
            # odd L: the sublattices touch across the boundary; L = 2: not ergodic for Ising
            raise ValueError(f"model.L: checkerboard metropolis needs an even L >= 4, got {self.model.L}")
        if self.overrelax and not model.overrelaxation:
            raise ValueError(f"overrelax: not defined for the {model.name} model")
        built = self.model.build()
        if self.snapshots.axes is None:
            self.snapshots.axes = built.default_axes()
        reason = built.axes_refusal(self.snapshots.axes)
        if reason:
            raise ValueError(f"snapshots.axes: {reason}")
        if self.snapshots.every > self.sweeps.measure:
            raise ValueError(
                f"snapshots.every: {self.snapshots.every} is more than sweeps.measure "
                f"({self.sweeps.measure}): the run would take no snapshot (0 takes none on purpose)"
            )
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
    "model": {"name": "ising", "L": 16},  # the built-in default: a run checked against the exact torus
    "temperatures": [2.0, 2.269185, 2.6],
    "sweeps": {"thermalize": 200, "measure": 2000, "every": 1},
    "snapshots": {"every": 20, "representations": list(REPRESENTATIONS), "distance": "half"},
    "seed": 1,
    "output": "results/run.h5",
}


def validate(raw) -> Config:
    return configuration.validate(raw, Config)


def load(path: str | Path | None, overrides=()) -> Config:
    """The validated config of a YAML file (the built-in default when path is None)."""
    return validate(read(path, overrides, DEFAULT))


def dump(config: Config) -> str:
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)


__all__ = ["Config", "ConfigError", "DEFAULT", "UPDATES", "dump", "load", "validate"]
