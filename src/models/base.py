"""What a model is: the interface that every model module implements, and the registry of models.

A model module (src/models/<name>.py) defines one frozen dataclass per model: its parameters (L, J
and its own, such as q or Jz), their validation, and everything the rest of the code asks of the
model, so that no other module needs to know which model it runs. A class with a `name` registers
itself when its module is imported (src/models/__init__.py imports them all).

What a model declares as class attributes:
- name: the config's `model.name` and the run file's `model` attribute;
- updates: the updates it can be sampled with, the first being the default;
- representations: the snapshot representations it offers (src.sampling.representations);
- backends: the compute backends that run its updates;
- observable_names: what a measurement records, in order (src.sampling.observables);
- overrelaxation: whether `overrelax` sweeps are defined for it;
- fortuin_kasteleyn: whether its graph is the Fortuin-Kasteleyn random-cluster graph of label
  states, so that blocks of spins and of clusters are defined (the inverse RG of src.learning.rg);
- critical_temperature: the literature value of T_c (or T_BKT) at J = 1, None where unknown.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np

REGISTRY: dict[str, type[Model]] = {}

# The run file stores q and Jz for every model (docs/format.md): these values where a model has none.
FILE_DEFAULTS = {"q": 2, "Jz": 0.0}


@dataclass(frozen=True)
class Model(ABC):
    L: int
    J: float = 1.0

    name: ClassVar[str]
    updates: ClassVar[tuple[str, ...]]
    representations: ClassVar[tuple[str, ...]]
    backends: ClassVar[tuple[str, ...]]
    observable_names: ClassVar[tuple[str, ...]]
    overrelaxation: ClassVar[bool] = False
    fortuin_kasteleyn: ClassVar[bool] = False
    critical_temperature: ClassVar[float | None] = None
    # a chain's state: one value per site of this dtype, with these trailing axes (vector spins)
    state_dtype: ClassVar = np.int8
    site_shape: ClassVar[tuple[int, ...]] = ()
    # config keys of the `model` section besides L and J, with the message that refuses each where
    # this model has no such parameter (None: the model takes it)
    refused_keys: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            REGISTRY[cls.name] = cls

    def __post_init__(self):
        if self.L < 2:
            raise ValueError(f"L must be at least 2, got {self.L}")

    # -- parameters ---------------------------------------------------------------------------
    @classmethod
    def from_config(cls, L: int, J: float = 1.0, **keys) -> Model:
        """The model of a config's `model` section; ValueError('key: problem') for a key it refuses."""
        for key, value in keys.items():
            reason = cls.refusal(key, value)
            if reason:
                raise ValueError(f"{key}: {reason}")
        own = {f.name for f in fields(cls) if f.init} - {"L", "J"}
        return cls(L=int(L), J=float(J), **{k: v for k, v in keys.items() if k in own})

    @classmethod
    def refusal(cls, key: str, value) -> str | None:
        """Why this model refuses `key: value` in its config section, or None."""
        if value is None:
            return None
        return cls.refused_keys.get(key, f"not a parameter of the {cls.name} model")

    def parameters(self) -> dict:
        """The model's own parameters besides L and J (q, Jz, ...), fixed ones included."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("L", "J")}

    def attributes(self) -> dict:
        """The model as the run file's root attributes (model, L, q, J, Jz)."""
        return {
            "model": self.name,
            "L": self.L,
            "q": FILE_DEFAULTS["q"],
            "J": self.J,
            "Jz": FILE_DEFAULTS["Jz"],
        } | (self.parameters())

    @classmethod
    def from_attributes(cls, attrs) -> Model:
        """The inverse of attributes(): the model a file was written for."""
        own = {f.name: f.type for f in fields(cls) if f.init}
        cast = {"L": int, "J": float, "q": int, "Jz": float}
        return cls(**{k: cast.get(k, float)(attrs[k]) for k in own if k in attrs})

    @property
    def label(self) -> str:
        """e.g. 'xy', 'potts q=3', 'quantum_xxz Jz=0.5': the name and the parameters a user sets."""
        own = [
            f"{f.name}={getattr(self, f.name):g}" for f in fields(self) if f.init and f.name not in ("L", "J")
        ]
        return " ".join([self.name, *own])

    @property
    def n_sites(self) -> int:
        return self.L * self.L

    @property
    def literature_tc(self) -> float | None:
        """The literature critical temperature at this J, None where unknown."""
        return None if self.critical_temperature is None else self.critical_temperature * self.J

    @property
    def exact_exponents(self) -> dict[str, float] | None:
        """The exact critical exponents nu and eta of a continuous transition (gamma/nu = 2 - eta in
        two dimensions), None where there are none (first order, BKT) or they are not known."""
        return None

    # -- sampling -----------------------------------------------------------------------------
    @abstractmethod
    def backend(self, kind: str, update: str, betas, seed: int, replica_ids, **options):
        """A batch of chains of this model on a compute backend (src.sampling.backends.protocol)."""

    @abstractmethod
    def random_state(self, generator: np.random.Generator, n_sites: int) -> np.ndarray:
        """A random ("hot") start of one chain."""

    @abstractmethod
    def snapshot_shape(self, representation: str) -> tuple[int, ...]:
        """The shape of one snapshot of a representation."""

    @abstractmethod
    def stored_dtype(self, representation: str) -> np.dtype:
        """The dtype of a representation in files: the smallest that holds its values exactly."""

    # the improved configuration of embedded-cluster models can average several embedding axes
    # (snapshots.axes); models without embedding axes take 1
    def default_axes(self) -> int:
        """The embedding axes of `improved` unless a config says otherwise."""
        return 1

    def axes_refusal(self, axes: int) -> str | None:
        """Why this model cannot average `improved` over `axes` embeddings, or None."""
        return None if axes == 1 else f"the {self.name} model has no embedding axes; leave it at 1"

    # -- learning -----------------------------------------------------------------------------
    @abstractmethod
    def spin_channels(self) -> int:
        """The number of input channels of the `spin` representation for a network."""

    @abstractmethod
    def encode_spin(self, stored: np.ndarray) -> np.ndarray:
        """(n, ...) stored `spin` snapshots -> (n, C, L, L) float32 network input."""

    @abstractmethod
    def describe_spin(self) -> str:
        """The network encoding of `spin` in words."""

    @abstractmethod
    def spin_picture(self, stored: np.ndarray) -> tuple[np.ndarray, str | None, float, float]:
        """One stored `spin` snapshot as an image (src.analysis.pictures): (values (L, L) or RGB
        (L, L, 3), matplotlib colour map, vmin, vmax)."""


class SignSpin:
    """Mixed into models whose stored `spin` is s = +-1 (ising; sigma^z of the quantum models):
    networks see it as one channel."""

    def spin_channels(self):
        return 1

    def encode_spin(self, stored):
        return stored[:, None].astype(np.float32)

    def describe_spin(self):
        return "spin: 1 channel, s = +-1"

    def spin_picture(self, stored):
        return stored, "gray", -1.0, 1.0
