"""Monte Carlo updates: numba kernels for the CPU (`cpu_*`) and array kernels for GPUs (`array_*`)."""
