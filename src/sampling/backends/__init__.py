"""Compute backends: a batch of chains of one model that sweeps, measures and takes snapshots, behind
one protocol (protocol.py): numba on the CPU (cpu.py) and whole-array kernels on NumPy or CuPy
(array.py) for classical lattice models, the loop algorithm for quantum ones (loop.py)."""
