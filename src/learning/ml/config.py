"""The training configuration: a YAML file validated against a schema, with `--set` overrides.

Problems are reported as one line naming the key, as for the sampler's config (src.configuration), e.g.
    config key 'labels.windows': windows 0 and 1 overlap
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal

import yaml
from pydantic import Field, model_validator

from src import configuration as run_config
from src.configuration import Strict
from src.learning.ml.encoding import RESCALABLE

# keys that may change when a run is resumed: they do not change what the steps compute
RESUMABLE_KEYS = (
    ("data", "workers"),
    ("training", "epochs"),
    ("training", "patience"),
    ("training", "min_improvement"),
)
TEMPERATURE_RTOL = 1e-9  # window bounds include temperatures this close to them


class FilesConfig(Strict):
    """The `data` keys of every training task: the run files and how they are read."""

    files: list[str] = Field(min_length=1, description="run files of src.sample")
    workers: int = Field(default=2, ge=0, description="data-loading processes per rank")

    @model_validator(mode="after")
    def _distinct(self):
        twice = sorted({f for f in self.files if self.files.count(f) > 1})
        if twice:
            raise ValueError(f"files: {', '.join(twice)} listed twice")
        return self


class DataConfig(FilesConfig):
    representation: Literal["spin", "correlation", "fk_bonds", "improved"]
    mixed_models: bool = Field(default=False, description="allow files of different models")
    rescale: float = Field(
        default=0.0,
        ge=0,
        le=2,
        description="multiply correlation/improved inputs by L^rescale (eta_c: a scale-invariant threshold)",
    )

    @model_validator(mode="after")
    def _rescalable(self):
        if self.rescale and self.representation not in RESCALABLE:
            raise ValueError(
                f"rescale: only for the two-point inputs {', '.join(RESCALABLE)}, not {self.representation}"
            )
        return self


class Window(Strict):
    """Temperatures min <= T <= max (a missing bound is open) belong to `class`."""

    min: float | None = None
    max: float | None = None
    class_: int = Field(alias="class", ge=0)

    @model_validator(mode="after")
    def _bounded(self):
        if self.min is None and self.max is None:
            raise ValueError("max: give min, max or both")
        if self.min is not None and self.max is not None and self.max < self.min:
            raise ValueError("max: must not be smaller than min")
        return self

    def contains(self, temperature: float) -> bool:
        # files store T = 1/beta, which can miss the configured value in the last digit
        tol = TEMPERATURE_RTOL * temperature
        return (self.min is None or temperature >= self.min - tol) and (
            self.max is None or temperature <= self.max + tol
        )

    def describe(self) -> str:
        return (
            f"[{self.min if self.min is not None else '-inf'}, {self.max if self.max is not None else 'inf'}]"
        )


class LabelsConfig(Strict):
    windows: list[Window] = Field(min_length=2)
    names: list[str] | None = Field(default=None, description="a name for each class, e.g. ordered")

    @model_validator(mode="after")
    def _classes(self):
        classes = {w.class_ for w in self.windows}
        if classes != set(range(len(classes))) or len(classes) < 2:
            raise ValueError(f"windows: the classes must be 0, 1, ... (at least two), got {sorted(classes)}")
        for i, a in enumerate(self.windows):
            for j, b in enumerate(self.windows[i + 1 :], i + 1):
                lo = max(x for x in (a.min, b.min, float("-inf")) if x is not None)
                hi = min(x for x in (a.max, b.max, float("inf")) if x is not None)
                if lo <= hi:
                    raise ValueError(f"windows: windows {i} and {j} overlap")
        if self.names is not None and len(self.names) != len(classes):
            raise ValueError(f"names: {len(self.names)} names for {len(classes)} classes")
        return self

    @property
    def n_classes(self) -> int:
        return len({w.class_ for w in self.windows})

    def classify(self, temperature: float) -> int | None:
        """The class of a temperature, None outside every window."""
        return next((w.class_ for w in self.windows if w.contains(temperature)), None)


class NetworkConfig(Strict):
    kind: Literal["fcn", "cnn"]
    hidden: int = Field(default=100, ge=1, description="fcn: units of the hidden layer")
    channels: list[int] = Field(default=[16, 32], min_length=1, description="cnn: channels per conv layer")
    kernel: int = Field(default=3, ge=1, description="cnn: kernel size (odd)")
    activation: Literal["sigmoid", "relu", "tanh"] | None = Field(
        default=None, description="default: sigmoid for fcn (as Carrasquilla-Melko), relu for cnn"
    )

    @model_validator(mode="after")
    def _keys_of_kind(self):
        other = {"fcn": ("channels", "kernel"), "cnn": ("hidden",)}[self.kind]
        for key in other:
            if key in self.model_fields_set:
                raise ValueError(f"{key}: not a key of the {self.kind} network")
        if self.kernel % 2 == 0:
            raise ValueError(f"kernel: must be odd (periodic padding keeps L x L), got {self.kernel}")
        if min(self.channels) < 1:
            raise ValueError("channels: must be positive")
        return self

    def activation_name(self) -> str:
        return self.activation or ("sigmoid" if self.kind == "fcn" else "relu")


class TrainingConfig(Strict):
    epochs: int = Field(default=20, ge=1, description="the most epochs; fewer where patience stops the run")
    patience: int | None = Field(
        default=None,
        ge=1,
        description="stop once the validation loss has not improved on its lowest for this many epochs",
    )
    min_improvement: float = Field(
        default=0.0,
        ge=0,
        lt=1,
        description="relative decrease of the validation loss that counts as improving",
    )
    batch_size: int = Field(default=256, ge=1, description="global: summed over all processes")
    lr: float = Field(default=1e-3, gt=0)
    weight_decay: float = Field(default=0.0, ge=0)
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    momentum: float = Field(default=0.9, ge=0, lt=1, description="sgd only")
    val_fraction: float = Field(default=0.2, gt=0, lt=1)
    seed: int = Field(default=0, ge=0)
    amp: Literal["auto", "bf16", "fp16", "off"] = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"

    @model_validator(mode="after")
    def _momentum_for_sgd(self):
        if "momentum" in self.model_fields_set and self.optimizer != "sgd":
            raise ValueError(f"momentum: only for optimizer sgd, not {self.optimizer}")
        return self


class RunConfig(Strict):
    """What every training task's config has: `data` (a FilesConfig), `training`, `output`."""

    def as_dict(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)

    def resume_hash(self) -> str:
        """Identifies the run a checkpoint belongs to: the config without RESUMABLE_KEYS."""
        d = self.as_dict()
        for section, key in RESUMABLE_KEYS:
            d[section].pop(key)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()


class TrainConfig(RunConfig):
    task: Literal["classify"] = "classify"
    data: DataConfig
    labels: LabelsConfig
    network: NetworkConfig
    training: TrainingConfig = TrainingConfig()
    output: str = "results/train"


def validate(raw) -> TrainConfig:
    return run_config.validate(raw, TrainConfig)


def dump(config: RunConfig) -> str:
    return yaml.safe_dump(config.as_dict(), sort_keys=False)
