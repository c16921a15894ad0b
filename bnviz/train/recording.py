"""A run recorded and replayed: every snapshot the window drew (or ``bnviz train --record``
took), with the probe results drawn beside it and the run's events (they travel in the
snapshots), in one versioned, compact, pickle-free file.

A file is a zip of JSON (the frames, the object table, the array index, the settings of each
run) and a few typed array buffers (:mod:`bnviz.train.record_codec`). ``Recording.open(path)``
reads it; a bad file or one from a newer bnviz raises :class:`RecordingError` with one line.

Replaying a frame rebuilds exactly what the window drew from: its snapshots, the probe results
it held and the curves' histories, fed with the recorded snapshots in order from the start of
the run as the window fed them (:meth:`Recording.histories_at`).
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bnviz.data.budget import check_budget
from bnviz.data.dataset import DataError
from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.history import RunHistory
from bnviz.train.record_codec import Decoder, Encoder, RecordingError
from bnviz.train.snapshot import Snapshot
from bnviz.train.stats import DecimatingSeries

FORMAT = "bnviz_recording"
VERSION = 1
SUFFIX = ".bnrec"
_MEMBERS = ("header.json", "frames.json", "objects.json", "arrays.json")

__all__ = ["Recorder", "Recording", "RecordedFrame", "RecordingError", "SUFFIX", "VERSION"]


@dataclass(frozen=True)
class RecordedFrame:
    """One drawn frame: its step, the run it belongs to (``generation``: a reset starts a new
    one), one snapshot per network and the probe results shown with it."""

    step: int
    generation: int
    snapshots: tuple[Snapshot, ...]
    probes: Mapping[Any, object]


class Recorder:
    """Collects frames and writes them to ``path`` on :meth:`save` (the window calls it when
    recording stops or the window closes; ``bnviz train --record`` at the end)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.resolve().parent.is_dir():
            raise RecordingError(f"folder of {self.path} does not exist")
        self._enc = Encoder()
        self._frames: list[dict[str, Any]] = []
        self._configs: dict[str, dict[str, Any]] = {}
        self._seeds: dict[str, Any] = {}
        self.dropped_probes = 0  # probe results of a type a recording cannot hold

    @property
    def frames(self) -> int:
        return len(self._frames)

    def seed(self, histories: Mapping[str, RunHistory], generation: int = 0) -> None:
        """The curves' histories so far, when recording starts in the middle of a run: the
        replay's curves start from them, as the window's did."""
        if histories:
            state = {name: history_state(h) for name, h in histories.items()}
            self._seeds[str(generation)] = self._enc.encode(state)

    def add(
        self,
        snapshots: Sequence[Snapshot],
        probes: Mapping[Any, object] | None = None,
        *,
        generation: int = 0,
        config: TrainConfig | None = None,
    ) -> None:
        """Record one frame; ``config`` is the run's settings (kept once per generation)."""
        if config is not None and str(generation) not in self._configs:
            self._configs[str(generation)] = config.to_dict()
        enc = self._enc
        snaps = [enc.encode(s) for s in snapshots]
        shown = []
        for req, result in (probes or {}).items():
            try:
                shown.append([enc.encode(req), enc.encode(result)])
            except RecordingError:
                self.dropped_probes += 1
        step = snapshots[0].step if snapshots else 0
        self._frames.append({"step": step, "gen": generation, "snaps": snaps, "probes": shown})
        enc.next_frame()

    def save(self) -> int:
        """Write the file (atomically: a crash leaves the previous one); returns its size."""
        header = {"format": FORMAT, "version": VERSION, "frames": len(self._frames),
                  "configs": self._configs, "seeds": self._seeds}  # fmt: skip
        members = {
            "header.json": header,
            "frames.json": self._frames,
            "objects.json": self._enc.objects,
            "arrays.json": self._enc.arrays.index,
        }
        tmp = self.path.with_name(self.path.name + ".part")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            for name, value in members.items():
                z.writestr(name, json.dumps(value, separators=(",", ":")))
            for store, raw in self._enc.arrays.blobs().items():
                z.writestr(f"arrays/{store}", raw)
        os.replace(tmp, self.path)
        return self.path.stat().st_size


