"""The super-resolution training config (python -m src.train, `task: superres`): a YAML file
validated against this schema, with `--set` overrides, reported as one line naming the key like
every config of the project. Keys: docs/rg.md."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from src import configuration as run_config
from src.learning.ml.config import TEMPERATURE_RTOL, FilesConfig, RunConfig, Strict, TrainingConfig
from src.learning.ml.networks import ACTIVATIONS

from .superres import TARGETS


class SuperresDataConfig(FilesConfig):
    target: Literal[TARGETS]
    temperatures: Literal["all"] | list[float] = Field(
        default="all", description="the temperatures to train on: all of the files', or a list (or one)"
    )

    @field_validator("temperatures", mode="before")
    @classmethod
    def _one_is_a_list(cls, value):
        return [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _listed(self):
        if isinstance(self.temperatures, list):
            if not self.temperatures:
                raise ValueError("temperatures: give at least one (or all)")
            if min(self.temperatures) <= 0:
                raise ValueError("temperatures: must be positive")
        return self


class SuperresNetworkConfig(Strict):
    channels: list[int] = Field(default=[32, 32, 32], min_length=1, description="channels per conv layer")
    kernel: int = Field(default=3, ge=1, description="kernel size (odd)")
    activation: Literal[tuple(ACTIVATIONS)] = "relu"

    @model_validator(mode="after")
    def _shapes(self):
        if self.kernel % 2 == 0:
            raise ValueError(f"kernel: must be odd (periodic padding keeps the lattice), got {self.kernel}")
        if min(self.channels) < 1:
            raise ValueError("channels: must be positive")
        return self


class SuperresConfig(RunConfig):
    task: Literal["superres"]
    data: SuperresDataConfig
    network: SuperresNetworkConfig = SuperresNetworkConfig()
    training: TrainingConfig = TrainingConfig()
    output: str = "results/superres"


def validate(raw) -> SuperresConfig:
    return run_config.validate(raw, SuperresConfig)


def select_temperatures(available: list[np.ndarray], wanted) -> tuple[list[np.ndarray], list[float]]:
    """(rows of each array of temperatures at a wanted one, the wanted ones that none holds).
    wanted: "all" (every row) or a list, matched with the relative tolerance of the classifier's
    windows (files store T = 1/beta, which can miss a configured T in the last digit)."""
    if wanted == "all":
        return [np.arange(len(a)) for a in available], []
    wanted = np.asarray(wanted, dtype=float)
    close = [np.isclose(np.asarray(a)[:, None], wanted, rtol=TEMPERATURE_RTOL, atol=0) for a in available]
    found = np.any([c.any(axis=0) for c in close], axis=0)
    return [np.flatnonzero(c.any(axis=1)) for c in close], wanted[~found].tolist()
