"""The models, one module each, and the registry that maps their names to them.

Importing a model module registers its model (src.models.base.REGISTRY); a new model is a new module
here and its name in the import list below. Everything else (configs, files, backends, networks,
analyses) asks the model, see docs/models.md.
"""

from src.models import clock, heisenberg, ising, potts, quantum_xy, xy  # noqa: F401  (registers the models)
from src.models.base import REGISTRY, Model

MODEL_NAMES = tuple(REGISTRY)


def model_class(name: str) -> type[Model]:
    if name not in REGISTRY:
        raise ValueError(f"unknown model {name!r} (allowed: {', '.join(REGISTRY)})")
    return REGISTRY[name]


def make_model(name: str, L: int, **parameters) -> Model:
    """The model `name` on the L x L torus; parameters it does not have (q of ising, Jz of a classical
    model) are ignored, as when a model is read back from a file."""
    return model_class(name).from_attributes({"L": L, **parameters})


def from_attributes(attrs) -> Model:
    """The model of a file's root attributes (model, L, q, J, Jz)."""
    return model_class(str(attrs["model"])).from_attributes(attrs)


__all__ = ["MODEL_NAMES", "Model", "from_attributes", "make_model", "model_class"]
