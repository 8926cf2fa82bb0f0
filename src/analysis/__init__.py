"""From run files to physics: crossings, finite-size scaling and their figures."""
