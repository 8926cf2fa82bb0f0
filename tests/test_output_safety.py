"""What an unfinished run leaves is not lost to a mistake: a fresh start over its checkpoint or
partial file is refused (one line naming --resume and --overwrite), a second run of the same output
is refused while the first holds its lock, a checkpoint resumes only the partial file of its own
run, a damaged checkpoint record is refused, and --overwrite discards cleanly."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import pytest
from filelock import FileLock
from helpers import assert_same_data, terminate_once_writing

from src.analysis.plotting import pyplot, save
from src.storage.atomic import replaced, write_text

ROOT = Path(__file__).resolve().parents[1]
RUN = ["--set", "model.L=8", "--set", "sweeps.thermalize=50", "--set", "sweeps.measure=4000", "--quiet"]


def sample(out: Path, *flags):
    return subprocess.run(
        [sys.executable, "-m", "src.sample", *RUN, "--output", str(out), *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def interrupted(out: Path) -> None:
    """A run stopped by SIGTERM once it writes its partial file: it leaves a checkpoint."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "src.sample", *RUN, "--output", str(out)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    err = terminate_once_writing(proc, out)
    assert proc.returncode == 3, err
    assert Path(f"{out}.ckpt").exists() and Path(f"{out}.partial").exists()


def digests(*paths: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.exists()}


def one_line(res, *words):
    assert res.returncode == 2 and res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, (
        res.stderr
    )
    for w in words:
        assert w in res.stderr, res.stderr


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole") / "run.h5"
    assert sample(out).returncode == 0
    return out


def test_a_fresh_start_over_a_checkpointed_run_is_refused_and_resume_loses_nothing(tmp_path, uninterrupted):
    out = tmp_path / "run.h5"
    interrupted(out)
    leftovers = [Path(f"{out}.ckpt"), Path(f"{out}.partial")]
    before = digests(*leftovers)
    one_line(sample(out), "an unfinished run left run.h5.ckpt", "--resume", "--overwrite")
    assert digests(*leftovers) == before
    assert sample(out, "--resume").returncode == 0
    assert_same_data(out, uninterrupted)
    assert not any(p.exists() for p in leftovers)


def test_a_second_run_of_the_same_output_is_refused_while_the_first_holds_the_lock(tmp_path):
    out = tmp_path / "run.h5"
    with FileLock(f"{out}.lock", timeout=0):
        one_line(sample(out), "is being written by another run")
    assert not Path(f"{out}.partial").exists() and not out.exists()


def test_a_checkpoint_resumes_only_the_partial_file_of_its_own_run(tmp_path):
    out, other = tmp_path / "run.h5", tmp_path / "other.h5"
    interrupted(out)
    interrupted(other)
    shutil.copy(f"{other}.partial", f"{out}.partial")  # the same config, another run's data
    before = digests(Path(f"{out}.ckpt"), Path(f"{out}.partial"))
    one_line(sample(out, "--resume"), "belongs to run", "run.h5.partial to another run")
    assert digests(Path(f"{out}.ckpt"), Path(f"{out}.partial")) == before


def test_a_flipped_character_in_the_checkpoint_record_is_refused(tmp_path):
    out = tmp_path / "run.h5"
    interrupted(out)
    with h5py.File(f"{out}.ckpt", "r+") as f:
        meta = f.attrs["meta"]
        f.attrs["meta"] = meta.replace('"next_measurement": ', '"next_measurement": 1', 1)
    one_line(sample(out, "--resume"), ".ckpt: damaged (its SHA-256 does not match")


def test_a_lone_partial_file_needs_overwrite_and_overwrite_discards_a_checkpoint(tmp_path, uninterrupted):
    out = tmp_path / "run.h5"
    Path(f"{out}.partial").write_bytes(b"left by a run killed before its first checkpoint")
    one_line(sample(out), "stopped before its first checkpoint left run.h5.partial", "--overwrite")
    assert sample(out, "--overwrite").returncode == 0
    assert_same_data(out, uninterrupted)
    interrupted(tmp_path / "again.h5")
    done = sample(tmp_path / "again.h5", "--overwrite")
    assert done.returncode == 0 and "discarding the checkpoint" in done.stdout + done.stderr
    assert not Path(f"{tmp_path / 'again.h5'}.ckpt").exists()
    assert_same_data(tmp_path / "again.h5", uninterrupted)


# -- every file whole or not at all (src/storage/atomic.py) ---------------------------------------
def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "report.md"
    write_text(path, "old\n")
    with pytest.raises(RuntimeError, match="disk full"):
        with replaced(path) as f:
            f.write("half of the new")
            raise RuntimeError("disk full")
    assert path.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]
    write_text(path, "new\n")
    assert path.read_text() == "new\n" and sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_figures_are_written_whole_in_the_format_of_their_suffix(tmp_path, suffix, magic):
    plt = pyplot()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    save(fig, tmp_path / f"figure{suffix}")
    assert (tmp_path / f"figure{suffix}").read_bytes().startswith(magic)
    assert [p.name for p in tmp_path.iterdir()] == [f"figure{suffix}"]


