"""Learning: networks trained on run files under DDP (the trainer, datasets and classifiers in ml/;
super-resolution as an inverse renormalisation-group transformation in rg/), and the training tasks
that python -m src.train runs (tasks.py)."""
