"""spinml: cluster and loop Monte Carlo of spin models, their graph representations, and machine
learning on them."""

__version__ = "0.1.0"