def test_a_writer_killed_mid_file_leaves_the_old_file(tmp_path):
    """SIGKILL while a large file is being written through `replaced`: the target holds the old
    contents (a leftover temporary file is all that remains of the new one)."""
    path = tmp_path / "data.csv"
    write_text(path, "old\n")
    code = (
        "import sys, time\n"
        "from src.storage.atomic import replaced\n"
        f"with replaced({str(path)!r}) as f:\n"
        "    f.write('x' * 1000000); f.flush(); print('writing', flush=True); time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.kill()
    proc.wait()
    assert path.read_text() == "old\n"


# -- network files and training checkpoints are sealed (src/storage/networks.py, sealed.py) ----------
def flip(path, at: int, bit: int = 4) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 1 << bit
    path.write_bytes(bytes(data))


def test_a_flipped_bit_anywhere_in_a_network_file_or_checkpoint_is_refused(tmp_path):
    """A bit flipped in a tensor's bytes, in the zip structure torch reads them from (its last
    byte), or in the seal itself: each refused with one line naming the file."""
    import torch

    from src.learning.rg.superres import SuperResolution, superres_spec
    from src.storage.networks import NetworkFileError, read, save_checkpoint, save_superres

    torch.manual_seed(0)
    network = SuperResolution(superres_spec("ising", "spin", channels=(8,)))
    weights = network.layers[1].weight.detach().numpy().tobytes()
    for name in ("net.pt", "checkpoint.pt"):
        good = tmp_path / name
        if name == "net.pt":
            save_superres(good, network.spec, network)
        else:
            save_checkpoint(good, {"model": network.state_dict(), "epoch": 3})
        assert read(good)["format"]  # intact
        size = good.stat().st_size
        for at in (good.read_bytes().find(weights) + 17, size - 1, 100):
            damaged = tmp_path / f"damaged_{name}"
            shutil.copy(good, damaged)
            flip(damaged, at)
            with pytest.raises(NetworkFileError, match=f"damaged_{name}: damaged"):
                read(damaged)


def test_files_of_the_previous_release_are_read_after_their_content_checksum(tmp_path):
    """Unsealed files with a SHA-256 of their contents in the dict (what the previous release wrote):
    read when it matches; a flipped tensor bit, an edited value, or no checksum at all refused."""
    import torch

    from src.storage.networks import NetworkFileError, digest, read

    saved = {"format": "spinml-superres", "state_dict": {"w": torch.arange(8.0)}, "epoch": 3}
    torch.save({**saved, "digest": digest(saved)}, tmp_path / "previous.pt")
    assert read(tmp_path / "previous.pt")["epoch"] == 3
    data = bytearray((tmp_path / "previous.pt").read_bytes())
    at = bytes(data).find(torch.arange(8.0).numpy().tobytes())
    data[at + 9] ^= 0x10
    (tmp_path / "flipped.pt").write_bytes(bytes(data))
    assert torch.load(tmp_path / "flipped.pt", weights_only=True)  # torch reads it without complaint
    with pytest.raises(NetworkFileError, match="flipped.pt: damaged"):
        read(tmp_path / "flipped.pt")
    torch.save({**saved, "epoch": 4, "digest": digest(saved)}, tmp_path / "edited.pt")
    with pytest.raises(NetworkFileError, match="edited.pt: damaged"):
        read(tmp_path / "edited.pt")
    torch.save(saved, tmp_path / "old.pt")
    with pytest.raises(NetworkFileError, match="old.pt: has no checksum"):
        read(tmp_path / "old.pt")


@pytest.mark.parametrize("damage", ["truncated", "not HDF5"])
def test_a_damaged_partial_file_on_resume_is_one_line_and_keeps_the_checkpoint(tmp_path, damage):
    out = tmp_path / "run.h5"
    interrupted(out)
    partial = Path(f"{out}.partial")
    data = partial.read_bytes()
    partial.write_bytes(data[:5000] if damage == "truncated" else b"not an HDF5 file\n")
    before = digests(Path(f"{out}.ckpt"), partial)
    one_line(sample(out, "--resume"), "run.h5.partial: cannot be opened", "--overwrite starts afresh")
    assert digests(Path(f"{out}.ckpt"), partial) == before


def test_a_partial_file_is_not_summarised_as_if_complete(tmp_path, capsys):
    from src.analyze import main as analyze

    out = tmp_path / "run.h5"
    interrupted(out)
    assert analyze(["summary", f"{out}.partial"]) == 2
    assert (
        capsys.readouterr().err
        == f"error: {out}.partial: the run is not complete; its summary is written when it ends\n"
    )


def test_network_files_without_the_fields_their_readers_use_are_refused(tmp_path):
    import torch

    from src.storage.networks import NetworkFileError, atomic_save, read_checkpoint, read_model, read_superres

    cases = {
        "superres.pt": (
            {"format": "spinml-superres", "state_dict": {}, "meta": {}},
            read_superres,
            "without spec",
        ),
        "checkpoint.pt": (
            {"format": "spinml-train-checkpoint", "model": {}},
            read_checkpoint,
            "without config_hash",
        ),
        "model.pt": (
            {"format": "spinml-network", "state_dict": {"w": torch.zeros(1)}, "meta": {"network": {}}},
            read_model,
            "whose meta has no representation, encoding, labels",
        ),
    }
    for name, (saved, reader, words) in cases.items():
        atomic_save(saved, tmp_path / name)
        with pytest.raises(NetworkFileError, match=f"{name}: .*{words}"):
            reader(tmp_path / name)
