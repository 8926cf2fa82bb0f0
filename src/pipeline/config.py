"""The config of the whole study (python -m src.pipeline): which runs, which networks, how big.

Each stage section holds a *partial* config of the tool that runs it (src.sample, src.train with
task classify or superres); the pipeline adds the model size, the files and the outputs, and the
tool's own schema validates the result (so every key of docs/config.md, docs/training.md and
docs/rg.md can be set here). The built-in default is the small study `make run` runs in minutes;
configs/pipeline.yaml is the one at production sizes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from src.configuration import Strict, read, validate

DEFAULT = {
    "output": "results",
    "seed": 1,
    "ranks": 2,
    "processes": 2,
    "classification": {
        "sizes": [8, 16, 32],
        "criterion": "half",  # on inputs rescaled by L^(1/4): the best transfer of docs/studies.md
        "networks": "shared",
        "seeds": [1, 2, 3, 4, 5],
        "classical": {
            "model": {"name": "xy"},  # the study's models: the seed's transfer, classical to quantum XY
            "temperatures": {"min": 0.6, "max": 1.3, "count": 10},
            "sweeps": {"thermalize": 500, "measure": 6000},
            "snapshots": {"every": 10, "representations": ["improved"], "distance": "half"},
        },
        "quantum": {
            "model": {"name": "quantum_xy"},  # (see the classical section)
            "temperatures": {"min": 0.2, "max": 0.55, "count": 10},
            "sweeps": {"thermalize": 500, "measure": 6000},
            "snapshots": {"every": 10, "representations": ["improved"], "distance": "half"},
        },
        "train": {
            "data": {"representation": "improved", "workers": 0, "rescale": 0.25},
            "labels": {
                "windows": [{"max": 0.8, "class": 0}, {"min": 1.05, "class": 1}],
                "names": ["quasi_ordered", "disordered"],
            },
            "network": {"kind": "cnn", "channels": [16, 32]},
            "training": {"epochs": 10, "batch_size": 64, "lr": 1.0e-3},
        },
    },
    "inverse_rg": {
        "size": 16,
        "reference_sizes": [32, 64],
        "sample": {
            "model": {"name": "ising"},  # the study's model of the inverse RG, with an exact T_c
            "temperatures": [1.9, 2.0, 2.1, 2.2, 2.269, 2.35, 2.45, 2.6, 2.8],
            "sweeps": {"thermalize": 500, "measure": 8000},
            "snapshots": {"every": 10, "distance": "half"},
        },
        "train_temperatures": "all",
        "train": {
            "network": {"channels": [32, 32, 32]},
            "training": {
                "epochs": 20,
                "patience": 3,
                "min_improvement": 0.001,
                "batch_size": 32,
                "lr": 1.0e-3,
            },
        },
        "generate": 300,
    },
}


class ClassificationStudy(Strict):
    sizes: list[int] = Field(min_length=2, description="lattice sizes (the extrapolation needs two)")
    criterion: Literal["half", "pairs"] = Field(
        default="half",
        description="half: P = 1/2 at each size; pairs: crossing of successive sizes (src.analysis.criteria)",
    )
    networks: Literal["shared", "per_size"] = Field(
        default="shared", description="one network for all sizes, or one per size"
    )
    seeds: list[int] = Field(
        default=[1], min_length=1, description="a network per training seed; the spread enters the errors"
    )

    @model_validator(mode="after")
    def _distinct(self):
        for key in ("sizes", "seeds"):
            values = getattr(self, key)
            if len(set(values)) < len(values):
                raise ValueError(f"{key}: {values} lists a value twice")
        return self

    def classifiers(self) -> list[tuple[str, list[int], int]]:
        """(stage id, sizes it is trained on, training seed) of every classifier of the study."""
        if self.networks == "shared":
            return [(f"classifier_s{seed}", self.sizes, seed) for seed in self.seeds]
        return [(f"classifier_L{L}_s{seed}", [L], seed) for seed in self.seeds for L in self.sizes]

    classical: dict = Field(description="partial src.sample config of the classical runs")
    quantum: dict = Field(description="partial src.sample config of the quantum runs")
    train: dict = Field(description="partial src.train config of the classifier (task classify)")


class InverseRGStudy(Strict):
    size: int = Field(ge=4, description="L of the training runs and of the start of generation")
    reference_sizes: list[int] = Field(min_length=1, description="Monte Carlo sizes to compare with")
    sample: dict = Field(description="partial src.sample config of every inverse-RG run")
    train_temperatures: Literal["all"] | list[float] = Field(
        default="all", description="the temperatures of `sample` the networks learn from: all, or a list"
    )
    train: dict = Field(description="partial src.train config of both networks (task superres)")
    generate: int = Field(ge=2, description="configurations generated per temperature")

    @model_validator(mode="after")
    def _trained_where_sampled(self):
        """Listed training temperatures must be sampled: refused here, before any stage runs."""
        sampled = self.sample.get("temperatures")
        if isinstance(self.train_temperatures, list) and isinstance(sampled, list):
            missing = [T for T in self.train_temperatures if not any(math.isclose(T, t) for t in sampled)]
            if missing or not self.train_temperatures:
                raise ValueError(
                    f"train_temperatures: {missing or '[]'} not among sample.temperatures {sampled}"
                )
        return self

    @model_validator(mode="after")
    def _sizes_double(self):
        for L in self.reference_sizes:
            steps = math.log2(L / self.size)
            if steps < 1 or steps != int(steps):
                raise ValueError(
                    f"reference_sizes: {L} is not the size ({self.size}) times a power of 2, "
                    "which is what generation doubles to"
                )
        return self

    @property
    def steps(self) -> int:
        return int(math.log2(max(self.reference_sizes) / self.size))


class PipelineConfig(Strict):
    output: str = Field(description="folder of report.md and figures/; the data go to <output>/pipeline")
    seed: int = Field(ge=0, description="seed of every run (each stage derives nothing else)")
    ranks: int = Field(ge=1, description="MPI ranks of every sampling run")
    processes: int = Field(ge=1, description="DDP processes of every training run")
    classification: ClassificationStudy
    inverse_rg: InverseRGStudy

    @field_validator("output")
    @classmethod
    def _not_empty(cls, v):
        if not v:
            raise ValueError("must name a folder")
        return v

    @property
    def root(self) -> Path:
        return Path(self.output)

    @property
    def data(self) -> Path:
        return self.root / "pipeline"


def load(path: str | Path | None, overrides=()) -> PipelineConfig:
    """The validated pipeline config of a YAML file (the built-in default when path is None)."""
    return validate(read(path, overrides, DEFAULT), PipelineConfig)
