"""Several hundred bad inputs to every entry point (tests/bad_inputs.py generates them from the
config schemas and from damaged copies of real files): each must end in one line naming the
problem, exit status 2, no traceback, and leave every existing output as it was. The cases run in
this process (a few ms each); tests/test_bad_input.py runs a hand-picked set as real processes."""

from __future__ import annotations

import hashlib
import importlib
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import pytest
import yaml
from bad_inputs import config_cases, damaged_files, flipped, foreign_hdf5, with_attribute

from src.learning.ml.config import TrainConfig
from src.learning.rg.config import SuperresConfig
from src.pipeline.config import DEFAULT as PIPELINE_DEFAULT
from src.pipeline.config import PipelineConfig
from src.sampling.config import DEFAULT as SAMPLE_DEFAULT
from src.sampling.config import Config as SampleConfig

ROOT = Path(__file__).resolve().parents[1]
ENTRIES = {
    "sample": "src.sample",
    "train": "src.train",
    "analyze": "src.analyze",
    "pipeline": "src.pipeline.__main__",
}
SMALL_RUN = {"model.L": 8, "sweeps.thermalize": 20, "sweeps.measure": 200, "snapshots.every": 20}


def sets(mapping: dict) -> list:
    return [a for k, v in mapping.items() for a in ("--set", f"{k}={v}")]


