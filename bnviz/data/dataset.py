"""The `Dataset` every trainer and plot consumes, and `standardize_split`, the one place where
shuffling, the train/validation split and standardization happen, so built-in data
(:mod:`bnviz.data.datasets`) and user files (:mod:`bnviz.data.files`) are treated identically.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import DTypeLike

# A constant feature has std 0 in theory but ~1e-17 after rounding; dividing by that would blow
# it up to huge values, so stds this small (relative to the mean) count as zero.
STD_EPS = 1e-8
# Standardizing works on blocks of rows of this many values (8 MB in float64): a 60,000-image
# file is never copied whole in float64 (376 MB), and a loading thread lets go of the GIL often.
BLOCK_VALUES = 1 << 20


class DataError(ValueError):
    """A data set that cannot be used, with one human-readable message saying why.

    Subclasses `ValueError` so generic callers still catch it; the GUI shows the message as-is,
    so it always names the file (or data set) and the problem.
    """


@dataclass(frozen=True)
class Dataset:
    """A standardized train/validation split, ready to feed a network.

    Arrays are read-only: a Dataset is shared between the GUI thread and training workers, so
    nobody may mutate it in place (index it to get a private copy).

    Attributes
    ----------
    X_train : (m_train, n) float32, standardized with the training mean/std.
    y_train : (m_train,) int64 class indices in 0..n_classes-1.
    X_val : (m_val, n) float32, standardized with the *training* statistics, so validation
        accuracy measures generalization rather than leaking validation statistics.
    y_val : (m_val,) int64.
    mean, std : (n,) float32 training statistics (std 1 where a feature is constant).
    image_shape : (h, w) when rows are flattened images, else None.
    class_names : one name per class; filled with "0", "1", ... when left empty.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    n_classes: int
    mean: np.ndarray
    std: np.ndarray
    image_shape: tuple[int, int] | None = None
    class_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.class_names:
            object.__setattr__(self, "class_names", tuple(str(i) for i in range(self.n_classes)))

    @cached_property
    def extent(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-feature (min, max) over the training and validation rows, each (n,) float32,
        computed once: views drawn several times a second need the data's range, and a
        million rows take ~90 ms to scan."""
        lo = np.minimum(self.X_train.min(axis=0), self.X_val.min(axis=0))
        hi = np.maximum(self.X_train.max(axis=0), self.X_val.max(axis=0))
        return lo, hi

    @property
    def n_features(self) -> int:
        """Number of input features n (64 for digits, 2 for the planar sets)."""
        return int(self.X_train.shape[1])

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Undo standardization, ``X * std + mean``, to show images or plot in data units.

        Parameters
        ----------
        X : (m, n) standardized rows (e.g. a slice of `X_train`).

        Returns
        -------
        (m, n) array in the original units.
        """
        return X * self.std + self.mean


def _standardize(X_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The per-feature mean and std of ``X_train`` (m, n), in float64, a block of rows at a time
    (two passes: the mean, then the squared deviations from it), so no (m, n) float64 copy of
    the data is made."""
    m = len(X_train)
    total = np.zeros(X_train.shape[1])
    for _, block in _blocks(X_train):
        total += block.sum(axis=0, dtype=np.float64)
    mean = total / m
    squares = np.zeros_like(mean)
    for _, block in _blocks(X_train):
        d = block - mean
        squares += np.einsum("ij,ij->j", d, d)
    std = np.sqrt(squares / m)
    std = np.where(std > STD_EPS * (1.0 + np.abs(mean)), std, 1.0)
    return mean, std


def _blocks(X: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
    """Consecutive row blocks of ``X`` of about :data:`BLOCK_VALUES` values each, with their
    rows."""
    rows = _block_rows(X)
    for start in range(0, len(X), rows):
        where = slice(start, start + rows)
        yield where, X[where]


def _block_rows(X: np.ndarray) -> int:
    return max(1, BLOCK_VALUES // max(1, X.shape[1]))


def _scaled(X: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """``(X - mean) / std`` as a read-only float32 array, computed a block at a time in float64
    (the precision the whole-array formula had) without an (m, n) float64 temporary."""
    out = np.empty(X.shape, np.float32)
    buffer = np.empty((min(len(X), _block_rows(X)), X.shape[1]))
    for where, block in _blocks(X):
        d = buffer[: len(block)]
        np.subtract(block, mean, out=d)
        np.divide(d, std, out=d)
        out[where] = d
    out.setflags(write=False)
    return out


def _frozen(a: np.ndarray, dtype: DTypeLike) -> np.ndarray:
    out: np.ndarray = np.ascontiguousarray(a, dtype=dtype)
    out.setflags(write=False)
    return out


def _split(
    X: np.ndarray, y: np.ndarray, val_fraction: float, name: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out the first round(m * val_fraction) shuffled rows, keeping >= 1 on each side."""
    if len(X) < 2:
        raise DataError(
            f"{name}: needs at least 2 examples to split into training and validation, "
            f"found {len(X)}"
        )
    n_val = min(max(int(round(len(X) * val_fraction)), 1), len(X) - 1)
    return X[n_val:], y[n_val:], X[:n_val], y[:n_val]


def standardize_split(
    X: np.ndarray,
    y: np.ndarray,
    *,
    val_fraction: float,
    seed: int | list[int],
    name: str,
    image_shape: tuple[int, int] | None = None,
    n_classes: int | None = None,
    X_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    class_names: tuple[str, ...] = (),
) -> Dataset:
    """Shuffle, split off a validation set and standardize with the training statistics.

    Parameters
    ----------
    X : (m, n) features; y : (m,) integer labels >= 0 (already validated by the caller).
    val_fraction : share held out, rounded, but always leaving >= 1 row in each part.
    seed : seeds ``np.random.default_rng`` for the shuffle.
    X_val, y_val : a ready-made validation set (Keras ``x_test``/``y_test``); then X is only
        shuffled, not split.
    n_classes : defaults to max label + 1 over train and validation labels.

    Raises
    ------
    DataError
        If there are too few rows to split, or X_val has a different number of features.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    # Shuffled in their own type (uint8 images stay 1 byte a value); floats are float64.
    X = np.asarray(X) if np.asarray(X).dtype.kind in "biu" else np.asarray(X, np.float64)
    X, y = X[order], np.asarray(y, np.int64)[order]
    if X_val is None or y_val is None:
        X, y, X_val, y_val = _split(X, y, val_fraction, name)
    X_val, y_val = np.asarray(X_val), np.asarray(y_val, np.int64)
    if X_val.shape[1:] != X.shape[1:]:
        raise DataError(
            f"{name}: validation rows have {X_val.shape[1:]} features but training rows "
            f"have {X.shape[1:]}"
        )
    if len(X) < 1 or len(X_val) < 1:
        raise DataError(f"{name}: training and validation sets each need at least 1 example")
    top = int(max(y.max(), y_val.max())) + 1
    n_classes = top if n_classes is None else n_classes
    if n_classes < top:
        raise DataError(f"{name}: label {top - 1} is out of range for {n_classes} classes")
    mean, std = _standardize(X)
    return Dataset(
        name=name,
        X_train=_scaled(X, mean, std),
        y_train=_frozen(y, np.int64),
        X_val=_scaled(X_val, mean, std),
        y_val=_frozen(y_val, np.int64),
        n_classes=int(n_classes),
        mean=_frozen(mean, np.float32),
        std=_frozen(std, np.float32),
        image_shape=image_shape,
        class_names=class_names,
    )
