"""The backend protocol: what the sampler and the driver use of a batch of chains, whatever runs them
(src.sampling.backends.cpu and .array for classical lattice models, .loop for quantum ones).
A model makes its backends (Model.backend)."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class Backend(ABC):
    model: object  # the model (src.models)
    ids: np.ndarray  # the chains' ids (their random streams and start configurations)
    flipped: int  # spins flipped by Wolff clusters so far
    xp = np  # the array module of the chains' arrays

    @property
    def betas(self):
        """Inverse temperatures (R,); assigning them moves the chains to other temperatures. A host
        array here; a backend with device arrays overrides both."""
        return self._betas

    @betas.setter
    def betas(self, value):
        self._betas = np.asarray(value, dtype=np.float64).copy()
        self._temperatures_changed()

    def _temperatures_changed(self) -> None:  # noqa: B027 (an optional hook)
        """What a backend forgets when its chains move to other temperatures."""

    @abstractmethod
    def sweep(self, n_sweeps: int = 1, tune: bool = False) -> None:
        """n_sweeps sweeps of every chain; tune=True (thermalisation only) lets the update adapt."""

    @abstractmethod
    def exchange_weights(self) -> np.ndarray:
        """(R, 2) host array: what replica exchange needs of every chain (src.sampling.driver.exchange)."""

    @abstractmethod
    def measure(self) -> dict[str, np.ndarray]:
        """The model's observables of every chain, host arrays (R,) by name."""

    @abstractmethod
    def snapshot(self, names, r: int, axes: int = 1) -> dict[str, np.ndarray]:
        """The requested representations at distance r, host arrays with a leading chain axis;
        `improved` averaged over `axes` embeddings where the model has embedded clusters."""

    @abstractmethod
    def chain_state(self) -> dict[str, np.ndarray]:
        """Everything that continues the chains, host arrays with a leading chain axis."""

    @abstractmethod
    def load_chain_state(self, state: dict[str, np.ndarray]) -> None:
        """Continue from chain_state()'s arrays."""
