"""The stages of the study, their configs and commands, and running them in order on one machine.

A stage is one run of a project tool: sampling (src.sample under mpirun), training (src.train under
torchrun) or generation (src.analyze superres). Its config is written to <data>/configs/<id>.yaml,
so that the same files serve a local run and the Slurm jobs of jobs/pipeline.sh. A stage records
that it started and that it finished (<data>/stages/<id>.started, .done, holding its command and
config): a finished stage with the same command and config is skipped, a started one continues
from its checkpoint (--resume), anything else starts afresh.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from src.cli import local_training
from src.learning import tasks
from src.pipeline.config import PipelineConfig
from src.sampling import config as sample_config
from src.storage.atomic import write_text
from src.storage.networks import NetworkFileError
from src.storage.networks import read as read_network
from src.storage.reader import RunFile, RunFileError

SIDES = {"spin": "spin", "graph": "fk_bonds"}  # inverse-RG network side -> its target representation


class StageError(RuntimeError):
    """A stage that cannot be built or that failed; one-line message."""


@dataclass(frozen=True)
class Stage:
    id: str
    kind: str  # sample | train | generate
    description: str
    after: tuple[str, ...] = ()  # stages whose outputs it reads
    config: dict | None = None  # of sample and train stages
    arguments: tuple[str, ...] = field(default=())  # of generate stages

    def config_path(self, data: Path) -> Path:
        return data / "configs" / f"{self.id}.yaml"


@dataclass(frozen=True)
class StudyPaths:
    """Where the stages put their outputs under <output>/pipeline."""

    data: Path

    def run(self, id: str) -> Path:
        return self.data / "runs" / f"{id}.h5"

    def model(self, id: str) -> Path:
        return self.data / "models" / id

    def generated(self, side: str) -> Path:
        return self.data / "generated" / side

    def onestep(self, side: str) -> Path:
        return self.data / "onestep" / side


def merged(base: dict, extra: dict) -> dict:
    """base with extra's keys set (recursively into sections)."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        out[key] = (
            merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


def _sample(
    id: str, description: str, partial: dict, L: int, representations: list, cfg, at: StudyPaths, seed=None
) -> Stage:
    raw = merged(
        partial,
        {
            "model": {"L": L},
            "snapshots": {"representations": representations},
            "seed": cfg.seed if seed is None else seed,
            "output": str(at.run(id)),
        },
    )
    try:
        sample_config.validate(raw)
    except sample_config.ConfigError as err:
        raise StageError(f"stage {id}: {err}") from None
    return Stage(id, "sample", description, config=raw)


def _train(
    id: str, description: str, partial: dict, extra: dict, after, cfg, at: StudyPaths, seed=None
) -> Stage:
    seed = cfg.seed if seed is None else seed
    raw = merged(partial, {**extra, "output": str(at.model(id)), "training": {"seed": seed}})
    try:
        tasks.validate(raw)
    except sample_config.ConfigError as err:
        raise StageError(f"stage {id}: {err}") from None
    return Stage(id, "train", description, tuple(after), config=raw)


def plan(cfg: PipelineConfig) -> list[Stage]:
    """Every stage of the study, each after the stages it reads."""
    at = StudyPaths(cfg.data)
    c, r = cfg.classification, cfg.inverse_rg
    stages = []
    for L in c.sizes:
        stages.append(_sample(f"xy_L{L}", f"classical XY, L = {L}", c.classical, L, ["improved"], cfg, at))
        stages.append(_sample(f"qxy_L{L}", f"quantum XY, L = {L}", c.quantum, L, ["improved"], cfg, at))
    for id, sizes, seed in c.classifiers():
        runs = [f"xy_L{L}" for L in sizes]
        data = {"data": {"files": [str(at.run(i)) for i in runs], "representation": "improved"}}
        description = f"classifier on classical XY improved, L = {', '.join(map(str, sizes))}, seed {seed}"
        stages.append(_train(id, description, c.train, data, runs, cfg, at, seed))
    start, test = f"ising_L{r.size}", f"ising_L{r.size}_test"
    stages.append(
        _sample(
            start, f"Ising, L = {r.size} (training data)", r.sample, r.size, ["spin", "fk_bonds"], cfg, at
        )
    )
    stages.append(  # an independent run: the originals of the one-step reproduction
        _sample(
            test,
            f"Ising, L = {r.size} (one-step test)",
            r.sample,
            r.size,
            ["spin", "fk_bonds"],
            cfg,
            at,
            cfg.seed + 1,
        )
    )
    for L in r.reference_sizes:
        stages.append(
            _sample(f"ising_L{L}", f"Ising, L = {L} (reference)", r.sample, L, ["improved"], cfg, at)
        )
    for side, target in SIDES.items():
        extra = {
            "task": "superres",
            "data": {"files": [str(at.run(start))], "target": target, "temperatures": r.train_temperatures},
        }
        stages.append(
            _train(f"superres_{side}", f"super-resolution, {side} side", r.train, extra, [start], cfg, at)
        )
        network = f"superres_{side}"
        for id, description, source, out, steps in (
            (f"generate_{side}", f"generation, {side} side", start, at.generated(side), [str(r.steps)]),
            (
                f"onestep_{side}",
                f"one step from the test run's blocks, {side} side",
                test,
                at.onestep(side),
                ["1", "--block"],
            ),
        ):
            arguments = (
                str(at.model(network) / "best.pt"),
                str(at.run(source)),
                *("--steps", *steps, "--n", str(r.generate), "--seed", str(cfg.seed)),
                *("--out", str(out), "--overwrite"),
            )
            stages.append(Stage(id, "generate", description, (network, source), arguments=arguments))
    return stages