class Recording:
    """A recording read back; open one with :meth:`open`."""

    def __init__(self, path: Path, header: dict, frames: list, decoder: Decoder) -> None:
        self.path = path
        self._header, self._frames, self._decoder = header, frames, decoder
        self._cache: tuple[int, dict[str, RunHistory]] | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Recording:
        """Read ``path``; :class:`RecordingError` (one line) for anything but a recording this
        bnviz can read."""
        p = Path(path)
        if not p.is_file():
            raise RecordingError(f"{p.name}: no such file")
        try:
            with zipfile.ZipFile(p) as z:
                names = set(z.namelist())
                # declared sizes first: a zip bomb is refused before anything inflates
                check_budget(p.name, sum(i.file_size for i in z.infolist()), "its members")
                if "header.json" not in names:
                    raise RecordingError(f"{p.name}: not a bnviz recording")
                header = json.loads(z.read("header.json"))
                _check_header(header, p.name)
                if not names.issuperset(_MEMBERS):
                    raise RecordingError(f"{p.name}: a damaged recording (members missing)")
                frames, objects, index = (json.loads(z.read(n)) for n in _MEMBERS[1:])
                blobs = {n[len("arrays/") :]: z.read(n) for n in names if n.startswith("arrays/")}
        except RecordingError:
            raise
        except DataError as e:  # over the memory budget
            raise RecordingError(str(e)) from None
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
            raise RecordingError(f"{p.name}: not a bnviz recording ({e})") from None
        except (RecursionError, MemoryError, NotImplementedError, RuntimeError) as e:
            # JSON nested too deep, a member too big, compressed or encrypted as zipfile cannot
            raise RecordingError(f"{p.name}: not a bnviz recording ({type(e).__name__})") from None
        try:
            recording = cls(p, header, frames, Decoder(objects, index, blobs))
            if frames:  # decode the last frame now: a damaged file fails here, not in the view
                recording.frame_at(len(frames) - 1)
        except RecordingError as e:
            raise RecordingError(f"{p.name}: {e}") from None
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise RecordingError(f"{p.name}: a damaged recording ({type(e).__name__})") from None
        return recording

    # -- the frames ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._frames)

    @property
    def steps(self) -> list[int]:
        """The recorded steps, ascending (each once)."""
        return sorted({int(f["step"]) for f in self._frames})

    def frame(self, step: int) -> dict[str, Snapshot]:
        """``{run name: Snapshot}`` of the last frame drawn at ``step``; KeyError if none was."""
        for i in range(len(self._frames) - 1, -1, -1):
            if self._frames[i]["step"] == step:
                return {s.run: s for s in self.frame_at(i).snapshots}
        raise KeyError(f"no frame at step {step}")

    def index_of(self, step: int) -> int:
        """The index of the last frame at or before ``step`` (0 when step precedes them all)."""
        best = 0
        for i, f in enumerate(self._frames):
            if f["step"] <= step:
                best = i
        return best

    def step_at(self, i: int) -> int:
        """The step of frame ``i`` (without decoding it)."""
        return int(self._frames[i]["step"])

    def generation_at(self, i: int) -> int:
        """The run (0, 1, ... after each reset) frame ``i`` belongs to."""
        return int(self._frames[i]["gen"])

    def frame_at(self, i: int) -> RecordedFrame:
        """Frame ``i`` (0 <= i < len(self)) in the order drawn."""
        f, dec = self._frames[i], self._decoder
        snaps = tuple(dec.decode(s) for s in f["snaps"])
        if not all(isinstance(s, Snapshot) for s in snaps):
            raise RecordingError("a frame holds something other than snapshots")
        probes = {dec.decode(k): dec.decode(v) for k, v in f["probes"]}
        return RecordedFrame(int(f["step"]), int(f["gen"]), snaps, probes)

    def histories_at(self, i: int) -> dict[str, RunHistory]:
        """The curves' histories as the window held them when it drew frame ``i``: every frame
        of the same run up to ``i`` fed in order (kept between calls, so playing forward feeds
        one frame at a time)."""
        gen = self._frames[i]["gen"]
        start = i
        while start > 0 and self._frames[start - 1]["gen"] == gen:
            start -= 1
        cached = self._cache
        if cached is not None and start <= cached[0] <= i:
            first, histories = cached[0] + 1, cached[1]
        else:
            first, histories = start, self._seeded(gen)
        for j in range(first, i + 1):
            snaps = self.frame_at(j).snapshots
            for s in snaps:
                histories.setdefault(s.run, RunHistory(s.run)).add(s)
            for name in [n for n in histories if n not in {s.run for s in snaps}]:
                del histories[name]
        self._cache = (i, histories)
        return dict(histories)

    def _seeded(self, generation: int) -> dict[str, RunHistory]:
        """Fresh copies of the histories the recording started from (none: empty)."""
        tree = self._header.get("seeds", {}).get(str(generation))
        if tree is None:
            return {}
        state = self._decoder.decode(tree)
        return {name: history_from(h) for name, h in state.items()}

    def config_at(self, i: int) -> TrainConfig | None:
        """The settings of frame ``i``'s run (None when the recorder was not told them)."""
        data = self._header.get("configs", {}).get(str(self._frames[i]["gen"]))
        if data is None:
            return None
        try:
            return TrainConfig.from_dict(data)
        except ConfigError as e:
            raise RecordingError(f"{self.path.name}: bad settings in the recording ({e})") from None

    @property
    def size_bytes(self) -> int:
        return self.path.stat().st_size


