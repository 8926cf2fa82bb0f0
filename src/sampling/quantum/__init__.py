"""Quantum Monte Carlo of spin-1/2 models: the continuous-time loop algorithm."""