def write_configs(stages: list[Stage], data: Path) -> None:
    for s in stages:
        if s.config is not None:
            path = s.config_path(data)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text(path, yaml.safe_dump(s.config, sort_keys=False))


def _launch_env() -> dict:
    env = dict(os.environ)
    if os.getuid() == 0:  # OpenMPI refuses root (containers, CI) unless told otherwise
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return env


def command(stage: Stage, cfg: PipelineConfig, resume: bool) -> list[str]:
    again = ["--resume"] if resume else ["--overwrite"]
    if stage.kind == "sample":
        tool = [sys.executable, "-m", "src.sample", str(stage.config_path(cfg.data)), *again]
        if cfg.ranks == 1:
            return tool
        if shutil.which("mpirun") is None:
            raise StageError(f"stage {stage.id}: ranks = {cfg.ranks} needs mpirun, which is not on the PATH")
        return ["mpirun", "--oversubscribe", "-n", str(cfg.ranks), *tool]
    if stage.kind == "train":
        return local_training([str(stage.config_path(cfg.data)), *again], cfg.processes)
    return [sys.executable, "-m", "src.analyze", "superres", *stage.arguments]


def unverified(stage: Stage) -> str | None:
    """What is wrong with a finished stage's outputs (None: they exist and verify): a sampling run's
    file must be complete, a network file must pass its checksum, a generation folder must hold
    complete files."""
    if stage.kind == "generate":
        out = Path(stage.arguments[stage.arguments.index("--out") + 1])
        files = sorted(out.glob("L*.h5")) if out.is_dir() else []
        if not files:
            return f"{out}: no generated files"
    elif stage.kind == "train":
        files = [Path(stage.config["output"]) / "best.pt"]
    else:
        files = [Path(stage.config["output"])]
    for path in files:
        try:
            if stage.kind == "train":
                read_network(path)
                continue
            with RunFile(path) as run:
                if not run.attrs.get("complete"):
                    return f"{path}: not complete"
        except (RunFileError, NetworkFileError) as err:
            return str(err)
    return None


def run_stages(stages: list[Stage], cfg: PipelineConfig, log=print) -> None:
    """Run the stages in order (skipping finished ones whose outputs verify), with a line per stage
    and an ETA-free clock: stage times differ too much for one."""
    marks = cfg.data / "stages"
    marks.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for k, stage in enumerate(stages, 1):
        fresh = command(stage, cfg, resume=False)
        record = yaml.safe_dump({"command": fresh[fresh.index("-m") :], "config": stage.config})
        done, begun = marks / f"{stage.id}.done", marks / f"{stage.id}.started"
        head = f"[{k}/{len(stages)}] {stage.description}"
        resume = begun.exists() and begun.read_text() == record and stage.kind != "generate"
        if done.exists() and done.read_text() == record:
            problem = unverified(stage)
            if problem is None:
                log(f"{head}: done already")
                continue
            log(f"{head}: done, but its output does not verify ({problem}); running it again")
            done.unlink()
            resume = False
        argv = command(stage, cfg, resume) if resume else fresh
        log(f"{head}{' (resumed)' if resume else ''}: {' '.join(argv)}")
        write_text(begun, record)
        t0 = time.perf_counter()
        status = subprocess.run(argv, env=_launch_env()).returncode
        if status:
            raise StageError(f"stage {stage.id} failed with exit status {status}; rerun to continue it")
        write_text(done, record)
        log(f"{head}: {time.perf_counter() - t0:.0f} s (total {time.perf_counter() - started:.0f} s)")
