"""Recordings: snapshots and probe results round-trip exactly through the pickle-free file,
the curves' histories rebuild as the window built them, bad and future files are refused with
one line, and ``bnviz train --record`` writes a compact file."""

from __future__ import annotations

import json
import zipfile
from dataclasses import fields, is_dataclass

import numpy as np
import pytest

from bnviz.cli import main
from bnviz.train.config import TrainConfig
from bnviz.train.history import RunHistory
from bnviz.train.record_codec import Decoder, Encoder, RecordingError
from bnviz.train.recording import Recorder, Recording
from bnviz.train.snapshot import EvalResult, GridResult
from bnviz.train.trainer import Trainer

CONFIG = TrainConfig(n_samples=200, hidden=(8, 8), activation="tanh", compare=True)


def _same(a, b, where="") -> None:
    """Equal to the bit, arrays (and their dtypes) and dataclasses included."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, where
        assert a.tobytes() == b.tobytes(), where
        assert not b.flags.writeable, where
    elif is_dataclass(a):
        assert type(a) is type(b), where
        for f in fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _same(a[k], b[k], f"{where}[{k}]")
    elif isinstance(a, float) and np.isnan(a):
        assert isinstance(b, float) and np.isnan(b), where
    else:
        assert a == b and type(a) is type(b), where


def _record(tmp_path, frames=8):
    trainer, live = Trainer(CONFIG), []
    recorder = Recorder(tmp_path / "r.bnrec")
    logits = np.random.default_rng(0).standard_normal((4, 5, 3)).astype(np.float32)
    grid = GridResult("bn", np.linspace(-1, 1, 5), np.linspace(-2, 2, 4), logits)
    for i in range(frames):
        trainer.run(7)
        if i % 3 == 0:
            trainer.evaluate()
        snaps = trainer.snapshot()
        probes = {("regions", i // 4): grid} if i else {}
        live.append((snaps, probes))
        recorder.add(snaps, probes, config=trainer.config)
    recorder.save()
    return live, Recording.open(tmp_path / "r.bnrec")


def test_frames_round_trip_to_the_bit(tmp_path):
    live, rec = _record(tmp_path)
    assert len(rec) == len(live) and rec.steps == [7 * (i + 1) for i in range(len(live))]
    for i, (snaps, probes) in enumerate(live):
        frame = rec.frame_at(i)
        _same(snaps, frame.snapshots, f"frame {i}")
        _same(probes, dict(frame.probes), f"probes {i}")
    assert set(rec.frame(rec.steps[-1])) == {"bn", "plain"}
    with pytest.raises(KeyError):
        rec.frame(3)
    assert rec.index_of(15) == 1 and rec.index_of(0) == 0
    assert rec.config_at(0) == CONFIG.validated()
    # one EvalResult shown over several frames is stored once and shared again when read
    evs = [rec.frame_at(i).snapshots[0].evaluation for i in range(1, 3)]
    assert isinstance(evs[0], EvalResult) and evs[0] is evs[1]


def test_histories_rebuild_as_the_window_built_them(tmp_path):
    live, rec = _record(tmp_path)
    for stop in (len(live) - 1, 2, len(live) - 1):  # forward, back, forward again
        histories: dict[str, RunHistory] = {}
        for snaps, _ in live[: stop + 1]:
            for s in snaps:
                histories.setdefault(s.run, RunHistory(s.run)).add(s)
        rebuilt = rec.histories_at(stop)
        assert rebuilt.keys() == histories.keys()
        for name, h in histories.items():
            r = rebuilt[name]
            for series in ("loss", "smoothed", "val_loss", "val_acc"):
                np.testing.assert_array_equal(getattr(r, series).x, getattr(h, series).x)
                np.testing.assert_array_equal(getattr(r, series).y, getattr(h, series).y)
            assert r.events == h.events and r.last_step == h.last_step


def test_seeded_histories_continue_a_run_recorded_from_its_middle(tmp_path):
    from bnviz.train.recording import history_from, history_state

    trainer, histories = Trainer(CONFIG), {}
    for _ in range(5):
        trainer.run(5)
        for s in trainer.snapshot():
            histories.setdefault(s.run, RunHistory(s.run)).add(s)
    restored = {n: history_from(history_state(h)) for n, h in histories.items()}
    recorder = Recorder(tmp_path / "mid.bnrec")
    recorder.seed(histories)
    trainer.run(5)
    snaps = trainer.snapshot()
    for s in snaps:
        histories[s.run].add(s)
    recorder.add(snaps)
    recorder.save()
    rebuilt = Recording.open(tmp_path / "mid.bnrec").histories_at(0)
    for name, h in histories.items():
        np.testing.assert_array_equal(rebuilt[name].loss.y, h.loss.y)
        np.testing.assert_array_equal(rebuilt[name].percentiles[1][0].x, h.percentiles[1][0].x)
    assert restored["bn"].loss.y.size == 25


@pytest.mark.parametrize(
    "a",
    [
        np.arange(100, 160, dtype=np.int64),  # delta-coded as ones
        np.array([3, -70000, 2**40], dtype=np.int64),
        np.array([[0, 5], [255, 1]], dtype=np.int32),
        np.array([True, False, True]),
        np.array([1.5, np.nan, -np.inf, 1e-300], dtype=np.float64),
        np.linspace(0, 1, 7, dtype=np.float32).reshape(7, 1),
        np.zeros((0, 3), np.float32),
    ],
)
def test_arrays_round_trip_whatever_their_storage(a):
    enc = Encoder()
    tree = enc.encode({"x": a, "s": np.float32(2.5), "k": (1, "a", None)})
    blobs = enc.arrays.blobs()
    out = Decoder(enc.objects, json.loads(json.dumps(enc.arrays.index)), blobs).decode(
        json.loads(json.dumps(tree))
    )
    _same(a, out["x"])
    assert out["s"] == np.float32(2.5) and out["s"].dtype == np.float32
    assert out["k"] == (1, "a", None)


def test_repeated_arrays_are_stored_once():
    enc, edges = Encoder(), np.linspace(-3, 3, 41)
    for _ in range(50):
        enc.encode(edges.copy())
    assert len(enc.arrays.index) == 1


def _rewrite(path, member, change):
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts[member] = json.dumps(change(json.loads(parts[member]))).encode()
    with zipfile.ZipFile(path, "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)


def _future(h):
    return {**h, "version": 99}


def _foreign_class(objects):
    objects[0]["c"] = "os:system"
    return objects


def _main_module(objects):
    objects[0]["c"] = "bnviz.__main__:main"
    return objects


@pytest.mark.parametrize(
    "member, change, message",
    [
        ("header.json", _future, "recording version 99 comes from a newer bnviz"),
        ("header.json", lambda h: {"format": "other"}, "not a bnviz recording"),
        ("objects.json", _foreign_class, "refused class 'os:system'"),
        ("objects.json", _main_module, "refused class 'bnviz.__main__:main'"),
        ("frames.json", lambda f: [{"step": 1}], "damaged"),
    ],
)
def test_bad_or_future_files_are_refused_in_one_line(tmp_path, member, change, message):
    _record(tmp_path, frames=2)
    path = tmp_path / "r.bnrec"
    _rewrite(path, member, change)
    with pytest.raises(RecordingError) as e:
        Recording.open(path)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_not_a_zip_and_missing_file(tmp_path):
    (tmp_path / "x.bnrec").write_text("hello")
    for name, message in (("x.bnrec", "not a bnviz recording"), ("y.bnrec", "no such file")):
        with pytest.raises(RecordingError, match=message):
            Recording.open(tmp_path / name)
    with pytest.raises(RecordingError, match="does not exist"):
        Recorder(tmp_path / "no" / "r.bnrec")


def test_train_record_is_compact(tmp_path, capsys):
    path = tmp_path / "run.bnrec"
    args = ["train", "--steps", "1000", "--record-every", "1", "--record", str(path), "--quiet"]
    assert main(args) == 0
    rec = Recording.open(path)
    assert len(rec) == 1000 and rec.steps == list(range(1, 1001))
    assert rec.frame(1000)["net"].evaluation.step == 1000
    assert path.stat().st_size < 2e6  # the default run: 4 layers of 32, one network
    assert "recorded 1000 frames" in capsys.readouterr().out


def test_train_records_at_each_evaluation(tmp_path, capsys):
    path = tmp_path / "run.bnrec"
    flags = ["--steps", "60", "--eval-every", "20", "--quiet", "--compare"]
    assert main(["train", *flags, "--record", str(path)]) == 0
    rec = Recording.open(path)
    assert rec.steps == [20, 40, 60] and set(rec.frame(60)) == {"bn", "plain"}
    with pytest.raises(SystemExit) as e:
        main(["train", "--steps", "5", "--record-every", "2"])
    assert e.value.code == 2
