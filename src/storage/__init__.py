"""Every file format of the project: the only code that opens HDF5 files or torch.save files.
The learning and analysis code gets numpy arrays, plain data and SnapshotArray views from here,
never h5py objects.

- run files (format spinml-run, docs/format.md): schema (the layout, in one place), writer (the
  sampler's collective RunWriter), reader (RunFile, and SnapshotArray for streaming reads).
- checkpoints of sampling runs (spinml-checkpoint): checkpoint.
- coarse files (spinml-coarse, docs/rg.md), the block transform of a run file: coarse (CoarseWriter;
  the transformation is src.learning.rg.runfile).
- network files (docs/training.md, docs/rg.md): networks, trained classifiers (spinml-network),
  super-resolution networks (spinml-superres) and training checkpoints (spinml-train-checkpoint);
  building a network from its spec is the learning code's.
"""
