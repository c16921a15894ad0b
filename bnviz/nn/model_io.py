"""Saving and loading a network: one .npz with the parameters and buffers under their names
(``W1``, ``gamma1``, ``running_mean1``...) and the architecture, read back with
``allow_pickle=False`` so a model file can never run code.

The functions take the network (and, to load, its class) as arguments rather than importing
:mod:`bnviz.nn.network`, which imports this module: the dependency runs one way."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np

from bnviz.nn.layers import BN_EPS, DEFAULT_BN_MOMENTUM

StrPath = str | os.PathLike[str]
# What a model file may describe: the bounds of the training settings (4096 units, 16 layers)
# with room for wide inputs (a 1024 x 1024 image), so a crafted __sizes__ cannot ask for 1e12.
MAX_WIDTH = 1 << 20
MAX_LAYERS = 64
MAX_WEIGHTS = 100_000_000
HEADER_SLACK = 4096  # an npy header is at most a few hundred bytes
_META = ("__activation__", "__batchnorm__", "__bn_momentum__", "__eps__", "__dtype__")


class SavableNet(Protocol):
    """What a model file holds of a network (:class:`~bnviz.nn.network.MLP` has all of it)."""

    @property
    def params(self) -> Mapping[str, np.ndarray]: ...
    @property
    def buffers(self) -> Mapping[str, np.ndarray]: ...
    @property
    def sizes(self) -> Sequence[int]: ...
    @property
    def activation(self) -> str: ...
    @property
    def batchnorm(self) -> bool: ...
    @property
    def bn_momentum(self) -> float: ...
    @property
    def eps(self) -> float: ...
    @property
    def dtype(self) -> np.dtype: ...


NetT = TypeVar("NetT", bound=SavableNet)


class ModelFileError(ValueError):
    """A model file that cannot be loaded; the message says why."""


def save_mlp(net: SavableNet, path: StrPath) -> None:
    """Write params, buffers and the architecture to one .npz (no pickled objects)."""
    arrays = {**net.params, **net.buffers}
    meta = {
        "__sizes__": np.array(net.sizes, dtype=np.int64),
        "__activation__": np.array(net.activation),
        "__batchnorm__": np.array(net.batchnorm),
        "__bn_momentum__": np.array(net.bn_momentum),
        "__eps__": np.array(net.eps),
        "__dtype__": np.array(net.dtype.name),
    }
    mean, std = getattr(net, "input_mean", None), getattr(net, "input_std", None)
    if mean is not None and std is not None:
        meta["__input_mean__"], meta["__input_std__"] = np.asarray(mean), np.asarray(std)
    with open(path, "wb") as f:
        # NumPy's stub types savez(file, *args, allow_pickle: bool, **kwds: ArrayLike), and mypy
        # cannot tell that no key here is "allow_pickle" (they are W1, gamma1, __sizes__...).
        np.savez(f, **arrays, **meta)  # type: ignore[arg-type]


def load_mlp(path: StrPath, cls: Callable[..., NetT]) -> NetT:
    """Read a network written by :func:`save_mlp` as a ``cls`` (:class:`~bnviz.nn.network.MLP`,
    called as ``cls(sizes, activation=..., batchnorm=..., bn_momentum=..., eps=..., dtype=...)``);
    refuses anything else with a clear message.

    The architecture is read and bounded first, then each array is read only if its member's
    declared size fits the array the architecture expects: a crafted file cannot make this
    allocate more than the network itself."""
    name = Path(path).name
    try:
        if Path(path).is_file() and not zipfile.is_zipfile(path):
            raise ModelFileError(f"{name}: not a bnviz model (.npz) file")
        with np.load(path, allow_pickle=False) as f:
            return _read_net(name, f, cls)
    except FileNotFoundError:
        raise ModelFileError(f"{name}: no such file") from None
    except ModelFileError:
        raise
    except MemoryError:
        raise ModelFileError(f"{name}: does not fit in memory") from None
    except ValueError as e:
        if "pickle" in str(e):
            raise ModelFileError(f"{name}: holds pickled objects, refused ({e})") from None
        raise ModelFileError(f"{name}: not a bnviz model ({e})") from None
    except Exception as e:  # zipfile.BadZipFile, OSError, EOFError...
        raise ModelFileError(f"{name}: not a bnviz model (.npz) file ({e})") from None


def _read_net(name: str, f: np.lib.npyio.NpzFile, cls: Callable[..., NetT]) -> NetT:
    # read first: an object array here is refused as pickled, before anything else is said
    sizes = _small(name, f, "__sizes__", MAX_LAYERS + 1) if "__sizes__" in f.files else None
    missing = [k for k in ("__sizes__", "__activation__", "__batchnorm__") if k not in f.files]
    if sizes is None or missing:
        raise ModelFileError(f"{name}: not a bnviz model, missing {', '.join(missing)}")
    if sizes.ndim != 1 or sizes.dtype.kind not in "iu" or len(sizes) < 2:
        raise ModelFileError(f"{name}: __sizes__ must list the layer widths, got {sizes!r}")
    widths = [int(n) for n in sizes]
    n_weights = sum(a * b for a, b in zip(widths, widths[1:]))
    if min(widths) < 1 or max(widths) > MAX_WIDTH or n_weights > MAX_WEIGHTS:
        raise ModelFileError(
            f"{name}: layer widths {widths} are outside what a model may hold (1..{MAX_WIDTH} "
            f"units, at most {MAX_WEIGHTS:,} weights)"
        )
    meta = {k: _small(name, f, k, 64) for k in _META if k in f.files}
    net = cls(
        widths,
        activation=str(meta["__activation__"]),
        batchnorm=bool(meta["__batchnorm__"]),
        bn_momentum=float(meta.get("__bn_momentum__", DEFAULT_BN_MOMENTUM)),
        eps=float(meta.get("__eps__", BN_EPS)),
        dtype=str(meta.get("__dtype__", "float32")),
    )
    for key, target in [*net.params.items(), *net.buffers.items()]:
        if key not in f.files:
            raise ModelFileError(f"{name}: missing array {key}")
        value = _small(name, f, key, target.size)
        if value.shape != target.shape:
            raise ModelFileError(f"{name}: {key} has shape {value.shape}, expected {target.shape}")
        target[...] = value
    if "__input_mean__" in f.files and "__input_std__" in f.files:  # files before 0.2 have none
        set_scaling = getattr(net, "set_input_scaling", None)
        if set_scaling is not None:
            mean = _small(name, f, "__input_mean__", widths[0])
            std = _small(name, f, "__input_std__", widths[0])
            try:
                set_scaling(mean, std)
            except ValueError as e:
                raise ModelFileError(f"{name}: bad input standardization ({e})") from None
    return net


def _small(name: str, f: np.lib.npyio.NpzFile, key: str, count: int) -> np.ndarray:
    """Array ``key``, read only if its member declares at most ``count`` 8-byte values."""
    assert f.zip is not None, "read inside the np.load context"
    info = f.zip.getinfo(f"{key}.npy")
    if info.file_size > count * 16 + HEADER_SLACK:
        raise ModelFileError(
            f"{name}: {key} is {info.file_size:,} bytes, more than its {count:,} values can be"
        )
    return f[key]
