"""matplotlib without a display (batch nodes have none), and figures saved the same way everywhere."""

from __future__ import annotations

from pathlib import Path

from src.storage.atomic import replacing


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: Path) -> None:
    """The figure in the format its suffix names (PNG, PDF, ...), written whole or not at all."""
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp:
        fig.savefig(tmp, dpi=150, format=path.suffix.lstrip(".") or None)
    pyplot().close(fig)
