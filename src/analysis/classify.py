"""Trained phase classifiers evaluated on run files: the output averaged over the snapshots at
every temperature, a criterion's pseudo-critical temperatures (src.analysis.criteria: P = 1/2, or
the crossing of successive sizes) and their extrapolation to L = infinity (src.analysis.fss).

Several networks may be given:
- all trained on the same sizes (e.g. with different seeds): each is applied to every file;
- each trained on one size (one network per L, as Carrasquilla-Melko): a file of size L is read by
  the networks trained on L, which must exist for every size of the files.
The k-th network of every size forms member k (by training seed); members are combined as
src.analysis.criteria says, so that the training spread enters the error bars.

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from src.analysis import criteria
from src.analysis.fss import Extrapolation, mixed_models, scaling_variable
from src.analysis.plotting import pyplot, save
from src.learning.ml.encoding import channels, encode
from src.models import Model
from src.stats.derived import format_value_error
from src.storage.atomic import replaced, write_text
from src.storage.reader import RunFile, RunFileError

N_BLOCKS = 50
N_RESAMPLES = 200
BATCH = 512


class ClassifyError(ValueError):
    """A network or a choice that does not fit the evaluation; one-line message."""


@dataclass(frozen=True)
class Classifier:
    """A trained network in eval mode with its model file's metadata."""

    path: str
    network: object
    meta: dict

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(self.meta["lattice_sizes"])

    @property
    def seed(self) -> int:
        return self.meta["config"]["training"]["seed"]

    @property
    def rescale(self) -> float:
        return self.meta.get("rescale", 0.0)


# what the networks evaluated together must share, by its name in messages
SHARED = {
    "input": lambda c: c.meta["representation"],
    "classes": lambda c: c.meta["labels"],
    "input rescaling": lambda c: c.rescale,
}


def load_classifiers(paths, device: str = "cpu") -> list[Classifier]:
    """The networks of model files, checked to read the same input and give the same classes."""
    from src.learning.ml.networks import load_model
    from src.storage.networks import NetworkFileError

    loaded = []
    for path in paths:
        try:
            loaded.append(Classifier(str(path), *load_model(path, device)))
        except NetworkFileError as err:
            raise ClassifyError(str(err)) from None
    first = loaded[0]
    for other in loaded[1:]:
        for what, of in SHARED.items():
            if of(other) != of(first):
                raise ClassifyError(
                    f"{other.path}: its {what} ({of(other)}) differs from that of {first.path} "
                    f"({of(first)}); networks evaluated together must share it"
                )
    return loaded


def assign(classifiers: list[Classifier], sizes) -> tuple[str, dict[int, list[Classifier]]]:
    """("shared" or "per size", the networks that read the files of each size, ordered by training
    seed): networks trained on the same sizes read every file; networks trained on one size each
    read the files of their size."""
    by_sizes: dict[tuple, list[Classifier]] = {}
    for c in sorted(classifiers, key=lambda c: c.seed):
        by_sizes.setdefault(c.sizes, []).append(c)
    if len(by_sizes) == 1:
        (together,) = by_sizes.values()
        return "shared", {L: together for L in sizes}
    if any(len(trained_on) != 1 for trained_on in by_sizes):
        described = "; ".join(f"L = {', '.join(map(str, k))}: {len(v)}" for k, v in by_sizes.items())
        raise ClassifyError(
            f"the networks were trained on different sets of sizes ({described}); give networks trained "
            "on the same sizes, or one network per size"
        )
    missing = sorted(L for L in set(sizes) if (L,) not in by_sizes)
    if missing:
        raise ClassifyError(
            f"no network trained on L = {', '.join(map(str, missing))} (one network per size: "
            f"the networks cover L = {', '.join(str(k[0]) for k in sorted(by_sizes))})"
        )
    counts = {L: len(by_sizes[(L,)]) for L in sorted(set(sizes))}
    if len(set(counts.values())) > 1:
        raise ClassifyError(
            "one network per size needs as many networks (seeds) at every size, got "
            + ", ".join(f"{n} at L = {L}" for L, n in counts.items())
        )
    return "per size", {L: by_sizes[(L,)] for L in sizes}


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


def snapshot_outputs(networks, snapshots, model: Model, rep: str, k: int, rescale=0.0, device="cpu"):
    """Probability of class k for every snapshot of `snapshots` (a SnapshotArray, or an array of the
    same shape) under each network, (n_networks, n_T, n_snapshots) float64; each batch is read and
    encoded once for all networks."""
    import torch

    n_T, n_snapshots = snapshots.shape[:2]
    out = np.empty((len(networks), n_T, n_snapshots))
    with torch.no_grad():
        for t in range(n_T):
            for start in range(0, n_snapshots, BATCH):
                stored = snapshots[t, start : start + BATCH]
                x = torch.from_numpy(encode(stored, model, rep, rescale)).to(device)
                for i, network in enumerate(networks):
                    p = torch.softmax(network(x), dim=1)[:, k]
                    out[i, t, start : start + BATCH] = p.double().cpu().numpy()
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


