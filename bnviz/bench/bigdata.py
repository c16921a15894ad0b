"""The two big data files ``bnviz bench --gui`` is measured on, generated reproducibly.

The issue's targets name an MNIST-size file and a 1,000,000-row CSV; neither is shipped (tens of
megabytes), so this module writes look-alikes from a seed, in the layouts
:mod:`bnviz.data.files` reads:

- ``mnist_like.npz``: Keras layout (``x_train`` (60000, 28, 28) uint8, ``y_train`` (60000,)
  uint8, ``x_test`` (10000, 28, 28), ``y_test`` (10000,)), as ``keras.datasets.mnist.load_data``
  gives. Each class is a fixed random blurred stroke pattern, shifted by a pixel or two and
  drawn over noise, so a 784-256-256-10 network learns it (to high, not perfect, accuracy).
- ``spirals_1m.csv``: 1,000,000 rows ``x1,x2,label`` with a header, three noisy spiral arms.

``bnviz bench --make-bigdata DIR`` (or ``python -m bnviz.bench.bigdata DIR``) writes both.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

MNIST_NAME = "mnist_like.npz"
CSV_NAME = "spirals_1m.csv"
SIDE = 28
CLASSES = 10
MNIST_TRAIN, MNIST_TEST = 60_000, 10_000
CSV_ROWS = 1_000_000
CSV_ARMS = 3
CHUNK = 100_000  # images or CSV rows made (and written) at a time, to bound memory


def class_patterns(rng: np.random.Generator) -> np.ndarray:
    """One smooth random pattern per class.

    Returns
    -------
    (CLASSES, SIDE, SIDE) float64 in [0, 1]: a few random strokes, blurred.
    """
    out = np.zeros((CLASSES, SIDE, SIDE))
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    for k in range(CLASSES):
        for _ in range(4):  # a stroke: a line of Gaussian blobs between two random points
            (y0, x0), (y1, x1) = rng.uniform(5, SIDE - 5, size=(2, 2))
            for t in np.linspace(0, 1, 12):
                cy, cx = y0 + t * (y1 - y0), x0 + t * (x1 - x0)
                out[k] += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 4.0)
        out[k] /= out[k].max()
    return out


def mnist_like_images(
    labels: np.ndarray, patterns: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Images of ``labels`` (m,): each class's pattern shifted by up to 2 pixels, its
    brightness varied, over noise.

    Returns
    -------
    (m, SIDE, SIDE) uint8.
    """
    m = len(labels)
    images = np.empty((m, SIDE, SIDE), dtype=np.uint8)
    for start in range(0, m, CHUNK):
        y = labels[start : start + CHUNK]
        x = patterns[y] * rng.uniform(0.6, 1.0, size=(len(y), 1, 1))
        shifts = rng.integers(-2, 3, size=(len(y), 2))
        for dy in range(-2, 3):  # a shift per image, done per distinct shift (25 rolls)
            for dx in range(-2, 3):
                sel = (shifts[:, 0] == dy) & (shifts[:, 1] == dx)
                x[sel] = np.roll(x[sel], (dy, dx), axis=(1, 2))
        x += rng.normal(0.0, 0.25, size=x.shape)
        images[start : start + len(y)] = np.clip(255 * x, 0, 255).astype(np.uint8)
    return images


def write_mnist_like(
    path: Path, seed: int = 0, n_train: int = MNIST_TRAIN, n_test: int = MNIST_TEST
) -> Path:
    """Write the Keras-layout .npz (MNIST's size by default) to ``path``; returns ``path``."""
    rng = np.random.default_rng(seed)
    patterns = class_patterns(rng)
    y_train = rng.integers(0, CLASSES, size=n_train).astype(np.uint8)
    y_test = rng.integers(0, CLASSES, size=n_test).astype(np.uint8)
    x_train = mnist_like_images(y_train, patterns, rng)
    x_test = mnist_like_images(y_test, patterns, rng)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


def spiral_rows(m: int, rng: np.random.Generator) -> np.ndarray:
    """``m`` points on CSV_ARMS noisy spiral arms.

    Returns
    -------
    (m, 3) float64: x1, x2, label.
    """
    label = rng.integers(0, CSV_ARMS, size=m)
    r = rng.uniform(0.05, 1.0, size=m)
    theta = 4.0 * r + 2 * np.pi * label / CSV_ARMS + rng.normal(0.0, 0.2, size=m)
    return np.column_stack([r * np.cos(theta), r * np.sin(theta), label])


def write_spirals_csv(path: Path, rows: int = CSV_ROWS, seed: int = 0) -> Path:
    """Write ``rows`` spiral points as ``x1,x2,label`` lines (with a header) to ``path``."""
    rng = np.random.default_rng(seed)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("x1,x2,label\n")
        for start in range(0, rows, CHUNK):
            block = spiral_rows(min(CHUNK, rows - start), rng)
            np.savetxt(fh, block, fmt=["%.5f", "%.5f", "%d"], delimiter=",")
    return path


def make_bigdata(folder: str | Path, seed: int = 0) -> tuple[Path, Path]:
    """Write both files into ``folder`` (created if missing); returns their paths."""
    d = Path(folder)
    d.mkdir(parents=True, exist_ok=True)
    return write_mnist_like(d / MNIST_NAME, seed), write_spirals_csv(d / CSV_NAME, seed=seed)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m bnviz.bench.bigdata DIR\n")
        return 2
    for p in make_bigdata(args[0]):
        print(f"wrote {p} ({p.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
