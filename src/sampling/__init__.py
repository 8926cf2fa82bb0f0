"""Sampling: the config of a run (config.py), the chains of a model on a compute backend (sampler.py,
backends/), their updates (updates/ for classical lattices, quantum/ for the loop algorithm), the
graphs the cluster updates build and the configurations derived from them (graph/), the registries
of representations and observables, and the MPI run that writes one file (driver/). The models
themselves are in src/models."""
