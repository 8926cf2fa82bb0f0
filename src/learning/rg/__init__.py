"""Block (real-space renormalization-group) transformations with scale factor b = 2.

- clusters: Fortuin-Kasteleyn cluster labels from `fk_bonds` (periodic connected components).
- blocking: majority rule for spins and block-cluster rule for cluster labels, and the coarse
  `improved` configuration, delta between the cluster labels of two blocks.
- runfile: the transformation applied to the snapshots of a run file, written to a coarse file
  (the coarse file format, COARSE_FORMAT, is src.storage.coarse).
- superres: the inverse step, a network from L/2 to L configurations (sampled, never rounded).
- config, training: its training from a config (`task: superres`) with the shared DDP run.
- generation: configurations it generates, L -> 2L -> ..., written as run files.
The definitions, the measured flow T -> T' and the super-resolution keys and files are in docs/rg.md.
"""

from src.sampling.graph.labelling import cluster_labels
from src.storage.coarse import COARSE_FORMAT

from .blocking import (
    BLOCK,
    block_cluster_labels,
    block_majority,
    coarse_improved,
    coarse_size,
    label_identity,
)
from .runfile import block_run_file, coarse_representations

__all__ = [
    "BLOCK",
    "COARSE_FORMAT",
    "block_cluster_labels",
    "block_majority",
    "block_run_file",
    "cluster_labels",
    "coarse_improved",
    "coarse_representations",
    "coarse_size",
    "label_identity",
]
