"""Built-in data sets: the 2-D generators and the digits; `load_dataset` also opens user files.

The 2-D generators exist so a learner can *see* a decision boundary form; the digits set exists
so the same network can be watched on a real (if tiny) image task. Everything ends in
:func:`bnviz.data.dataset.standardize_split`, so built-in and user data are treated identically.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib.resources import files

import numpy as np

from bnviz.data.csv_reader import Progress
from bnviz.data.dataset import DataError, Dataset, standardize_split
from bnviz.data.files import load_file

BUILTIN_DATASETS = ("spirals", "blobs", "rings", "moons", "xor", "digits")
DEFAULT_SAMPLES = 600
MIN_CLASSES, MAX_CLASSES = 2, 10
# Spiral angle noise is 2 * noise radians, so the default noise=0.1 reproduces the classic
# CS231n spiral (randn * 0.2): clearly noisy arms that a small MLP still separates.
SPIRAL_ANGLE_SCALE = 2.0
SPIRAL_TURN = 4.0  # radians each arm sweeps, as in CS231n
BLOB_STD = 0.2  # the blob's own spread; `noise` jitters on top of it


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
    name_or_path: str | os.PathLike[str],
    *,
    n_classes: int = 3,
    noise: float = 0.1,
    n_samples: int = DEFAULT_SAMPLES,
    val_fraction: float = 0.2,
    seed: int = 0,
    progress: Progress | None = None,
) -> Dataset:
    """A built-in name goes to `make_dataset`, anything else is a .npz/.csv path (``progress``
    as in :func:`bnviz.data.files.load_file`).

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
    return load_file(name_or_path, val_fraction=val_fraction, seed=seed, progress=progress)
