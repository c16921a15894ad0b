"""Built-in data sets and the `Dataset` every trainer and plot consumes.

The 2-D generators exist so a learner can *see* a decision boundary form; the digits set exists
so the same network can be watched on a real (if tiny) image task. Everything ends in
`standardize_split`, the one place where shuffling, the train/validation split and
standardization happen, so built-in and user data are treated identically.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files

import numpy as np

BUILTIN_DATASETS = ("spirals", "blobs", "rings", "moons", "xor", "digits")
DEFAULT_SAMPLES = 600
MIN_CLASSES, MAX_CLASSES = 2, 10
# Spiral angle noise is 2 * noise radians, so the default noise=0.1 reproduces the classic
# CS231n spiral (randn * 0.2): clearly noisy arms that a small MLP still separates.
SPIRAL_ANGLE_SCALE = 2.0
SPIRAL_TURN = 4.0  # radians each arm sweeps, as in CS231n
BLOB_STD = 0.2  # the blob's own spread; `noise` jitters on top of it
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


def _class_counts(n_samples: int, n_classes: int) -> np.ndarray:
    """Split n_samples as evenly as possible, so every class is present."""
    counts = np.full(n_classes, n_samples // n_classes)
    counts[: n_samples % n_classes] += 1
    return counts


def _labels(counts: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(counts)), counts)


def _spirals(counts: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """CS231n spiral: radius 0..1 along each arm, noise on the angle (arms evenly rotated)."""
    parts = []
    for j, k in enumerate(counts):
        r = np.linspace(0.0, 1.0, k)
        start = 2 * np.pi * j / len(counts)
        t = np.linspace(start, start + SPIRAL_TURN, k) + rng.standard_normal(k) * noise * (
            SPIRAL_ANGLE_SCALE
        )
        parts.append(np.c_[r * np.sin(t), r * np.cos(t)])
    return np.concatenate(parts)


def _blobs(counts: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian blobs with centres evenly spaced on the unit circle."""
    angles = 2 * np.pi * np.arange(len(counts)) / len(counts)
    centres = np.repeat(np.c_[np.cos(angles), np.sin(angles)], counts, axis=0)
    return centres + rng.standard_normal(centres.shape) * (BLOB_STD + noise)


def _rings(counts: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Concentric rings of radius 1/C, 2/C, ..., 1; noise jitters the points off the ring."""
    radius = np.repeat((np.arange(len(counts)) + 1) / len(counts), counts)
    t = rng.uniform(0, 2 * np.pi, radius.size)
    X = np.c_[radius * np.cos(t), radius * np.sin(t)]
    return X + rng.standard_normal(X.shape) * noise


def _moons(counts: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """A chain of interleaving half circles; C = 2 is the familiar two-moons picture.

    Moon k is centred at (k, 0.5 * (k % 2)) and opens downwards for odd k, so each neighbouring
    pair interleaves exactly like scikit-learn's make_moons. This lets C > 2 work instead of
    refusing the GUI's class count.
    """
    parts = []
    for k, m in enumerate(counts):
        t = rng.uniform(0, np.pi, m)
        sign = -1.0 if k % 2 else 1.0
        parts.append(np.c_[k + np.cos(t), 0.5 * (k % 2) + sign * np.sin(t)])
    X = np.concatenate(parts)
    return X + rng.standard_normal(X.shape) * noise


def _make_xor(
    n_samples: int, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points in [-1, 1]^2 labelled by quadrant parity; noise blurs the axes."""
    X = rng.uniform(-1, 1, (n_samples, 2))
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64)
    return X + rng.standard_normal(X.shape) * noise, y


_GENERATORS: dict[str, Callable[[np.ndarray, float, np.random.Generator], np.ndarray]] = {
    "spirals": _spirals,
    "blobs": _blobs,
    "rings": _rings,
    "moons": _moons,
}


def _check_params(name: str, n_classes: int, noise: float, n_samples: int, vf: float) -> None:
    if name != "xor" and not MIN_CLASSES <= n_classes <= MAX_CLASSES:
        raise DataError(f"{name}: n_classes must be {MIN_CLASSES}..{MAX_CLASSES}, got {n_classes}")
    if not (np.isfinite(noise) and noise >= 0):
        raise DataError(f"{name}: noise must be >= 0 (0 = clean), got {noise}")
    need = 2 * (2 if name == "xor" else n_classes)
    if n_samples < need:
        raise DataError(f"{name}: n_samples must be at least {need} (2 per class), got {n_samples}")
    if not 0 < vf < 1:
        raise DataError(f"{name}: val_fraction must be between 0 and 1, got {vf}")


