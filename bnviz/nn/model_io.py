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
    refuses anything else with a clear message."""
    name = Path(path).name
    if Path(path).is_file() and not zipfile.is_zipfile(path):
        raise ModelFileError(f"{name}: not a bnviz model (.npz) file")
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise ModelFileError(f"{name}: no such file") from None
    except ValueError as e:
        raise ModelFileError(f"{name}: holds pickled objects, refused ({e})") from None
    except Exception as e:  # zipfile.BadZipFile, OSError, EOFError...
        raise ModelFileError(f"{name}: not a bnviz model (.npz) file ({e})") from None
    missing = [k for k in ("__sizes__", "__activation__", "__batchnorm__") if k not in data]
    if missing:
        raise ModelFileError(f"{name}: not a bnviz model, missing {', '.join(missing)}")
    net = cls(
        data["__sizes__"].tolist(),
        activation=str(data["__activation__"]),
        batchnorm=bool(data["__batchnorm__"]),
        bn_momentum=float(data.get("__bn_momentum__", DEFAULT_BN_MOMENTUM)),
        eps=float(data.get("__eps__", BN_EPS)),
        dtype=str(data.get("__dtype__", "float32")),
    )
    for key, target in [*net.params.items(), *net.buffers.items()]:
        if key not in data:
            raise ModelFileError(f"{name}: missing array {key}")
        if data[key].shape != target.shape:
            raise ModelFileError(
                f"{name}: {key} has shape {data[key].shape}, expected {target.shape}"
            )
        target[...] = data[key]
    if "__input_mean__" in data and "__input_std__" in data:  # files before 0.2 have none
        set_scaling = getattr(net, "set_input_scaling", None)
        if set_scaling is not None:
            try:
                set_scaling(data["__input_mean__"], data["__input_std__"])
            except ValueError as e:
                raise ModelFileError(f"{name}: bad input standardization ({e})") from None
    return net
