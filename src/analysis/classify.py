"""A trained phase classifier evaluated on run files: its output averaged over the snapshots at
every temperature, the temperature T_x(L) where that output crosses 1/2, and the extrapolation of
T_x(L) to L = infinity (src.analysis.fss).

The output is the softmax probability of one class, by default the class of the window at the
lowest temperatures (the "ordered" output), so it falls from about 1 to about 0 with T. Its error is
a bootstrap over blocks of consecutive snapshots (N_BLOCKS blocks per temperature, N_RESAMPLES
resamples, seeded): snapshots closer than a block may be correlated without biasing the error.

A network may be evaluated on files of another model than it was trained on (e.g. classical xy to
quantum_xy, both `improved`), as long as the files hold its representation with the same number
of channels, and, for a fully connected network, the lattice size it was trained on.

torch is imported by the functions that need it, so that the other analyses start quickly.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np

from src.analysis.crossing import NoCrossing, level_crossing
from src.analysis.fss import Extrapolation, extrapolate, scaling_variable
from src.analysis.plotting import pyplot, save
from src.learning.ml.encoding import channels, encode
from src.models import Model
from src.stats.derived import format_value_error
from src.storage.reader import RunFile, RunFileError

N_BLOCKS = 50
N_RESAMPLES = 200
BATCH = 512


# critical temperatures at J = 1 (T_BKT for xy and quantum_xy), by (model, q); they scale with J
class ClassifyError(ValueError):
    """A network or a choice that does not fit the evaluation; one-line message."""


def load_classifier(path, device: str = "cpu"):
    """(network in eval mode, its metadata)."""
    from src.learning.ml.networks import load_model
    from src.storage.networks import NetworkFileError

    try:
        return load_model(path, device)
    except NetworkFileError as err:
        raise ClassifyError(str(err)) from None


def output_class(labels: dict, choice: str | None) -> int:
    """The class whose probability is averaged: `choice` as an index or a class name, by default
    the class of the window with the lowest temperatures."""
    n_classes = len({w["class"] for w in labels["windows"]})
    names = labels.get("names") or []
    if choice is None:
        return min(labels["windows"], key=_window_bounds)["class"]
    if choice in names:
        return names.index(choice)
    if choice.isdigit() and int(choice) < n_classes:
        return int(choice)
    known = f"0 to {n_classes - 1}" + (f" or {', '.join(names)}" if names else "")
    raise ClassifyError(f"--class {choice}: no such class (the network has {known})")


def _window_bounds(window: dict) -> tuple[float, float]:
    low, high = window.get("min"), window.get("max")
    return (-np.inf if low is None else low, np.inf if high is None else high)


def class_name(labels: dict, k: int) -> str:
    names = labels.get("names")
    return names[k] if names else f"class {k}"


def check_fit(path, run: RunFile, meta: dict) -> None:
    """RunFileError naming the problem when the network cannot be applied to the file."""
    representation, spec = meta["representation"], meta["network"]
    model = run.model
    if not run.attrs.get("complete"):
        raise RunFileError(f"{path}: the run is not complete")
    snapshots = run.snapshot_array(representation)  # raises when the file lacks it
    if snapshots.shape[1] == 0:
        raise RunFileError(f"{path}: holds no snapshots")
    if channels(model, representation) != spec["in_channels"]:
        raise RunFileError(
            f"{path}: its {representation} encoding has {channels(model, representation)} channels, "
            f"the network takes {spec['in_channels']}"
        )
    if spec["kind"] == "fcn" and model.L != spec["L"]:
        raise RunFileError(
            f"{path}: L = {model.L}, but the fully connected network takes L = {spec['L']} only"
        )


def snapshot_outputs(network, snapshots, model: Model, representation: str, k: int, device="cpu"):
    """Probability of class k for every snapshot of `snapshots` (a SnapshotArray, or an array of the
    same shape), (n_T, n_snapshots) float64, read in batches."""
    import torch

    n_T, n_snapshots = snapshots.shape[:2]
    out = np.empty((n_T, n_snapshots))
    with torch.no_grad():
        for t in range(n_T):
            for start in range(0, n_snapshots, BATCH):
                x = torch.from_numpy(encode(snapshots[t, start : start + BATCH], model, representation))
                logits = network(x.to(device))
                out[t, start : start + BATCH] = torch.softmax(logits, dim=1)[:, k].double().cpu().numpy()
    return out


def block_bootstrap(values, n_blocks: int = N_BLOCKS, n_resamples: int = N_RESAMPLES, seed: int = 0):
    """(mean, error) over the last axis. The error is the spread of the means of resamples of whole
    blocks of consecutive values (all values used; blocks differ in size by at most one)."""
    values = np.asarray(values, dtype=float)
    n = values.shape[-1]
    blocks = np.array_split(np.arange(n), min(n_blocks, n))
    sums = np.stack([values[..., b].sum(axis=-1) for b in blocks], axis=-1)
    sizes = np.array([b.size for b in blocks])
    picks = np.random.default_rng(seed).integers(0, len(blocks), size=(n_resamples, len(blocks)))
    resampled = sums[..., picks].sum(axis=-1) / sizes[picks].sum(axis=-1)
    return values.mean(axis=-1), resampled.std(axis=-1, ddof=1)


def classify_file(path, network, meta: dict, k: int, device="cpu") -> dict:
    """One file: L, model, temperatures, averaged output with error, and the crossing with 1/2
    (None when the output does not cross it)."""
    with RunFile(path) as run:
        check_fit(path, run, meta)
        model = run.model
        T = run.temperatures
        p = snapshot_outputs(
            network, run.snapshot_array(meta["representation"]), model, meta["representation"], k, device
        )
    order = np.argsort(T)
    output, error = block_bootstrap(p[order])
    try:
        crossing = level_crossing(T[order], output, error, 0.5)
    except NoCrossing:
        crossing = None
    return {
        "path": str(path),
        "model": model,
        "L": model.L,
        "T": T[order],
        "output": output,
        "error": error,
        "crossing": crossing,
    }


def classify_files(paths, network, meta: dict, k: int, device="cpu") -> list[dict]:
    """classify_file for every path, sorted by L; the files must hold one model (any L)."""
    curves = [classify_file(p, network, meta, k, device) for p in paths]
    first = curves[0]
    for c in curves[1:]:
        if replace(c["model"], L=first["L"]) != first["model"]:
            raise ClassifyError(
                f"{c['path']}: holds the {c['model'].label} model, {first['path']} the "
                f"{first['model'].label} model (one model per extrapolation)"
            )
    return sorted(curves, key=lambda c: c["L"])


def extrapolate_crossings(curves, form: str, nu: float) -> Extrapolation | None:
    """The fit over the sizes with a crossing; None with fewer than two sizes."""
    crossed = [c for c in curves if c["crossing"] is not None]
    if len({c["L"] for c in crossed}) < 2:
        return None
    L = [c["L"] for c in crossed]
    return extrapolate(L, *zip(*(c["crossing"] for c in crossed)), form=form, nu=nu)


def summary_text(curves, fit: Extrapolation | None, output_name: str) -> str:
    model = curves[0]["model"]
    symbol = "T_BKT" if fit is not None and fit.form == "bkt" else "T_c"
    lines = [f"{model.label}: where the network output P({output_name}) crosses 1/2"]
    for c in curves:
        crossing = format_value_error(*c["crossing"]) if c["crossing"] else "no crossing"
        lines.append(f"L = {c['L']:4d}: T_x = {crossing}  ({c['path']})")
    if fit is None:
        lines.append("no extrapolation: crossings at fewer than two lattice sizes")
    else:
        lines.append(fit.line(symbol))
    reference = model.literature_tc
    if reference is not None:
        lines.append(f"literature {symbol} = {reference:.7g}")
    return "\n".join(lines)


def write_csv(curves, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "model", "L", "T", "output", "error"])
        for c in curves:
            for row in zip(c["T"], c["output"], c["error"]):
                writer.writerow([c["path"], c["model"].label, c["L"], *(f"{v:.8g}" for v in row)])


def plot_outputs(curves, output_name: str, path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for c in curves:
        ax.errorbar(c["T"], c["output"], c["error"], marker="o", ms=3, capsize=2, label=f"L = {c['L']}")
    ax.axhline(0.5, color="k", ls="--", lw=1)
    ax.set_xlabel("T / J")
    ax.set_ylabel(f"network output P({output_name})")
    ax.legend(frameon=False)
    save(fig, path)


def plot_extrapolation(curves, fit: Extrapolation, path: Path) -> None:
    plt = pyplot()
    crossed = [c for c in curves if c["crossing"] is not None]
    x = scaling_variable([c["L"] for c in crossed], fit.form, fit.nu)
    T_x, error = np.array([c["crossing"] for c in crossed]).T
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.errorbar(x, T_x, error, fmt="o", ms=4, capsize=2, label="T_x(L)")
    line = np.linspace(0, x.max() * 1.05, 50)
    ax.plot(line, fit.at(line), "k-", lw=1, label=f"fit: T_c = {format_value_error(fit.T_c, fit.T_c_error)}")
    reference = crossed[0]["model"].literature_tc
    if reference is not None:
        ax.plot([0], [reference], "r*", ms=9, label=f"literature {reference:.7g}")
    ax.set_xlabel("1 / ln²L" if fit.form == "bkt" else f"L^(-1/ν), ν = {fit.nu:g}")
    ax.set_ylabel("T_x / J")
    ax.legend(frameon=False)
    save(fig, path)


def classify_report(
    model_path, files, out: Path, choice=None, form: str = "power", nu: float = 1.0, device="cpu"
) -> tuple[str, list[dict], Extrapolation | None, list[Path]]:
    """The whole evaluation of a classifier on run files: (summary text, the curves of
    classify_files, extrapolation of the crossings or None, files written to `out`: summary.txt,
    outputs.csv and the figures). choice:
    the output class (index or name; default the ordered one)."""
    network, meta = load_classifier(model_path, device)
    k = output_class(meta["labels"], choice)
    name = class_name(meta["labels"], k)
    curves = classify_files(files, network, meta, k, device)
    fit = extrapolate_crossings(curves, form, nu)
    summary = summary_text(curves, fit, name)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "summary.txt", out / "outputs.csv", out / "outputs.png"]
    written[0].write_text(summary + "\n")
    write_csv(curves, written[1])
    plot_outputs(curves, name, written[2])
    if fit is not None:
        written.append(out / "extrapolation.png")
        plot_extrapolation(curves, fit, written[-1])
    return summary, curves, fit, written
