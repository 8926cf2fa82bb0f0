"""Snapshots as pictures (python -m src.analyze show): what the networks see. One row per temperature,
one column per picture of the file:
- spin: the configuration, in the colours its model chooses (Model.spin_picture: angles on a cyclic
  map for xy and clock, labels for Potts, +-1 in grey);
- clusters: the clusters of the stored bonds (fk_bonds), each in its own colour;
- correlation, improved: channel 0 of the stored configuration (pairs i, i + r x-hat);
- loops (quantum models): the loops of one graph in the (x, tau) plane of the row y = 0, of a
  fresh chain of the same model at the same temperature (run files keep no world lines).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from src.analysis.plotting import pyplot, save
from src.storage.reader import RunFile, RunFileError

# the colour map and range of each stored two-point picture (None: the largest value of its column)
TWO_POINT = {"correlation": ("coolwarm", -1.0, 1.0), "improved": ("viridis", 0.0, None)}
LOOP_WIDTH = 32  # sites of the row drawn in the loop picture


def pick_temperatures(temperatures: np.ndarray, reference: float | None, asked=None) -> list[int]:
    """Rows of the temperatures asked for (nearest stored ones), by default the lowest, the one
    nearest the model's literature T_c (the middle one where unknown) and the highest."""
    T = np.asarray(temperatures)
    if asked:
        return [int(np.argmin(np.abs(T - t))) for t in asked]
    middle = (
        int(np.argmin(np.abs(T - reference))) if reference is not None else int(np.argsort(T)[T.size // 2])
    )
    return list(dict.fromkeys([int(np.argmin(T)), middle, int(np.argmax(T))]))


def columns(run: RunFile) -> list[str]:
    stored = run.representations
    names = [n for n in ("spin", "correlation", "improved") if n in stored]
    if "fk_bonds" in stored:
        names.insert(1 if "spin" in names else 0, "clusters")
    if run.model.name.startswith("quantum"):
        names.append("loops")
    return names


def cluster_colours(bonds: np.ndarray) -> np.ndarray:
    """Each site's cluster as a colour index in [0, 1), clusters in shuffled order."""
    from src.sampling.graph.labelling import cluster_labels

    labels = cluster_labels(bonds)
    _, index = np.unique(labels, return_inverse=True)
    order = np.random.default_rng(0).permutation(index.max() + 1)
    return (order[index] % 20 / 20.0).reshape(labels.shape)


def draw_loops(ax, model, T: float, seed: int) -> None:
    from src.sampling.quantum.picture import loop_plane

    width = min(model.L, LOOP_WIDTH)
    plane = loop_plane(model.L, 1.0 / T, getattr(model, "Jz", 0.0), model.J, seed)
    colours = pyplot().get_cmap("tab20")
    for x in range(width):
        for start, end, label, spin in plane.segments[x]:
            ax.plot([x, x], [start, end], color=colours(int(label) % 20), lw=2.2 if spin else 0.8)
        if x + 1 < width:
            for t in plane.joins[x]:
                ax.plot([x, x + 1], [t, t], color="k", lw=0.6)
    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(0, plane.beta)
    ax.set_xlabel("x (row y = 0)")
    ax.set_ylabel("τ")


def show(path, out: Path, temperatures=None, index: int = 0, seed: int = 0) -> Path:
    """The picture of one snapshot (number `index`) per chosen temperature of a run file."""
    plt = pyplot()
    with RunFile(path) as run:
        model, T = run.model, run.temperatures
        rows = pick_temperatures(T, model.literature_tc, temperatures)
        names = columns(run)
        if not names:
            raise RunFileError(f"{path}: holds no snapshots to draw")
        n_snapshots = run.snapshot_array(run.representations[0]).shape[1]
        if not 0 <= index < n_snapshots:
            raise RunFileError(f"{path}: --index {index} outside the {n_snapshots} snapshots per temperature")
        fig, axes = plt.subplots(
            len(rows), len(names), figsize=(2.6 * len(names), 2.5 * len(rows)), squeeze=False
        )
        largest = {
            name: max(float(run.snapshot_array(name)[t, index][0].max()) for t in rows) or 1.0
            for name in names
            if name in TWO_POINT
        }
        for r, t in enumerate(rows):
            for c, name in enumerate(names):
                ax = axes[r, c]
                ax.set_title(f"{name}, T = {T[t]:.4g}", fontsize=8)
                if name == "loops":
                    draw_loops(ax, model, float(T[t]), seed)
                    continue
                stored = run.snapshot_array("fk_bonds" if name == "clusters" else name)[t, index]
                if name == "spin":
                    image, cmap, vmin, vmax = model.spin_picture(stored)
                elif name == "clusters":
                    image, cmap, vmin, vmax = cluster_colours(stored), "tab20", 0.0, 1.0
                else:
                    cmap, vmin, vmax = TWO_POINT[name]
                    image = stored[0]
                    vmax = vmax if vmax is not None else largest[name]
                ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
    fig.suptitle(f"{model.label}, L = {model.L}: snapshot {index} ({Path(path).name})", fontsize=9)
    save(fig, out)
    return out
