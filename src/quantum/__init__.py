"""Quantum Monte Carlo of spin-1/2 models: the continuous-time loop algorithm."""

from src.quantum.loop import loop_update, simulate

__all__ = ["loop_update", "simulate"]
