"""Literature values the analyses compare with, and how models are named in tables and figures."""

from __future__ import annotations

from src.models.spec import ModelSpec

# critical (Ising, Potts) and BKT (XY) temperatures at J = 1: Onsager; Baxter, 1 / ln(1 + sqrt 3);
# Hasenbusch 2005 (classical XY); Harada & Kawashima 1998 (spin-1/2 quantum XY)
LITERATURE_TC = {("ising", 2): 2.269185, ("xy", 2): 0.8929, ("quantum_xy", 2): 0.3427, ("potts", 3): 0.994973}


def literature_tc(model: ModelSpec) -> float | None:
    value = LITERATURE_TC.get((model.name, model.q))
    return None if value is None else value * model.J


def model_label(model: ModelSpec) -> str:
    return f"{model.name} q={model.q}" if model.name in ("potts", "clock") else model.name
