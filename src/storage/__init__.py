"""The HDF5 run file: its layout (schema), the writer the sampler uses, the reader everyone else uses."""
