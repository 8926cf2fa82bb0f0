"""Training on the snapshots of run files: phase classification (docs/training.md), and the DDP
training run that super-resolution (src.learning.rg.training, docs/rg.md) shares.

config          the training config (pydantic, YAML, --set)
sources         the run files: metadata, provenance, consistency
encoding        stored snapshots -> network input channels
dataset         SnapshotIndex, labels from temperature windows, the validation split, SnapshotDataset
sampler         global batches of chunk-aligned blocks, shared among DDP ranks
networks        FullyConnected (Carrasquilla-Melko), PeriodicCNN; build_network(spec); load_model
                for evaluation (the model files and checkpoints are src.storage.networks)
distributed     ranks, devices and the process group (torchrun, srun)
outputs         the output folder
task            what a run learns from which snapshots (the part that differs between tasks)
classification  the classifier's task
trainer         train(config, task=...): the run
"""