def run(*argv, entry="src.sample"):
    res = subprocess.run(
        [sys.executable, "-m", entry, *argv], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stdout + res.stderr
    return res


def sample_raw(output: Path) -> dict:
    raw = yaml.safe_load(yaml.safe_dump(SAMPLE_DEFAULT))
    raw.update(model={"name": "ising", "L": 8}, output=str(output))
    raw["sweeps"] = {"thermalize": 20, "measure": 200, "every": 1}
    return raw


def classifier_raw(run_file: Path, output: Path) -> dict:
    return {
        "data": {"files": [str(run_file)], "representation": "spin", "workers": 0},
        "labels": {
            "windows": [{"max": 2.1, "class": 0}, {"min": 2.5, "class": 1}],
            "names": ["ordered", "disordered"],
        },
        "network": {"kind": "cnn", "channels": [4]},
        "training": {"epochs": 1, "batch_size": 8, "seed": 1, "device": "cpu"},
        "output": str(output),
    }


def superres_raw(run_file: Path, output: Path) -> dict:
    return {
        "task": "superres",
        "data": {"files": [str(run_file)], "target": "spin", "temperatures": "all", "workers": 0},
        "network": {"channels": [4]},
        "training": {"epochs": 1, "batch_size": 8, "seed": 1, "device": "cpu"},
        "output": str(output),
    }


def tree_digest(folder: Path) -> dict:
    """Every file and folder under `folder` with its SHA-256, but for the (empty) lock files, which a
    refused run may leave."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(folder.rglob("*"))
        if p.suffix != ".lock"
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Real outputs of every entry point (which no case may touch) and the bad inputs beside them."""
    root = tmp_path_factory.mktemp("suite")
    existing, bad = root / "existing", root / "bad"
    existing.mkdir()
    run_file = existing / "run.h5"
    run(*sets(SMALL_RUN), "--quiet", "--output", str(run_file))
    xy_file = existing / "xy.h5"
    run(
        *sets({**SMALL_RUN, "model.name": "xy", "temperatures": "[0.8, 1.0]"}),
        "--quiet",
        "--output",
        str(xy_file),
    )
    configs = {}
    for name, raw in (
        ("classifier", classifier_raw(run_file, existing / "classifier")),
        ("superres", superres_raw(run_file, existing / "superres")),
    ):
        configs[name] = root / f"{name}.yaml"
        configs[name].write_text(yaml.safe_dump(raw))
        run(str(configs[name]), "--quiet", entry="src.train")
    mc16 = existing / "run16.h5"
    run(*sets({**SMALL_RUN, "model.L": 16}), "--quiet", "--output", str(mc16))
    superres = ["superres", str(existing / "superres" / "best.pt"), str(run_file), "--n", "4"]
    generated = {
        "one step": existing / "generated",
        "three steps": existing / "generated3",
        "blocks": existing / "blocks",
    }
    run(*superres, "--steps", "1", "--out", str(generated["one step"]), entry="src.analyze")
    run(*superres, "--steps", "3", "--out", str(generated["three steps"]), entry="src.analyze")
    run(*superres, "--steps", "1", "--block", "--out", str(generated["blocks"]), entry="src.analyze")
    # a run stopped at its first checkpoint: the cases resume copies of it where it ran (a checkpoint
    # resumes only the run of its own config, output included)
    checkpointed = root / "resume" / "run.h5"
    checkpointed.parent.mkdir()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "src.sample",
            *sets({"model.L": 8, "sweeps.measure": 100000}),
            "--quiet",
            "--output",
            str(checkpointed),
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    while not Path(f"{checkpointed}.partial").exists():
        time.sleep(0.1)
    time.sleep(2)  # measurements in the partial file: a resume continues it rather than starting afresh
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    assert proc.returncode == 3
    with h5py.File(f"{checkpointed}.ckpt", "r") as f:
        assert json.loads(f.attrs["meta"])["next_measurement"] > 0
    shutil.copytree(checkpointed.parent, existing / "checkpointed")
    bad.mkdir()
    return {
        "root": root,
        "existing": existing,
        "bad": bad,
        "run": run_file,
        "xy": xy_file,
        "configs": configs,
        "classifier": existing / "classifier" / "best.pt",
        "superres": existing / "superres" / "best.pt",
        "generated": generated,
        "mc16": mc16,
        "checkpointed": checkpointed,
        "digest": tree_digest(existing),
    }


def invoke(entry: str, argv, capsys) -> tuple:
    main = importlib.import_module(ENTRIES[entry]).main
    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit:
        code = exit.code
    return code, capsys.readouterr().err


def assert_refused(world, capsys, entry, argv, words=()):
    code, err = invoke(entry, argv, capsys)
    assert code == 2, f"exit {code}: {err}"
    assert err.startswith("error: ") and err.count("\n") == 1 and len(err) < 500, err
    for w in words:
        assert w in err, err
    assert tree_digest(world["existing"]) == world["digest"], "an existing output changed"


# -- configs ------------------------------------------------------------------------------------------
def _config_cases():
    out = []
    run_file, here = Path("RUN"), Path("OUT")
    for entry, schema, raw in (
        ("sample", SampleConfig, sample_raw(here)),
        ("train", TrainConfig, classifier_raw(run_file, here)),
        ("train", SuperresConfig, superres_raw(run_file, here)),
        ("pipeline", PipelineConfig, yaml.safe_load(yaml.safe_dump(PIPELINE_DEFAULT))),
    ):
        out += [(entry, *case) for case in config_cases(entry, schema, raw)]
    return out


CONFIG_CASES = _config_cases()


def _resolved(raw, world):
    """The generated config with its placeholders pointing at this world's files."""
    text = (
        yaml.safe_dump(raw).replace("RUN", str(world["run"])).replace("OUT", str(world["existing"] / "out"))
    )
    return yaml.safe_load(text)


@pytest.mark.parametrize("entry,name,raw,words", CONFIG_CASES, ids=[c[1] for c in CONFIG_CASES])
def test_every_bad_config_value_is_refused(entry, name, raw, words, world, tmp_path, capsys):
    config = tmp_path / "config.yaml"
    raw = _resolved(raw, world)
    if entry == "sample":
        raw["output"] = (
            str(world["run"]) if raw.get("output") == str(world["existing"] / "out") else raw.get("output")
        )
    elif entry == "train" and raw.get("output") == str(world["existing"] / "out"):
        raw["output"] = str(
            world["existing"] / ("superres" if raw.get("task") == "superres" else "classifier")
        )
    elif entry == "pipeline" and raw.get("output") == "results":
        raw["output"] = str(tmp_path / "study")
    config.write_text(yaml.safe_dump(raw))
    flags = {
        "sample": ["--overwrite", "--quiet"],
        "train": ["--overwrite", "--quiet"],
        "pipeline": ["--plan"],
    }[entry]
    assert_refused(world, capsys, entry, [config, *flags], words)


# -- files --------------------------------------------------------------------------------------------
def run_file_stand_ins(world, good: Path, kind: str) -> dict:
    """name -> path: damaged copies of a run file, files of other kinds, other formats or versions."""
    bad = world["bad"]
    out = {**damaged_files(bad, good, kind), **foreign_hdf5(bad)}
    out["format version 99"] = with_attribute(bad, good, "format_version", 99, f"version99_{kind}")
    out["another format"] = with_attribute(bad, good, "format", "spinml-something", f"format_{kind}")
    out["a network file"] = world["classifier"]
    return out


RUN_FILE_USES = {
    "summary": lambda w, f, tmp: ("analyze", ["summary", f]),
    "show": lambda w, f, tmp: ("analyze", ["show", f, "--out", tmp / "show.png"]),
    "classify": lambda w, f, tmp: ("analyze", ["classify", w["classifier"], f, "--out", tmp / "c"]),
    "superres": lambda w, f, tmp: (
        "analyze",
        ["superres", w["superres"], f, "--steps", "1", "--n", "2", "--out", tmp / "g"],
    ),
    "onestep": lambda w, f, tmp: (
        "analyze",
        ["onestep", f, "--generated", f"spin={w['generated']['blocks']}", "--out", tmp],
    ),
    "flow": lambda w, f, tmp: (
        "analyze",
        ["flow", f, w["mc16"], "--generated", f"spin={w['generated']['one step']}", "--out", tmp],
    ),
    "exponents": lambda w, f, tmp: (
        "analyze",
        ["exponents", f, "--generated", f"spin={w['generated']['three steps']}", "--out", tmp],
    ),
    "train": lambda w, f, tmp: (
        "train",
        [w["configs"]["classifier"], "--set", f"data.files=[{f}]", "--output", tmp / "t", "--quiet"],
    ),
}
RUN_FILE_DAMAGES = [
    "missing", "a directory", "empty", "text", "binary noise", "truncated to 10%", "truncated to 50%",
    "truncated to 90%", "an HDF5 file of another program", "format version 99", "another format",
    "a network file",
]  # fmt: skip


@pytest.mark.parametrize("damage", RUN_FILE_DAMAGES)
@pytest.mark.parametrize("use", [*RUN_FILE_USES, "stiffness"])
def test_every_reader_of_run_files_refuses_a_wrong_file(use, damage, world, tmp_path, capsys):
    good = world["xy"] if use == "stiffness" else world["run"]
    path = run_file_stand_ins(world, good, use)[damage]
    if use == "stiffness":
        entry, argv = "analyze", ["stiffness", path, "--plot", tmp_path / "s.png"]
    else:
        entry, argv = RUN_FILE_USES[use](world, path, tmp_path)
    assert_refused(world, capsys, entry, argv, [path.name])


def test_files_of_another_model_are_refused_where_one_is_required(world, tmp_path, capsys):
    assert_refused(world, capsys, "analyze", ["stiffness", world["run"]], ["ising"])
    assert_refused(
        world, capsys, "analyze", ["classify", world["classifier"], world["xy"], "--out", tmp_path], ["xy"]
    )
    assert_refused(
        world,
        capsys,
        "analyze",
        ["superres", world["superres"], world["xy"], "--steps", "1", "--out", tmp_path],
        ["xy"],
    )


NETWORK_DAMAGES = [
    "missing", "a directory", "empty", "text", "binary noise", "truncated to 10%", "truncated to 50%",
    "truncated to 90%", "a run file", "the other kind of network",
]  # fmt: skip


def network_stand_ins(world, kind: str) -> dict:
    good = world[kind]
    out = {**damaged_files(world["bad"], good, kind), "a run file": world["run"]}
    out["the other kind of network"] = world["superres" if kind == "classifier" else "classifier"]
    out.update(flipped(world["bad"], good, kind, 12))
    return out


def _network_cases():
    flips = [f"flip {k}" for k in range(12)]
    return [(kind, d) for kind in ("classifier", "superres") for d in [*NETWORK_DAMAGES, *flips]]


@pytest.mark.parametrize("kind,damage", _network_cases())
def test_a_damaged_or_wrong_network_file_is_refused(kind, damage, world, tmp_path, capsys):
    files = network_stand_ins(world, kind)
    path = (
        files[damage] if not damage.startswith("flip") else list(files.values())[-12 + int(damage.split()[1])]
    )
    if kind == "classifier":
        argv = ["classify", path, world["run"], "--out", tmp_path]
    else:
        argv = ["superres", path, world["run"], "--steps", "1", "--n", "2", "--out", tmp_path]
    assert_refused(world, capsys, "analyze", argv, [path.name])


def generated_stand_ins(world) -> dict:
    bad = world["bad"]
    out = {"missing": bad / "no_generated", "empty": bad / "empty_generated"}
    out["empty"].mkdir(exist_ok=True)
    out["a text file"] = bad / "text_generated"
    out["a text file"].mkdir(exist_ok=True)
    (out["a text file"] / "L16.h5").write_text("not a run file\n")
    out["a Monte Carlo file"] = bad / "sampled_generated"
    out["a Monte Carlo file"].mkdir(exist_ok=True)
    shutil.copy(world["run"], out["a Monte Carlo file"] / "L16.h5")
    return out


GENERATED_FOR = {"flow": "one step", "exponents": "three steps", "onestep": "blocks"}


@pytest.mark.parametrize(
    "damage", ["missing", "empty", "a text file", "a Monte Carlo file", "no label", "empty label"]
)
@pytest.mark.parametrize("command", list(GENERATED_FOR))
def test_a_wrong_generated_folder_is_refused(command, damage, world, tmp_path, capsys):
    folders = generated_stand_ins(world)
    good = world["generated"][GENERATED_FOR[command]]
    side = {"no label": str(good), "empty label": f"={good}"}.get(damage) or f"spin={folders[damage]}"
    mc = [world["run"], world["mc16"]] if command == "flow" else [world["run"]]
    assert_refused(world, capsys, "analyze", [command, *mc, "--generated", side, "--out", tmp_path])


STRUCTURAL_DAMAGES = ["empty", "text", "truncated to 10%", "truncated to 50%", "truncated to 90%"]
FLIPS = [f"flip {k}" for k in range(16)]
# a partial file's measurements carry no checksum (HDF5 stores them raw): a bit flipped in them by the
# disk goes unnoticed, so only its structure is damaged here; checkpoints are sealed whole
DAMAGES_ON_RESUME = [(".ckpt", d) for d in STRUCTURAL_DAMAGES + FLIPS] + [
    (".partial", d) for d in STRUCTURAL_DAMAGES
]


@pytest.mark.parametrize("which,damage", DAMAGES_ON_RESUME)
def test_a_damaged_checkpoint_or_partial_file_is_refused_on_resume_and_kept(
    which, damage, world, tmp_path, capsys
):
    output = world["checkpointed"]
    shutil.rmtree(output.parent)
    shutil.copytree(world["existing"] / "checkpointed", output.parent)
    target = output.with_name(f"{output.name}{which}")
    files = damaged_files(tmp_path, target, which.strip("."))
    files.update({f"flip {k}": p for k, p in enumerate(flipped(tmp_path, target, which, 16).values())})
    shutil.copy(files[damage], target)
    before = tree_digest(output.parent)
    argv = [*sets({"model.L": 8, "sweeps.measure": 100000}), "--quiet", "--output", output, "--resume"]
    assert_refused(world, capsys, "sample", argv, [f"run.h5{which}"])
    assert tree_digest(output.parent) == before


@pytest.mark.parametrize("damage", ["empty", "text", "truncated to 50%"] + [f"flip {k}" for k in range(12)])
def test_a_damaged_training_checkpoint_is_refused_on_resume_and_kept(damage, world, tmp_path, capsys):
    folder = tmp_path / "classifier"
    shutil.copytree(world["existing"] / "classifier", folder)
    target = folder / "checkpoint.pt"
    saved = tmp_path / "good.pt"
    shutil.copy(target, saved)
    files = damaged_files(tmp_path / "bad", saved, "pt")
    files.update({f"flip {k}": p for k, p in enumerate(flipped(tmp_path / "bad", saved, "pt", 12).values())})
    shutil.copy(files[damage], target)
    before = tree_digest(folder)
    argv = [
        world["configs"]["classifier"],
        "--output",
        folder,
        "--resume",
        "--quiet",
        "--set",
        "training.epochs=2",
    ]
    assert_refused(world, capsys, "train", argv, ["checkpoint.pt"])
    assert tree_digest(folder) == before


OPTION_CASES = {
    "sample": [["--no-such-option"], ["--set"], ["--set", "no_equals_sign"], ["--set", "model.L.x=3"],
               ["--backend", "tpu"], ["missing.yaml"], ["--resume", "--set", "output="]],
    "train": [[], ["missing.yaml"], ["--no-such-option"], ["CONFIG", "--set", "task=regress"],
              ["CONFIG", "--set", "data=3"]],
    "analyze": [[], ["no_such_command"], ["summary"], ["classify", "--criterion", "third"],
                ["classify", "MODEL", "RUN", "--nu", "-1"], ["classify", "MODEL", "RUN", "--form", "cubic"],
                ["show", "RUN", "--index", "x"], ["superres", "MODEL", "RUN", "--steps", "0", "--out", "OUT"],
                ["flow", "RUN"], ["exponents"], ["onestep", "RUN"]],
    "pipeline": [["--plan", "--finish"], ["missing.yaml"], ["--set", "seed=-1", "--plan"],
                 ["--set", "inverse_rg.size=3", "--plan"]],
}  # fmt: skip


@pytest.mark.parametrize(
    "entry,argv",
    [(e, a) for e, cases in OPTION_CASES.items() for a in cases],
    ids=lambda v: " ".join(map(str, v)) if isinstance(v, list) else v,
)
def test_bad_options_are_refused(entry, argv, world, tmp_path, capsys):
    names = {
        "CONFIG": world["configs"]["classifier"],
        "MODEL": world["classifier"],
        "RUN": world["run"],
        "OUT": tmp_path,
    }
    argv = [names.get(a, a) for a in argv]
    if entry == "sample" and "--output" not in argv and not any(str(a).startswith("output=") for a in argv):
        argv += ["--output", world["run"]]
    assert_refused(world, capsys, entry, argv)
