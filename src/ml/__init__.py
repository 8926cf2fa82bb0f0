"""Phase classification on the snapshots of run files (docs/training.md).

config      the training config (pydantic, YAML, --set)
sources     the run files: metadata, provenance, consistency
encoding    stored snapshots -> network input channels
dataset     SnapshotIndex, labels from temperature windows, the validation split, SnapshotDataset
sampler     global batches of chunk-aligned blocks, shared among DDP ranks
networks    FullyConnected (Carrasquilla-Melko), PeriodicCNN; build_network(spec)
store       model files and checkpoints (weights_only); load_model for evaluation
distributed ranks, devices and the process group (torchrun, srun)
outputs     the output folder
trainer     train(config): the run
"""
