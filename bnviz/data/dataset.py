"""The `Dataset` every trainer and plot consumes, and `standardize_split`, the one place where
shuffling, the train/validation split and standardization happen, so built-in data
(:mod:`bnviz.data.datasets`) and user files (:mod:`bnviz.data.files`) are treated identically.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import DTypeLike

# A constant feature has std 0 in theory but ~1e-17 after rounding; dividing by that would blow
# it up to huge values, so stds this small (relative to the mean) count as zero.
STD_EPS = 1e-8


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
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > STD_EPS * (1.0 + np.abs(mean)), std, 1.0)
    return mean, std


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
    X, y = np.asarray(X, np.float64)[order], np.asarray(y, np.int64)[order]
    if X_val is None or y_val is None:
        X, y, X_val, y_val = _split(X, y, val_fraction, name)
    X_val, y_val = np.asarray(X_val, np.float64), np.asarray(y_val, np.int64)
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
        X_train=_frozen((X - mean) / std, np.float32),
        y_train=_frozen(y, np.int64),
        X_val=_frozen((X_val - mean) / std, np.float32),
        y_val=_frozen(y_val, np.int64),
        n_classes=int(n_classes),
        mean=_frozen(mean, np.float32),
        std=_frozen(std, np.float32),
        image_shape=image_shape,
        class_names=class_names,
    )
