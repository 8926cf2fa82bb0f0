"""MPI: ranks, the chain layout across them, replica exchange."""
