"""Same results as before the restructuring of src/: every sampler case of tests/data/same_bytes.json
gives the same bytes (a SHA-256 per dataset and per attribute, provenance left out), and the
trained networks and the configurations generated from them agree within 1e-6.

The reference was made by tools/same_bytes_reference.py (its docstring says how and what) from the
code before the restructuring. Everything runs through the command-line entry points
(`src.sample`, `src.train`, `src.analyze`, their main(argv)) and reads the outputs with h5py and
torch directly, so that this test does not depend on where the internal modules are.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = json.loads((ROOT / "tests" / "data" / "same_bytes.json").read_text())
TOLERANCE = REFERENCE["tolerance"]
SHOWN = 20  # differences listed in a failure message
# the runs are short on purpose: their error bars are not the point here
pytestmark = pytest.mark.filterwarnings("ignore:series of .* is shorter than:RuntimeWarning")


def _tool():
    spec = importlib.util.spec_from_file_location(
        "same_bytes_reference", ROOT / "tools" / "same_bytes_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _tool()


def _report(case: str, differences: list[str], total: int) -> str:
    shown = "\n  ".join(differences[:SHOWN])
    more = f"\n  ... and {len(differences) - SHOWN} more" if len(differences) > SHOWN else ""
    return f"case {case}: {len(differences)} of {total} entries differ:\n  {shown}{more}"


def _differences(expected, got, where: str = "") -> list[str]:
    """Paths at which got differs from expected: strings, ints and bools exactly, floats within
    TOLERANCE (relative or absolute)."""
    if isinstance(expected, dict) and isinstance(got, dict):
        out = [f"{where}/{k}: missing" for k in sorted(expected.keys() - got.keys())]
        out += [f"{where}/{k}: not in the reference" for k in sorted(got.keys() - expected.keys())]
        for k in sorted(expected.keys() & got.keys()):
            out += _differences(expected[k], got[k], f"{where}/{k}")
        return out
    if isinstance(expected, list) and isinstance(got, list):
        if len(expected) != len(got):
            return [f"{where}: {len(got)} entries, reference {len(expected)}"]
        return [d for i, (e, g) in enumerate(zip(expected, got)) for d in _differences(e, g, f"{where}[{i}]")]
    if isinstance(expected, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        if math.isclose(got, expected, rel_tol=TOLERANCE, abs_tol=TOLERANCE):
            return []
    elif type(expected) is type(got) and expected == got:
        return []
    return [f"{where}: {got!r}, reference {expected!r}"]


def test_src_is_this_checkout():
    """The test runs the code of the checkout it belongs to (python -m pytest from its root)."""
    import src

    assert Path(src.__file__).resolve().parent == ROOT / "src", src.__file__


@pytest.mark.parametrize("case", sorted(REFERENCE["sampling"]))
def test_sampling_gives_the_same_bytes(case, tmp_path):
    reference = REFERENCE["sampling"][case]
    got = tool.run_sample(reference["argv"], tmp_path)
    expected = reference["digests"]
    differences = [f"{key}: missing" for key in sorted(expected.keys() - got.keys())]
    differences += [f"{key}: not in the reference" for key in sorted(got.keys() - expected.keys())]
    differences += [
        f"{key}: differs" for key in sorted(expected.keys() & got.keys()) if got[key] != expected[key]
    ]
    assert not differences, _report(case, differences, len(expected))


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """The training chain run in order in one folder: case -> its result, or the error that stopped it."""
    pytest.importorskip("torch")
    out = tmp_path_factory.mktemp("chain")
    env = tool.one_process_environment()
    results = {}
    with pytest.MonkeyPatch.context() as mp:
        for var in env["unset"]:
            mp.delenv(var, raising=False)
        for var, value in env["set"].items():
            mp.setenv(var, value)
        for case in REFERENCE["chain"]:
            try:
                results[case] = tool.run_training_case(REFERENCE["training"][case], out)
            except Exception as err:  # reported by this case's test and, as the cause, by the later ones
                results[case] = err
                break
    return results


@pytest.mark.parametrize("case", REFERENCE["chain"])
def test_training_and_generation_agree(case, chain):
    reference = REFERENCE["training"][case]
    got = chain.get(case)
    if got is None:
        failed = next(name for name, result in chain.items() if isinstance(result, Exception))
        pytest.fail(f"case {case}: not run, the earlier case {failed} failed: {chain[failed]}")
    if isinstance(got, Exception):
        raise got
    # the sampled input is compared bit for bit like the sampling cases, the rest within the tolerance
    differences = _differences(reference["result"], got)
    assert not differences, _report(case, differences, _count(reference["result"]))


def _count(tree) -> int:
    if isinstance(tree, dict):
        return sum(_count(v) for v in tree.values())
    if isinstance(tree, list):
        return sum(_count(v) for v in tree)
    return 1


def test_reference_covers_every_case_of_the_generator():
    """The JSON was made from the generator's current case lists (regenerate it after changing them)."""
    assert set(REFERENCE["sampling"]) == set(tool.SAMPLE_CASES)
    assert REFERENCE["chain"] == list(tool.TRAINING)
    assert {case: REFERENCE["sampling"][case]["argv"] for case in tool.SAMPLE_CASES} == {
        case: tool.sample_argv(case) for case in tool.SAMPLE_CASES
    }
    recorded = {
        case: {k: v for k, v in REFERENCE["training"][case].items() if k != "result"}
        for case in tool.TRAINING
    }
    assert recorded == tool.TRAINING
