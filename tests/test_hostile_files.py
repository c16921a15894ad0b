"""Hostile data and model files: each refused with one DataError (or ModelFileError) naming
the file and the problem, before anything big is allocated."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnviz.data.budget import ENV, format_size, parse_size
from bnviz.data.dataset import DataError
from bnviz.data.files import load_file
from bnviz.nn.model_io import ModelFileError
from bnviz.nn.network import MLP
from tests.hostile_corpus import header_only_npz, npy_header, patched_npz, zip_bomb_npz

GB = 1 << 30
TMP_PATH_REUSED = HealthCheck.function_scoped_fixture  # each example overwrites its file


@pytest.fixture
def budget(monkeypatch):
    def set_budget(text: str) -> None:
        monkeypatch.setenv(ENV, text)

    return set_budget


def test_an_npz_declaring_48_gb_is_refused_from_its_header_naming_file_and_size(tmp_path):
    path = header_only_npz(tmp_path / "huge.npz", {"X": (100_000, 64_424), "y": (100_000,)})
    assert path.stat().st_size < 1000
    with pytest.raises(DataError) as e:
        load_file(path)
    message = str(e.value)
    assert message.startswith("huge.npz: ") and "48.0 GB" in message and "budget" in message
    assert "\n" not in message


def test_the_48_gb_header_is_refused_using_under_200_mb(tmp_path):
    """Measured in a fresh interpreter: its peak resident memory (VmHWM: ru_maxrss would
    count the forking parent's), imports included."""
    path = header_only_npz(tmp_path / "huge.npz", {"X": (100_000, 64_424), "y": (100_000,)})
    code = (
        "import re\n"
        "from bnviz.data.files import load_file\n"
        "from bnviz.data.dataset import DataError\n"
        f"try:\n    load_file({str(path)!r})\nexcept DataError as e:\n    print(e)\n"
        "print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    message, peak_kb = out.stdout.strip().splitlines()
    assert "48.0 GB" in message
    assert int(peak_kb) < 200 * 1024


def test_a_zip_bomb_is_refused_from_its_declared_sizes(tmp_path, budget):
    path = zip_bomb_npz(tmp_path / "bomb.npz", megabytes=200)
    assert path.stat().st_size < 2 << 20  # 200 MB of zeros deflate to ~1 MB
    budget("64M")
    with pytest.raises(DataError, match=r"bomb.npz: its arrays .* would take 2\d\d\.\d MB, over"):
        load_file(path)


def test_the_budget_can_be_raised(tmp_path, budget):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "ok.npz", X=rng.normal(size=(100, 4)), y=rng.integers(0, 2, 100))
    budget("1k")
    with pytest.raises(DataError, match="ok.npz: .*over the memory budget of 1.0 kB"):
        load_file(tmp_path / "ok.npz")
    budget("1M")
    assert load_file(tmp_path / "ok.npz").n_features == 4


def test_a_member_that_holds_less_than_its_header_declares_is_damaged(tmp_path):
    path = tmp_path / "short.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("X.npy", npy_header((1000, 4)) + bytes(800))
        z.writestr("y.npy", npy_header((1000,), "<i8") + bytes(8000))
    with pytest.raises(DataError, match="short.npz: array 'X' declares shape .*damaged or crafted"):
        load_file(path)


@pytest.mark.parametrize(
    "member, words",
    [
        (b"\x93NUMPY\x01\x00\x10\x00{'descr': 'f8'", "unreadable header"),
        (b"\x93NUMPY\x01\x00" + b"\x30\x00" + b"{'descr': '<f8', 'shape': (-5,), }" + b" " * 13
         + b"\n", "unreadable header"),
        (b"not numpy at all", "unreadable header"),
    ],
)  # fmt: skip
def test_a_broken_npy_header_is_one_line(tmp_path, member, words):
    path = tmp_path / "bad.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("X.npy", member)
        z.writestr("y.npy", npy_header((3,), "<i8") + bytes(24))
    with pytest.raises(DataError, match=f"bad.npz: .*{words}"):
        load_file(path)


@pytest.mark.parametrize(
    "how, words",
    [({"method": 99}, "compression method is not supported"), ({"encrypted": True}, "encrypted")],
)
def test_a_zip_member_zipfile_cannot_open_is_one_line(tmp_path, how, words):
    path = patched_npz(tmp_path / "odd.npz", **how)
    with pytest.raises(DataError, match=f"odd.npz: not a valid .npz archive .*{words}"):
        load_file(path)
    with pytest.raises(ModelFileError, match="odd.npz: "):
        MLP.load(path)


def test_a_single_npy_with_a_huge_header_is_refused_unread(tmp_path):
    path = tmp_path / "one.npz"
    path.write_bytes(npy_header((10**12,)))
    with pytest.raises(DataError, match="one.npz: holds a single array"):
        load_file(path)


def test_a_csv_over_the_budget_is_refused_by_its_size(tmp_path, budget):
    path = tmp_path / "big.csv"
    path.write_text("".join(f"{i},{i % 2}\n" for i in range(2000)))
    budget("4k")
    with pytest.raises(DataError, match=r"big.csv: its values would take 1\d\.\d kB, over"):
        load_file(path)


def test_special_and_impossible_paths_are_one_line(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="pipe.csv: not a regular file"):
        load_file(fifo)  # would block forever on open
    long = tmp_path / ("d" * 300) / "x.csv"  # a folder name past NAME_MAX
    with pytest.raises(DataError, match="cannot be read|file not found"):
        load_file(long)
    deep = "/".join(["e" * 200] * 21) + "/data.npz"
    with pytest.raises(DataError) as e:
        load_file(tmp_path / deep)
    assert "\n" not in str(e.value) and len(str(e.value)) < 5000


def test_sizes_read_and_written_for_people():
    assert parse_size("8G") == 8 * GB and parse_size("512MB") == 512 << 20
    assert parse_size("1.5g") == int(1.5 * GB) and parse_size("4096") == 4096
    for bad in ("", "G", "-1G", "lots", "1e30T"):
        with pytest.raises(ValueError):
            parse_size(bad)
    assert format_size(48 * GB) == "48.0 GB" and format_size(10) == "10 bytes"


def test_a_model_file_cannot_make_the_loader_allocate_past_its_architecture(tmp_path):
    np.savez(tmp_path / "wide.npz", __sizes__=np.array([10**7, 10**7]),
             __activation__=np.array("relu"), __batchnorm__=np.array(False))  # fmt: skip
    with pytest.raises(ModelFileError, match="wide.npz: layer widths .* outside"):
        MLP.load(tmp_path / "wide.npz")
    net = MLP([2, 3, 2], activation="relu", batchnorm=False)
    net.save(tmp_path / "ok.npz")
    arrays = dict(np.load(tmp_path / "ok.npz"))
    arrays["W1"] = np.zeros((2000, 3000))  # a member far bigger than the (2, 3) it should be
    np.savez(tmp_path / "fat.npz", **arrays)
    with pytest.raises(ModelFileError, match="fat.npz: W1 is .* bytes, more than its 6 values"):
        MLP.load(tmp_path / "fat.npz")
    np.savez(tmp_path / "act.npz", **{**arrays, "__activation__": np.array("gelu")})
    with pytest.raises(ModelFileError, match="act.npz: not a bnviz model"):
        MLP.load(tmp_path / "act.npz")


HEADER_SHAPES = st.lists(st.integers(0, 10**15), max_size=4).map(tuple)
DESCRS = st.sampled_from(["<f8", "<f4", "|u1", "<i8", "|b1", "<c16", "|V0", "<U0", "|O", "|S3"])


@settings(max_examples=150, deadline=None, suppress_health_check=[TMP_PATH_REUSED])
@given(HEADER_SHAPES, HEADER_SHAPES, DESCRS, st.binary(max_size=64))
def test_fuzzed_npz_headers_are_a_dataset_or_one_data_error(tmp_path, x_shape, y_shape, descr,
                                                            data):  # fmt: skip
    path = tmp_path / "fuzz.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("X.npy", npy_header(x_shape, descr) + data)
        z.writestr("y.npy", npy_header(y_shape, "<i8") + data)
    try:
        load_file(path)
    except DataError as e:
        assert str(e).startswith("fuzz.npz: ") and "\n" not in str(e)


@pytest.mark.parametrize(
    "members, words",
    [
        ({"header.json": "[" * 100_000 + "]" * 100_000}, "not a bnviz recording (RecursionError)"),
        ({"header.json": "{}", "arrays/big": b"\0" * (2 << 20)}, "its members would take"),
    ],
)
def test_a_hostile_recording_is_one_line(tmp_path, budget, members, words):
    from bnviz.train.recording import Recording, RecordingError

    budget("1M")
    path = tmp_path / "run.bnvizrec"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(RecordingError) as e:
        Recording.open(path)
    assert str(e.value).startswith("run.bnvizrec: ") and words in str(e.value)


@pytest.mark.parametrize("shape", [(0, 0, 0), (0, 3, 0), (4, 0, 2)])
def test_empty_image_stacks_are_one_data_error(tmp_path, shape):
    # found by the fuzzer above: a (0, 0, 0) image array made NumPy's reshape(0, -1) raise
    path = tmp_path / "empty.npz"
    np.savez(path, X=np.zeros(shape), y=np.zeros(shape[0], np.int64))
    with pytest.raises(DataError, match="no examples|0 features"):
        load_file(path)
