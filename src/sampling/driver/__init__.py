"""The sampling run across MPI ranks (run.py) and its pieces: the chain schedule with replica exchange,
the recorder that writes the run file, and checkpointing."""