def file_curves(path, classifiers: list[Classifier], k: int, device="cpu") -> list[dict]:
    """One file under each network: L, model, temperatures, averaged output with its error."""
    first = classifiers[0]
    representation = first.meta["representation"]
    with RunFile(path) as run:
        for c in classifiers:
            check_fit(path, run, c.meta)
        model = run.model
        T = run.temperatures
        p = snapshot_outputs(
            [c.network for c in classifiers],
            run.snapshot_array(representation),
            model,
            representation,
            k,
            first.rescale,
            device,
        )
    order = np.argsort(T)
    curves = []
    for c, outputs in zip(classifiers, p):
        output, error = block_bootstrap(outputs[order])
        curves.append(
            {
                "path": str(path),
                "network": c.path,
                "model": model,
                "L": model.L,
                "T": T[order],
                "output": output,
                "error": error,
            }
        )
    return curves


@dataclass
class Evaluation:
    """Classifiers over run files under one criterion."""

    criterion: str
    form: str  # of the extrapolation (src.analysis.fss)
    mode: str  # shared | per size
    output_name: str
    members: list[list[dict]]  # members[k][i]: member k's curve of the i-th size
    points: list[criteria.Combined]
    fit: Extrapolation | None
    member_fits: list[Extrapolation | None]

    @property
    def model(self) -> Model:
        return self.members[0][0]["model"]

    @property
    def symbol(self) -> str:
        return "T_BKT" if self.form == "bkt" else "T_c"


def evaluate(classifiers, files, k: int, judged=("half",), form="power", nu=1.0, device="cpu"):
    """Every file under its networks (once), and for each criterion of `judged` its temperatures
    and extrapolations: one Evaluation per criterion."""
    for criterion in judged:
        if criterion not in criteria.CRITERIA:
            raise ClassifyError(f"unknown criterion {criterion!r} (allowed: {', '.join(criteria.CRITERIA)})")
    with_size = []
    for path in files:
        with RunFile(path) as run:
            with_size.append((run.model.L, str(path)))
    sizes = [L for L, _ in with_size]
    if len(set(sizes)) < len(sizes):
        raise ClassifyError(f"two files of L = {max(sizes, key=sizes.count)}: give one file per size")
    mode, networks = assign(classifiers, sizes)
    per_file = {path: file_curves(path, networks[L], k, device) for L, path in sorted(with_size)}
    members = [list(curves) for curves in zip(*per_file.values())]
    problem = mixed_models(members[0])
    if problem:
        raise ClassifyError(problem)
    name = class_name(classifiers[0].meta["labels"], k)
    evaluations = []
    for criterion in judged:
        try:
            points = criteria.estimates(criterion, members)
        except criteria.CriterionError as err:
            raise ClassifyError(str(err)) from None
        fits = [criteria.fit(points, form, nu, member=i) for i in range(len(members))]
        fit = criteria.fit(points, form, nu)
        evaluations.append(Evaluation(criterion, form, mode, name, members, points, fit, fits))
    return evaluations


def summary_text(ev: Evaluation) -> str:
    n = len(ev.members)
    what = {"half": "crosses 1/2", "pairs": "of successive sizes cross"}[ev.criterion]
    networks = f"{n} network{'s' if n > 1 else ''}" + (" per size" if ev.mode == "per size" else "")
    lines = [f"{ev.model.label}: where P({ev.output_name}) {what} ({networks})"]
    path_of = {str(c["L"]): c["path"] for c in ev.members[0]}
    for p in ev.points:
        files = ", ".join(path_of[L] for L in p.label.split("/"))
        lines.append(f"L = {p.label:>4s}: T_x = {p.line()}  ({files})")
    if ev.fit is None:
        lines.append("no extrapolation: temperatures at fewer than two sizes")
    else:
        lines.append(ev.fit.line(ev.symbol))
    fitted = [f for f in ev.member_fits if f is not None]
    if n > 1 and fitted:
        values = np.array([f.T_c for f in fitted])
        each = ", ".join(format_value_error(f.T_c, f.T_c_error) for f in fitted)
        spread = values.std(ddof=1) if values.size > 1 else 0.0
        lines.append(
            f"each network alone: {ev.symbol} = {each} (mean {values.mean():.4f}, s.d. {spread:.2g})"
        )
    reference = ev.model.literature_tc
    if reference is not None:
        lines.append(f"literature {ev.symbol} = {reference:.7g}")
    return "\n".join(lines)


