"""The pickle-free encoding of a recording: snapshots and probe results (frozen dataclasses of
numbers, strings, tuples and arrays) as JSON trees whose arrays live in a few typed buffers.

Reading a file never runs code from it: a class is named by ``module:QualName`` and accepted
only when the module is part of bnviz and the name is a dataclass there; every other value is
plain JSON or an array read with :func:`numpy.frombuffer`.

Compactness (a frame of a 4-layer network is mostly small histograms and a few dozen losses):
every array is stored once by content (histogram edges repeat frame after frame), integer
arrays in the narrowest integer type that holds them and, when that narrows them further, as
differences (loss steps 101, 102, ... become ones); a float array as the XOR of its bits with
the previous array of its shape (an evaluation's logits a few steps later share their sign,
exponent and first digits: zero bytes) and every buffer of floats byte-shuffled (all first
bytes, then all second bytes...) so that deflate finds those zeros and repeated exponents.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
from typing import Any

import numpy as np

Tree = Any  # JSON: None, bool, int, float, str, list, dict
# The packages whose dataclasses a recording may name (snapshots, probe and lesson results).
READABLE = ("train", "lessons", "nn", "data", "search")
XOR_MIN = 64  # float arrays this large are stored XORed with the last of their shape...
KEYFRAME = 16  # ...except every KEYFRAME-th, so reading one decodes at most this many
NARROW = (np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.int64)


class RecordingError(ValueError):
    """A recording that cannot be read (or a value that cannot be recorded); one line."""


class ArrayStore:
    """Arrays kept once each, concatenated per stored dtype; ``index`` says where each is."""

    def __init__(self) -> None:
        self.buffers: dict[str, list[np.ndarray]] = {}
        self.sizes: dict[str, int] = {}
        # [store, offset, count, shape, dtype, delta-coded, the array XORed with or -1]
        self.index: list[list[Any]] = []
        self._seen: dict[bytes, int] = {}
        self._last: dict[tuple[str, tuple[int, ...]], tuple[int, np.ndarray, int]] = {}

    def put(self, a: np.ndarray) -> int:
        a = np.ascontiguousarray(a)
        if a.dtype.kind not in "biuf":
            raise RecordingError(f"cannot record an array of {a.dtype}")
        key = hashlib.blake2b(a.tobytes(), digest_size=16, person=a.dtype.str.encode()).digest()
        key += repr(a.shape).encode()
        found = self._seen.get(key)
        if found is not None:
            return found
        flat, delta = _narrowed(a.reshape(-1))
        store, ref, i = flat.dtype.str, -1, len(self.index)
        if a.dtype.kind == "f" and a.size >= XOR_MIN:
            slot = (a.dtype.str, a.shape)
            last = self._last.get(slot)
            chain = 0
            if last is not None and last[2] < KEYFRAME:
                bits = np.dtype(f"<u{a.dtype.itemsize}")
                flat = (a.reshape(-1).view(bits) ^ last[1].reshape(-1).view(bits)).astype(bits)
                store, ref, chain = "x" + flat.dtype.str, last[0], last[2] + 1
            self._last[slot] = (i, a.copy(), chain)
        self.buffers.setdefault(store, []).append(flat)
        offset = self.sizes.get(store, 0)
        self.sizes[store] = offset + flat.size
        self.index.append([store, offset, int(flat.size), list(a.shape), a.dtype.str, delta, ref])
        self._seen[key] = i
        return i

    def blobs(self) -> dict[str, bytes]:
        """Each store's bytes (floats byte-shuffled)."""
        out = {}
        for store, parts in self.buffers.items():
            flat = np.concatenate(parts)
            out[store] = _shuffle(flat) if _shuffled(store) else flat.tobytes()
        return out


def _shuffled(store: str) -> bool:
    """Floats and float bits XORed with their predecessor are byte-shuffled."""
    return store.startswith("x") or np.dtype(store).kind == "f"


def _narrowed(flat: np.ndarray) -> tuple[np.ndarray, bool]:
    """The narrowest lossless integer form of an integer (or bool) array, delta-coded when that
    is narrower still; floats as they are."""
    if flat.dtype.kind == "f" or flat.size == 0:
        return flat, False
    plain = _smallest(flat.astype(np.int64))
    if flat.size > 2:
        diffs = _smallest(np.diff(flat.astype(np.int64), prepend=0))
        if diffs.dtype.itemsize < plain.dtype.itemsize:
            return diffs, True
    return plain, False


def _smallest(v: np.ndarray) -> np.ndarray:
    lo, hi = (int(v.min()), int(v.max())) if v.size else (0, 0)
    for t in NARROW:
        info = np.iinfo(t)
        if info.min <= lo and hi <= info.max:
            return v.astype(t)
    return v


def _shuffle(flat: np.ndarray) -> bytes:
    return np.frombuffer(flat.tobytes(), np.uint8).reshape(-1, flat.itemsize).T.tobytes()


def _unshuffle(raw: bytes, dtype: np.dtype) -> np.ndarray:
    b = np.frombuffer(raw, np.uint8).reshape(dtype.itemsize, -1).T
    return np.frombuffer(np.ascontiguousarray(b).tobytes(), dtype)


