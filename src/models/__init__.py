"""Lattice spin models: their parameters and the conventions every part shares."""

from src.models.spec import MODEL_NAMES, ModelSpec

__all__ = ["MODEL_NAMES", "ModelSpec"]