def make_dataset(
    name: str,
    *,
    n_classes: int = 3,
    noise: float = 0.1,
    n_samples: int = DEFAULT_SAMPLES,
    val_fraction: float = 0.2,
    seed: int = 0,
) -> Dataset:
    """Generate (or, for digits, load) a built-in data set.

    Parameters
    ----------
    name : one of `BUILTIN_DATASETS`.
    n_classes : 2..10 classes for spirals/blobs/rings/moons; xor is always 2 classes and
        digits always 10, so both ignore it.
    noise : >= 0, 0 gives the clean shape. Spirals: angle noise of 2*noise radians (0.1 is the
        classic CS231n spiral). Others: Gaussian jitter of std `noise` on the coordinates.
    n_samples : total points (>= 2 per class); ignored by digits (1797 images).
    val_fraction : share of the shuffled points held out for validation, in (0, 1).
    seed : the only source of randomness; the same seed gives identical arrays.

    Returns
    -------
    Dataset with (m, 2) features (digits: (m, 64) with image_shape (8, 8)).
    """
    if name == "digits":
        if not 0 < val_fraction < 1:
            raise DataError(f"digits: val_fraction must be between 0 and 1, got {val_fraction}")
        return load_digits(val_fraction=val_fraction, seed=seed)
    if name not in BUILTIN_DATASETS:
        raise DataError(f"unknown data set {name!r}; choose one of {', '.join(BUILTIN_DATASETS)}")
    _check_params(name, n_classes, noise, n_samples, val_fraction)
    # Generation and the split draw from separate streams, so changing val_fraction does not
    # change the points themselves.
    gen_rng, split_seed = np.random.default_rng([seed, 0]), [seed, 1]
    if name == "xor":
        X, y = _make_xor(n_samples, noise, gen_rng)
        n_classes = 2
    else:
        counts = _class_counts(n_samples, n_classes)
        X, y = _GENERATORS[name](counts, noise, gen_rng), _labels(counts)
    return standardize_split(
        X, y, val_fraction=val_fraction, seed=split_seed, name=name, n_classes=n_classes
    )


def load_digits(*, val_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """The shipped 8x8 digits (1797 images, pixel counts 0..16), see ``assets/DATA.md``."""
    with (files("bnviz") / "assets" / "digits.npz").open("rb") as fh:
        with np.load(fh, allow_pickle=False) as data:
            X, y = data["X"].astype(np.float64), data["y"].astype(np.int64)
    return standardize_split(
        X,
        y,
        val_fraction=val_fraction,
        seed=seed,
        name="digits",
        image_shape=(8, 8),
        n_classes=10,
        class_names=tuple(str(i) for i in range(10)),
    )


def load_dataset(
    name_or_path: str | os.PathLike,
    *,
    n_classes: int = 3,
    noise: float = 0.1,
    n_samples: int = DEFAULT_SAMPLES,
    val_fraction: float = 0.2,
    seed: int = 0,
) -> Dataset:
    """A built-in name goes to `make_dataset`, anything else is a .npz/.csv path.

    Raises
    ------
    DataError
        For bad parameters, unknown names, or any problem with a user file.
    """
    if isinstance(name_or_path, str) and name_or_path.strip().lower() in BUILTIN_DATASETS:
        return make_dataset(
            name_or_path.strip().lower(),
            n_classes=n_classes,
            noise=noise,
            n_samples=n_samples,
            val_fraction=val_fraction,
            seed=seed,
        )
    if not os.path.splitext(name_or_path)[1] and not os.path.exists(name_or_path):
        raise DataError(
            f"unknown data set {str(name_or_path)!r}; choose one of "
            f"{', '.join(BUILTIN_DATASETS)} or give a .npz/.csv file"
        )
    from bnviz.core.data_io import load_file  # deferred: data_io imports this module

    return load_file(name_or_path, val_fraction=val_fraction, seed=seed)


def _standardize(X_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > STD_EPS * (1.0 + np.abs(mean)), std, 1.0)
    return mean, std


def _frozen(a: np.ndarray, dtype: type) -> np.ndarray:
    out = np.ascontiguousarray(a, dtype=dtype)
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