class Encoder:
    """Values to trees; dataclass instances go to an object table, and an instance met in the
    previous frame (an evaluation or a probe result shown again) is referred to, not copied."""

    def __init__(self) -> None:
        self.arrays = ArrayStore()
        self.objects: list[Tree] = []
        self._previous: dict[int, tuple[object, int]] = {}
        self._current: dict[int, tuple[object, int]] = {}

    def next_frame(self) -> None:
        """Objects of the frame just encoded become the ones a new frame may refer to (they are
        kept alive here, so their ids cannot be reused meanwhile)."""
        self._previous, self._current = self._current, {}

    def encode(self, v: Any) -> Tree:
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, np.ndarray):
            return {"a": self.arrays.put(v)}
        if isinstance(v, np.generic):
            return {"n": [v.dtype.str, v.item()]}
        if isinstance(v, tuple):
            return {"t": [self.encode(x) for x in v]}
        if isinstance(v, list):
            return [self.encode(x) for x in v]
        if isinstance(v, dict):
            return {"d": [[self.encode(k), self.encode(x)] for k, x in v.items()]}
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return {"o": self._object(v)}
        raise RecordingError(f"cannot record a {type(v).__name__}")

    def _object(self, v: Any) -> int:
        seen = self._current.get(id(v)) or self._previous.get(id(v))
        if seen is not None and seen[0] is v:
            self._current[id(v)] = seen
            return seen[1]
        cls = type(v)
        fields = {f.name: self.encode(getattr(v, f.name)) for f in dataclasses.fields(v)}
        self.objects.append({"c": f"{cls.__module__}:{cls.__qualname__}", "f": fields})
        ref = len(self.objects) - 1
        self._current[id(v)] = (v, ref)
        return ref


class Decoder:
    """Trees back to values; each object decoded once (shared instances stay shared)."""

    def __init__(self, objects: list[Tree], index: list[list[Any]], blobs: dict[str, bytes]):
        self.objects, self.index = objects, index
        self._stores = {}
        for store, raw in blobs.items():
            dt = np.dtype(store.removeprefix("x"))
            shuffled = _shuffled(store)
            self._stores[store] = _unshuffle(raw, dt) if shuffled else np.frombuffer(raw, dt)
        self._decoded: dict[int, Any] = {}
        self._arrays: dict[int, np.ndarray] = {}
        # Every class the file names is checked now: a refused one fails the open, not a frame.
        self._classes = {name: _dataclass(name) for name in {o["c"] for o in objects}}

    def decode(self, t: Tree) -> Any:
        if t is None or isinstance(t, (bool, int, float, str)):
            return t
        if isinstance(t, list):
            return [self.decode(x) for x in t]
        if not isinstance(t, dict) or len(t) != 1:
            raise RecordingError("malformed value")
        ((kind, body),) = t.items()
        if kind == "a":
            return self._array(body)
        if kind == "o":
            return self._object(body)
        if kind == "t":
            return tuple(self.decode(x) for x in body)
        if kind == "d":
            return {self.decode(k): self.decode(x) for k, x in body}
        if kind == "n":
            return np.dtype(body[0]).type(body[1])
        raise RecordingError(f"malformed value (kind {kind!r})")

    def _array(self, i: int) -> np.ndarray:
        a = self._arrays.get(i)
        if a is None:
            store, offset, count, shape, dtype, delta, ref = self.index[i]
            flat = self._stores[store][offset : offset + count]
            if len(flat) != count:
                raise RecordingError("an array runs past the end of its buffer")
            if ref >= 0:
                if not ref < i:
                    raise RecordingError("an array refers forward")
                base = self._array(ref).reshape(-1)
                a = (flat ^ base.view(flat.dtype)).view(np.dtype(dtype))
            else:
                a = (np.cumsum(flat, dtype=np.int64) if delta else flat).astype(np.dtype(dtype))
            a = a.reshape(shape)
            a.setflags(write=False)
            self._arrays[i] = a
        return a

    def _object(self, i: int) -> Any:
        if i in self._decoded:
            return self._decoded[i]
        if not isinstance(i, int) or not 0 <= i < len(self.objects):
            raise RecordingError("a reference to a missing object")
        tree = self.objects[i]
        cls = self._classes[tree["c"]]
        values = {name: self.decode(v) for name, v in tree["f"].items()}
        init = {f.name for f in dataclasses.fields(cls) if f.init}
        obj = cls(**{k: v for k, v in values.items() if k in init})
        for k, v in values.items():
            if k not in init:
                object.__setattr__(obj, k, v)
        self._decoded[i] = obj
        return obj


def _dataclass(name: str) -> type:
    """The dataclass ``module:QualName`` names, from bnviz only (never anything else)."""
    module, _, qualname = name.partition(":")
    parts = module.split(".")
    if parts[0] != "bnviz" or len(parts) < 3 or parts[1] not in READABLE or "__main__" in parts:
        raise RecordingError(f"refused class {name!r} (not a bnviz dataclass)")
    if not qualname.isidentifier():
        raise RecordingError(f"refused class {name!r} (not a bnviz dataclass)")
    try:
        cls = getattr(importlib.import_module(module), qualname)
    except (ImportError, AttributeError):
        raise RecordingError(f"unknown class {name!r}") from None
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise RecordingError(f"refused class {name!r} (not a bnviz dataclass)")
    return cls