# -- the curves so far, when a recording starts mid-run ---------------------------------------
_SERIES = ("loss", "smoothed", "val_loss", "val_acc")


def _series_state(s: DecimatingSeries) -> tuple:
    return (s.capacity, s.x.copy(), s.y.copy(), s.stride, s._seen)


def _series_from(state: tuple) -> DecimatingSeries:
    capacity, x, y, stride, seen = state
    s = DecimatingSeries(int(capacity))
    s._x[: len(x)], s._y[: len(y)] = x, y
    s._n, s.stride, s._seen = len(x), int(stride), int(seen)
    return s


def history_state(h: RunHistory) -> dict[str, Any]:
    """Everything a :class:`RunHistory` holds, as plain values and arrays."""
    bands = {
        kind: {layer: tuple(_series_state(s) for s in series) for layer, series in d.items()}
        for kind, d in (("percentiles", h.percentiles), ("unit", h.unit_percentiles))
    }
    return {
        "run": h.run, "capacity": h.capacity, "events": h.events,
        "diverged_step": h.diverged_step, "batchnorm": h.batchnorm, "last_step": h.last_step,
        "smoothed_loss": h.smoothed_loss, "last_eval_step": h._last_eval_step,
        "series": {name: _series_state(getattr(h, name)) for name in _SERIES}, "bands": bands,
    }  # fmt: skip


def history_from(state: dict[str, Any]) -> RunHistory:
    """The :class:`RunHistory` :func:`history_state` describes (a new, independent one)."""
    h = RunHistory(state["run"], int(state["capacity"]))
    for name in _SERIES:
        setattr(h, name, _series_from(state["series"][name]))
    for kind, target in (("percentiles", h.percentiles), ("unit", h.unit_percentiles)):
        for layer, series in state["bands"][kind].items():
            target[layer] = tuple(_series_from(s) for s in series)
    h.events, h.diverged_step = tuple(state["events"]), state["diverged_step"]
    h.batchnorm, h.last_step = bool(state["batchnorm"]), int(state["last_step"])
    h._smoothed_loss, h._last_eval_step = state["smoothed_loss"], state["last_eval_step"]
    return h


def _check_header(header: Any, name: str) -> None:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RecordingError(f"{name}: not a bnviz recording")
    version = header.get("version")
    if not isinstance(version, int) or version < 1:
        raise RecordingError(f"{name}: a damaged recording (version {version!r})")
    if version > VERSION:
        raise RecordingError(
            f"{name}: recording version {version} comes from a newer bnviz (this one reads "
            f"version {VERSION}); update bnviz to replay it"
        )
