"""Model files and checkpoints: torch.save of tensors and plain python data only (no pickled
objects), loaded with weights_only=True, written atomically (a temporary file renamed over the
old one, so a file is always the previous version or the new one, never torn)."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from src.learning.ml.errors import TrainError
from src.learning.ml.networks import build_network

MODEL_FORMAT = "spinml-network"


def atomic_save(obj: dict, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read(path: str | Path, device: str | torch.device = "cpu") -> dict:
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise TrainError(f"{path}: no such file") from None
    except OSError as err:
        raise TrainError(f"{path}: {err.strerror or err}") from None
    except Exception:  # torch's restricted unpickler fails on other data in many ways
        raise TrainError(f"{path}: not a model or checkpoint file") from None


def cpu_state_dict(network: nn.Module) -> dict:
    return {k: v.detach().cpu() for k, v in network.state_dict().items()}


def save_model(path: Path, network: nn.Module, meta: dict) -> None:
    """network: the plain module (not its DDP wrapper); meta: plain data (see load_model)."""
    atomic_save({"format": MODEL_FORMAT, "state_dict": cpu_state_dict(network), "meta": meta}, path)


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[nn.Module, dict]:
    """A trained network, in eval mode on `device`, and its metadata: meta["network"] the spec it
    was built from, meta["representation"], meta["encoding"], meta["labels"], meta["config"],
    meta["data"] (the provenance of every training file), meta["epoch"], meta["metrics"]."""
    saved = read(path, device)
    if not isinstance(saved, dict) or saved.get("format") != MODEL_FORMAT:
        raise TrainError(f"{path}: not a {MODEL_FORMAT} file (a checkpoint? use best.pt or last.pt)")
    network = build_network(saved["meta"]["network"])
    network.load_state_dict(saved["state_dict"])
    return network.to(device).eval(), saved["meta"]