def write_csv(ev: Evaluation, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with replaced(path, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "network", "model", "L", "T", "output", "error"])
        for member in ev.members:
            for c in member:
                for row in zip(c["T"], c["output"], c["error"]):
                    writer.writerow(
                        [c["path"], c["network"], c["model"].label, c["L"], *(f"{v:.8g}" for v in row)]
                    )


def write_crossings(evaluations: list[Evaluation], path: Path) -> None:
    """Every criterion's temperatures of every member and their combination ("all"); a member's
    covariance_next is the statistical covariance of its T_x with its next one (pairs that share a
    file), what src.analysis.criteria.fit needs besides the temperatures."""
    with replaced(path, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["criterion", "sizes", "network", "T_x", "error", "seed_sd", "covariance_next"])
        for ev in evaluations:
            for p in ev.points:
                shared = p.next_covariance or (0.0,) * len(ev.members)
                for member, value, cov in zip(ev.members, p.members, shared):
                    cells = ["", ""] if value is None else [f"{v:.8g}" for v in value]
                    writer.writerow([ev.criterion, p.label, member[0]["network"], *cells, "", f"{cov:.8g}"])
                if p.complete:
                    combined = [p.value, p.error, p.seed_sd]
                    writer.writerow([ev.criterion, p.label, "all", *(f"{v:.8g}" for v in combined)])


def plot_outputs(ev: Evaluation, path: Path) -> None:
    """The output curves, averaged over the members (error bars: bootstrap and seed spread)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for i, c in enumerate(ev.members[0]):
        outputs = np.array([m[i]["output"] for m in ev.members])
        bootstrap = np.mean([m[i]["error"] for m in ev.members], axis=0)
        spread = outputs.std(axis=0, ddof=1) / np.sqrt(len(outputs)) if len(outputs) > 1 else 0
        error = np.hypot(bootstrap, spread)
        ax.errorbar(c["T"], outputs.mean(axis=0), error, marker="o", ms=3, capsize=2, label=f"L = {c['L']}")
    if ev.criterion == "half":
        ax.axhline(0.5, color="k", ls="--", lw=1)
    ax.set_xlabel("T / J")
    ax.set_ylabel(f"network output P({ev.output_name})")
    ax.set_title(
        f"{ev.model.label}, {len(ev.members)} network(s){' per size' if ev.mode == 'per size' else ''}",
        fontsize=9,
    )
    ax.legend(frameon=False)
    save(fig, path)


def plot_extrapolation(ev: Evaluation, path: Path) -> None:
    plt = pyplot()
    fit = ev.fit
    points = [p for p in ev.points if p.complete]
    x = scaling_variable([p.L for p in points], fit.form, fit.nu)
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.errorbar(
        x, [p.value for p in points], [p.error for p in points], fmt="o", ms=4, capsize=2, label="T_x(L)"
    )
    line = np.linspace(0, x.max() * 1.05, 50)
    estimate = format_value_error(fit.T_c, fit.T_c_error)
    ax.plot(line, fit.at(line), "k-", lw=1, label=f"fit: {ev.symbol} = {estimate}")
    reference = ev.model.literature_tc
    if reference is not None:
        ax.plot([0], [reference], "r*", ms=9, label=f"literature {reference:.7g}")
    ax.set_xlabel("1 / ln²L" if fit.form == "bkt" else f"L^(-1/ν), ν = {fit.nu:g}")
    ax.set_ylabel("T_x / J")
    ax.set_title(criteria.CRITERIA[ev.criterion], fontsize=9)
    ax.legend(frameon=False)
    save(fig, path)


def classify_report(
    model_paths, files, out: Path, choice=None, form="power", nu=1.0, judged=("half",), device="cpu"
) -> tuple[str, list[Evaluation], list[Path]]:
    """The whole evaluation of classifiers on run files under the criteria `judged`: (summary text,
    an Evaluation per criterion, files written to `out`: summary.txt, outputs.csv, crossings.csv and
    the figures, extrapolation_<criterion>.png). choice: the output class (index or name; default
    the ordered one)."""
    classifiers = load_classifiers(model_paths, device)
    k = output_class(classifiers[0].meta["labels"], choice)
    evaluations = evaluate(classifiers, files, k, judged, form, nu, device)
    summary = "\n\n".join(summary_text(ev) for ev in evaluations)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "summary.txt", out / "outputs.csv", out / "crossings.csv", out / "outputs.png"]
    write_text(written[0], summary + "\n")
    write_csv(evaluations[0], written[1])
    write_crossings(evaluations, written[2])
    plot_outputs(evaluations[0], written[3])
    for ev in evaluations:
        if ev.fit is not None:
            written.append(out / f"extrapolation_{ev.criterion}.png")
            plot_extrapolation(ev, written[-1])
    return summary, evaluations, written
