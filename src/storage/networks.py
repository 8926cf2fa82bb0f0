"""Network files: trained networks and training checkpoints, as torch.save of a dict of tensors and
plain python data only (no pickled objects), read with weights_only=True, written atomically (a
temporary file renamed over the old one, so a file is always the previous version or the new one,
never torn) and sealed (src.storage.sealed: a header with the SHA-256 of every byte after it,
checked before torch parses anything: a flipped bit anywhere is refused). Files of the previous
release, unsealed with a SHA-256 over their contents in the dict (`digest`), are read after checking
that; a file with neither is refused. The dict's `format` says what it holds:

spinml-network            a classifier (src.learning.ml): state_dict, meta (meta["network"]: the
                          spec it is built from, src.learning.ml.networks.build_network)
spinml-superres           a super-resolution network (src.learning.rg.superres): spec, state_dict, meta
spinml-train-checkpoint   a training run's position (src.learning.ml.trainer): the network's and
                          the optimizer's state, the epoch and step, the history, ...

Building a network from its spec is the learning code's; this module reads and writes the files.
torch is imported by the functions that need it, so that NetworkFileError costs no import.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import TYPE_CHECKING

from src.storage import sealed
from src.storage.atomic import replaced

if TYPE_CHECKING:
    import torch

MODEL_FORMAT = "spinml-network"
SUPERRES_FORMAT = "spinml-superres"
CHECKPOINT_FORMAT = "spinml-train-checkpoint"


# what the readers use of each kind of file (a file without one is refused by name)
REQUIRED = {
    MODEL_FORMAT: ("state_dict", "meta"),
    SUPERRES_FORMAT: ("spec", "state_dict", "meta"),
    CHECKPOINT_FORMAT: (
        "config_hash",
        "data",
        "model",
        "optimizer",
        "scaler",
        "epoch",
        "step",
        "seconds",
        "running",
        "best_val_loss",
        "history",
    ),
}
MODEL_META = ("network", "representation", "encoding", "labels", "lattice_sizes", "config")


class NetworkFileError(ValueError):
    """A file that is not the network file or checkpoint asked for; one-line message."""


def atomic_save(obj: dict, path: Path) -> None:
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with replaced(path, "wb") as f:
        f.write(sealed.sealed_bytes(buffer.getvalue()))


def digest(obj) -> str:
    """SHA-256 of a dict of tensors and plain data: keys, types, shapes and bytes, in sorted order
    (the checksum of the previous release's files)."""
    h = hashlib.sha256()
    _feed(h, obj)
    return h.hexdigest()


def _feed(h, value) -> None:
    import torch

    if isinstance(value, dict):
        h.update(b"{")
        for key in sorted(value, key=str):
            _feed(h, key)
            _feed(h, value[key])
        h.update(b"}")
    elif isinstance(value, (list, tuple)):
        h.update(b"[")
        for item in value:
            _feed(h, item)
        h.update(b"]")
    elif isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous().reshape(-1)
        h.update(f"tensor {t.dtype} {tuple(value.shape)}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes())
    else:  # plain data: int, float, str, bool, None
        h.update(f"{type(value).__name__} {value!r};".encode())


def read(path: str | Path, device: str | torch.device = "cpu"):
    """What a network file or checkpoint holds, with its tensors on `device`, once its seal (or the
    previous release's `digest`, which is removed) is checked."""
    import torch

    path = Path(path)
    try:
        unsealed = not sealed.is_sealed(path)
        source = path if unsealed else io.BytesIO(sealed.payload(path, str(path)))
    except FileNotFoundError:
        raise NetworkFileError(f"{path}: no such file") from None
    except OSError as err:
        raise NetworkFileError(f"{path}: {err.strerror or err}") from None
    except sealed.SealError as err:
        raise NetworkFileError(str(err)) from None
    try:
        saved = torch.load(source, map_location=device, weights_only=True)
    except Exception:  # torch's restricted unpickler fails on other data in many ways
        raise NetworkFileError(f"{path}: not a model or checkpoint file") from None
    if not isinstance(saved, dict) or "format" not in saved:
        raise NetworkFileError(f"{path}: not a model or checkpoint file")
    if unsealed:
        recorded = saved.pop("digest", None)
        if recorded is None:
            raise NetworkFileError(f"{path}: has no checksum (written by an older version); train it again")
        if recorded != digest(saved):
            raise NetworkFileError(f"{path}: damaged (its SHA-256 does not match its contents)")
    return saved


def _read_format(path, device, kind: str, wrong: str) -> dict:
    saved = read(path, device)
    if saved.get("format") != kind:
        raise NetworkFileError(wrong)
    missing = [key for key in REQUIRED[kind] if key not in saved]
    if missing:
        raise NetworkFileError(f"{path}: a {kind} file without {', '.join(missing)}")
    return saved


def cpu_state_dict(network) -> dict:
    """The network's parameters and buffers (a torch.nn.Module's state_dict) as CPU tensors."""
    return {k: v.detach().cpu() for k, v in network.state_dict().items()}


def save_model(path: Path, network, meta: dict) -> None:
    """network: the plain module (not its DDP wrapper); meta: plain data (see read_model)."""
    atomic_save({"format": MODEL_FORMAT, "state_dict": cpu_state_dict(network), "meta": meta}, path)


def read_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[dict, dict]:
    """(state_dict, meta) of a model file: meta["network"] the spec the network was built from,
    meta["representation"], meta["encoding"], meta["labels"], meta["config"], meta["data"] (the
    provenance of every training file), meta["epoch"], meta["metrics"]."""
    wrong = f"{path}: not a {MODEL_FORMAT} file (a checkpoint? use best.pt or last.pt)"
    saved = _read_format(path, device, MODEL_FORMAT, wrong)
    missing = [key for key in MODEL_META if key not in saved["meta"]]
    if missing:
        raise NetworkFileError(f"{path}: a {MODEL_FORMAT} file whose meta has no {', '.join(missing)}")
    return saved["state_dict"], saved["meta"]


def save_superres(path, spec: dict, network, meta: dict | None = None) -> None:
    """A super-resolution network built from `spec`; meta: plain data."""
    atomic_save(
        {"format": SUPERRES_FORMAT, "spec": spec, "state_dict": cpu_state_dict(network), "meta": meta or {}},
        Path(path),
    )


def read_superres(path, device: str | torch.device = "cpu") -> tuple[dict, dict, dict]:
    """(spec, state_dict, meta) of a super-resolution network file."""
    saved = _read_format(path, device, SUPERRES_FORMAT, f"{path}: not a {SUPERRES_FORMAT} file")
    return saved["spec"], saved["state_dict"], saved["meta"]


def save_checkpoint(path: Path, state: dict) -> None:
    """state: tensors and plain data (the trainer's position)."""
    atomic_save({"format": CHECKPOINT_FORMAT, **state}, path)


def read_checkpoint(path: Path, device: str | torch.device = "cpu") -> dict:
    """The state save_checkpoint wrote (with its `format`), tensors on `device`."""
    return _read_format(path, device, CHECKPOINT_FORMAT, f"checkpoint {path}: not a training checkpoint")
