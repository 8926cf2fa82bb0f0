"""Input a config should never accept: each case is refused with one line naming the problem, exit
status 2, no traceback, and an existing output left as it was."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--set", "model.L=8", "--set", "sweeps.thermalize=10", "--set", "sweeps.measure=20", "--quiet"]
GOOD = "model: {name: ising, L: 8}\ntemperatures: [2.0, 2.5]\nsweeps: {thermalize: 10, measure: 20}\n"

# (config file contents or None for the built-in default, extra arguments, words of the message)
CASES = {
    "duplicate key": (GOOD + "model: {name: potts, q: 3}\n", [], ["line 4: key 'model' given twice"]),
    "alias": ("a: &a [1, 2]\nmodel: *a\n", [], ["aliases (*name) are not accepted"]),
    "alias bomb": (
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n",
        [],
        ["aliases (*name) are not accepted"],
    ),
    "not UTF-8": (b"model: {name: \xff\xfe}\n", [], ["not UTF-8 text"]),
    "--set not YAML": (
        None,
        ["--set", "temperatures=[2.0, 2.5"],
        ["--set temperatures: the value is not valid"],
    ),
    "NaN temperature": (None, ["--set", "temperatures=[2.0, .nan]"], ["'temperatures"]),
    "infinite temperature": (None, ["--set", "temperatures=[2.0, .inf]"], ["'temperatures"]),
    "infinite J": (None, ["--set", "model.J=.inf"], ["'model.J'"]),
    "NaN J": (None, ["--set", "model.J=.nan"], ["'model.J'"]),
    "q beyond int8 labels": (
        None,
        ["--set", "model.name=potts", "--set", "model.q=300"],
        ["q must be at most 128 for the potts model, got 300"],
    ),
    "empty output": (None, ["--set", "output="], ["'output'"]),
    "snapshots never taken": (
        None,
        ["--set", "snapshots.every=50"],
        ["'snapshots.every': 50 is more than sweeps.measure (20)"],
    ),
    "long input echoed": (None, ["--set", f"seed={'x' * 5000}"], ["'seed'"]),
    "lattice beyond memory": (
        None,
        ["--set", "model.L=200000"],
        ["model.L = 200000: the", "chains of a rank need at least", "GiB, this node has"],
    ),
}


@pytest.fixture(scope="module")
def existing(tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "run.h5"
    done = subprocess.run([sys.executable, "-m", "src.sample", *TINY, "--output", str(out)], cwd=ROOT)
    assert done.returncode == 0
    return out


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_exit_2_and_touches_nothing(case, existing, tmp_path):
    text, extra, words = CASES[case]
    before = hashlib.sha256(existing.read_bytes()).hexdigest()
    config = []
    if text is not None:
        path = tmp_path / "config.yaml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        config = [str(path)]
    # the output is the existing file, except where the case is about the output itself
    target = [] if any(a.startswith("output=") for a in extra) else ["--output", str(existing), "--overwrite"]
    res = subprocess.run(
        [sys.executable, "-m", "src.sample", *config, *TINY, *extra, *target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 2, res.stdout + res.stderr
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr) < 400, res.stderr
    for w in words:
        assert w in res.stderr, res.stderr
    assert hashlib.sha256(existing.read_bytes()).hexdigest() == before
    assert not Path(f"{existing}.partial").exists()


def test_an_output_that_is_a_directory_is_refused(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "src.sample", *TINY, "--output", str(tmp_path), "--overwrite"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (
        res.returncode == 2 and res.stderr == f"error: output {tmp_path} is a directory; name a file in it\n"
    )
    assert list(tmp_path.iterdir()) == []
