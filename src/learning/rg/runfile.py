"""The block transformations applied to the snapshots of a run file, written to a coarse file.

What is computed lives here; the coarse file itself (its layout, the .partial file renamed when
complete, never overwriting) is src.storage.coarse, documented in docs/rg.md.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from src.sampling.graph.configurations import resolve_distance
from src.storage.coarse import CoarseWriter, check_target
from src.storage.reader import RunFile, RunFileError

from .blocking import BLOCK, block_majority, coarse_improved, coarse_size

# the fine representation each coarse one is computed from
SOURCE = {"spin": "spin", "improved": "fk_bonds"}


def _source(name: str) -> str:
    if name not in SOURCE:
        raise ValueError(f"no block transformation for {name!r} (allowed: {', '.join(SOURCE)})")
    return SOURCE[name]


def coarse_representations(fine: dict, names, r: int) -> dict:
    """Coarse `spin` (majority rule on fine["spin"]) and/or `improved` at coarse distance r
    (block-cluster rule on fine["fk_bonds"]), batched over leading axes."""
    out = {}
    for name in names:
        x = fine[_source(name)]
        out[name] = block_majority(x) if name == "spin" else coarse_improved(x, r)
    return out


def block_run_file(source, target, names=("spin", "improved"), distance="half", chunk: int = 256) -> Path:
    """Write the block transform of a run file's snapshots to a new coarse file; returns its path.

    distance is the coarse r' of `improved` ("half" = L'/2, which keeps r = L/2 at half the
    system). Reads one temperature and `chunk` snapshots at a time. The file is written as
    <target>.partial and renamed when complete; an existing target is never overwritten.
    """
    target = check_target(target)
    with RunFile(source) as run:
        model = run.model
        if not model.fortuin_kasteleyn:
            raise RunFileError(
                f"{run.path}: holds the {model.name} model; blocking is defined for models of "
                "Fortuin-Kasteleyn clusters (ising, potts)"
            )
        fine = {name: run.snapshot_array(_source(name)) for name in names}
        L = coarse_size(model.L)
        coarse = replace(model, L=L)
        r = resolve_distance(distance, L)
        attrs = {
            "source": str(run.path),
            "model": model.name,
            "q": model.q,
            "J": model.J,
            "L": L,
            "L_fine": model.L,
            "block_size": BLOCK,
            "distance": r,
        }
        with CoarseWriter(target, attrs, run.temperatures) as out:
            for name, src in fine.items():
                n_T, n_snap = src.shape[:2]
                out.create(name, (n_T, n_snap) + coarse.snapshot_shape(name), model.stored_dtype(name), chunk)
                for t in range(n_T):
                    for start in range(0, n_snap, chunk):
                        part = {SOURCE[name]: src[t, start : start + chunk]}
                        out.write(name, t, start, coarse_representations(part, [name], r)[name])
    return target
