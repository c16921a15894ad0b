"""Load user data from .npz or .csv files, refusing bad files with one clear message.

A learner who drops in a file should learn exactly what is wrong with it ("data.npz: label
array 'y' has 3 NaN values"), not read a NumPy traceback. Every check here therefore raises
`DataError` naming the file and the problem. Files are never unpickled: ``np.load`` always runs
with ``allow_pickle=False`` and object arrays are refused.
"""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path

import numpy as np

from bnviz.data.budget import check_budget, format_size
from bnviz.data.csv_reader import Progress, read_numeric_csv
from bnviz.data.dataset import DataError, Dataset, standardize_split
from bnviz.data.npz_header import array_names, check_members, read_members

SUFFIXES = (".npz", ".csv")
PLAIN_KEYS = ("X", "y")
KERAS_KEYS = ("x_train", "y_train", "x_test", "y_test")
# Labels are class indices feeding a softmax of max(y)+1 outputs; a stray huge label (an ID
# column used as the label by mistake) would allocate a giant output layer.
MAX_LABEL = 999
# Fewer and a validation accuracy is 0%, 50% or 100%, and the split leaves nothing to learn from.
MIN_TRAIN, MIN_VAL = 4, 2

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None, tuple[int, int] | None]


class LoadCancelled(Exception):
    """Raised by a ``progress`` callback to stop a load (the window's Cancel)."""


def load_file(
    path: str | os.PathLike[str],
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
    progress: Progress | None = None,
) -> Dataset:
    """Load a .npz or .csv file into a standardized `Dataset`.

    Parameters
    ----------
    path : a ``.npz`` with ``X``/``y`` (or Keras ``x_train``, ``y_train``, ``x_test``,
        ``y_test``, whose test part becomes the validation set), or a numeric ``.csv`` whose
        last column is the label.
    val_fraction : share held out for validation when the file has no test part.
    seed : seeds the shuffle/split.
    progress : called with the share done (0..1) as a .csv is read and when the file is read;
        it may raise (e.g. :class:`LoadCancelled`) to stop the load.

    Raises
    ------
    DataError
        With one message naming the file and what is wrong with it.
    """
    p = _check_path(path)
    try:
        return _load(p, val_fraction, seed, progress)
    except MemoryError:  # past the budget's estimate: a copy too many on a full machine
        raise DataError(f"{p.name}: does not fit in memory ({format_size(p.stat().st_size)} "
                        "on disk); free memory or use a smaller file") from None  # fmt: skip


def _load(p: Path, val_fraction: float, seed: int, progress: Progress | None) -> Dataset:
    if p.suffix.lower() == ".npz":
        X, y, X_val, y_val, image_shape = load_npz_arrays(p)
    else:
        (X, y), X_val, y_val, image_shape = load_csv_arrays(p, progress), None, None, None
    if progress is not None:
        progress(1.0)
    labels = y if y_val is None else np.concatenate([y, y_val])
    present = np.unique(labels)
    if present.size < 2:
        raise DataError(f"{p.name}: all labels are {labels[0]}; need at least 2 classes")
    # The labels present become classes 0..K-1 (labels {0, 7} are 2 classes, not 8), keeping
    # their own names for the axes and the confusion matrix.
    y = np.searchsorted(present, y)
    if y_val is not None:
        y_val = np.searchsorted(present, y_val)
    ds = standardize_split(
        X,
        y,
        val_fraction=val_fraction,
        seed=seed,
        name=p.name,
        image_shape=image_shape,
        n_classes=int(present.size),
        X_val=X_val,
        y_val=y_val,
        class_names=tuple(f"{v:g}" for v in present),
    )
    if len(ds.y_train) < MIN_TRAIN or len(ds.y_val) < MIN_VAL:
        raise DataError(
            f"{p.name}: {len(ds.y_train)} training and {len(ds.y_val)} validation examples are "
            f"too few to train and validate on (at least {MIN_TRAIN} and {MIN_VAL} are needed)"
        )
    return ds


def _check_path(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if "\0" in str(p):  # the OS cannot name such a file; Python says ValueError
        raise DataError(f"{p.name!r}: a file name cannot hold a NUL character")
    try:
        if not p.exists():
            raise DataError(f"{p}: file not found")
        if p.is_dir():
            raise DataError(f"{p}: is a folder, not a data file")
        if p.suffix.lower() not in SUFFIXES:
            raise DataError(
                f"{p.name}: unknown file type {p.suffix or '(no extension)'!r}; "
                "expected .npz or .csv"
            )
        if not p.is_file():  # a FIFO or a device would block or never end
            raise DataError(f"{p.name}: not a regular file")
        if p.stat().st_size == 0:
            raise DataError(f"{p.name}: file is empty")
    except OSError as e:  # a name too long, a folder we may not enter
        raise DataError(f"{p.name[:80]}: cannot be read ({e.strerror or e})") from None
    return p


def load_npz_arrays(path: str | os.PathLike[str]) -> Arrays:
    """Read and validate the arrays of an .npz file.

    Returns
    -------
    X : (m, n) float64, or the file's integer type; images flattened; y : (m,) int64;
    X_val, y_val : the Keras ``x_test``/``y_test`` pair, or None;
    image_shape : (h, w) when X held (m, h, w) or (m, h, w, 1) images, else None.
    """
    p = _check_path(path)
    with open(p, "rb") as f:
        magic = f.read(6)
    if magic == b"\x93NUMPY":  # refused unread: its header may declare any size
        raise DataError(
            f"{p.name}: holds a single array, not an .npz archive; "
            f"save with np.savez(path, X=..., y=...)"
        )
    if not zipfile.is_zipfile(p):
        # np.load would try to unpickle anything else and talk about allow_pickle: say what it is
        raise DataError(f"{p.name}: not an .npz archive (save with np.savez(path, X=..., y=...))")
    keys = _pick_keys(p.name, array_names(p))
    check_members(p.name, read_members(p, keys), keys)  # sizes from the headers, nothing read
    try:
        data = np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{p.name}: not a valid .npz archive ({exc})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise DataError(
            f"{p.name}: holds a single array, not an .npz archive; "
            f"save with np.savez(path, X=..., y=...)"
        )
    with data:
        keys = _pick_keys(p.name, data.files)
        arrays = [_read_array(p.name, data, k) for k in keys]
    image_shape = _image_shape(arrays[0])
    X, y = _check_pair(p.name, arrays[0], arrays[1], keys[0], keys[1])
    if len(keys) == 2:
        return X, y, None, None, image_shape
    X_val, y_val = _check_pair(p.name, arrays[2], arrays[3], keys[2], keys[3])
    if X_val.shape[1] != X.shape[1]:
        raise DataError(
            f"{p.name}: 'x_test' has {X_val.shape[1]} features per row but 'x_train' has "
            f"{X.shape[1]}"
        )
    return X, y, X_val, y_val, image_shape


def _pick_keys(name: str, found: list[str]) -> tuple[str, ...]:
    if all(k in found for k in PLAIN_KEYS):
        return PLAIN_KEYS
    if all(k in found for k in KERAS_KEYS):
        return KERAS_KEYS
    layout = KERAS_KEYS if any(k in found for k in KERAS_KEYS) else PLAIN_KEYS
    missing = ", ".join(repr(k) for k in layout if k not in found)
    have = ", ".join(repr(k) for k in found) or "no arrays"
    raise DataError(
        f"{name}: missing array {missing}; found {have}; expected 'X' and 'y' "
        f"(or Keras-style 'x_train', 'y_train', 'x_test', 'y_test')"
    )


def _read_array(name: str, data: np.lib.npyio.NpzFile, key: str) -> np.ndarray:
    try:
        a = data[key]
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise DataError(
                f"{name}: array {key!r} holds Python objects (dtype=object); bnviz never "
                f"unpickles files, save plain numeric arrays"
            ) from None
        raise DataError(f"{name}: array {key!r} cannot be read ({exc})") from None
    except (OSError, EOFError, zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
        raise DataError(f"{name}: array {key!r} cannot be read ({exc})") from None
    except MemoryError:
        raise DataError(f"{name}: array {key!r} does not fit in memory") from None
    if a.dtype.kind not in "biuf":
        raise DataError(f"{name}: array {key!r} has dtype {a.dtype}, expected numbers")
    return a


def _image_shape(X: np.ndarray) -> tuple[int, int] | None:
    if X.ndim == 3 or (X.ndim == 4 and X.shape[3] == 1):
        return int(X.shape[1]), int(X.shape[2])
    return None


def load_csv_arrays(
    path: str | os.PathLike[str], progress: Progress | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Read a comma-separated numeric file; the last column is the label.

    A first row with any non-numeric cell is taken as a header and skipped; blank lines are
    ignored. Errors give the 1-based line number as shown in a text editor.

    Returns
    -------
    X : (m, n) float64; y : (m,) int64.
    """
    p = _check_path(path)
    # a float64 per value takes about what its text does ("0.123456,"): the file's size
    check_budget(p.name, p.stat().st_size, "its values")
    fast = read_numeric_csv(p, progress)
    if fast is not None and fast.shape[1] >= 2:
        return _check_pair(p.name, fast[:, :-1], fast[:, -1], "features", "label column")
    # Not plainly numeric: read cell by cell to name the row and column at fault.
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            rows = [(i, r) for i, r in enumerate(csv.reader(fh), 1) if any(c.strip() for c in r)]
    except UnicodeDecodeError:
        raise DataError(f"{p.name}: not a text file (cannot decode as UTF-8)") from None
    except csv.Error as exc:
        raise DataError(f"{p.name}: not a valid CSV file ({exc})") from None
    if rows and not all(_is_number(c) for c in rows[0][1]):
        rows = rows[1:]
    if not rows:
        raise DataError(f"{p.name}: no data rows")
    width = len(rows[0][1])
    if width < 2:
        raise DataError(
            f"{p.name}: needs at least 2 comma-separated columns (features, then the label), "
            f"found 1"
        )
    values = np.empty((len(rows), width))
    for r, (line, cells) in enumerate(rows):
        if len(cells) != width:
            raise DataError(f"{p.name}: row {line} has {len(cells)} columns, expected {width}")
        for c, cell in enumerate(cells):
            if not _is_number(cell):
                raise DataError(
                    f"{p.name}: row {line}, column {c + 1}: {cell.strip()!r} is not a number"
                )
            values[r, c] = float(cell)
    return _check_pair(p.name, values[:, :-1], values[:, -1], "features", "label column")


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _describe(key: str, role: str) -> str:
    """'label array 'y'' for npz keys; csv passes a ready description like 'label column'."""
    return f"{role} array {key!r}" if key in PLAIN_KEYS + KERAS_KEYS else key


def _check_pair(
    name: str, X: np.ndarray, y: np.ndarray, x_key: str, y_key: str
) -> tuple[np.ndarray, np.ndarray]:
    """Validate one (features, labels) pair; return (m, n) features and (m,) int64 labels.

    Integer features keep their type (60,000 MNIST images are 47 MB as uint8, 376 MB as
    float64); floats become float64. :func:`~bnviz.data.dataset.standardize_split` converts."""
    xd, yd = _describe(x_key, "feature"), _describe(y_key, "label")
    if X.ndim > 2:
        # (m, h, w) images become rows of h * w features; (m, 0, w) has no features to infer
        X = X.reshape(len(X), int(np.prod(X.shape[1:])))
    if X.ndim != 2:
        raise DataError(f"{name}: {xd} must be 2-D (examples x features), got shape {X.shape}")
    if len(X) == 0:
        raise DataError(f"{name}: {xd} has no examples (0 rows)")
    if X.shape[1] == 0:
        raise DataError(f"{name}: {xd} has 0 features")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]  # Keras ships labels as (m, 1)
    if y.ndim != 1:
        hint = " (looks one-hot: store class indices, e.g. y.argmax(1))" if y.ndim == 2 else ""
        raise DataError(f"{name}: {yd} must be 1-D, got shape {y.shape}{hint}")
    if len(X) != len(y):
        raise DataError(f"{name}: {xd} has {len(X)} rows but {yd} has {len(y)} labels")
    if X.dtype.kind not in "biu":  # integers (MNIST's uint8 pixels) are finite as they are
        X = np.asarray(X, np.float64)
        _check_finite(name, X, xd)
    return X, _check_labels(name, y, yd)


def _check_finite(name: str, a: np.ndarray, what: str) -> None:
    n_nan, n_inf = int(np.isnan(a).sum()), int(np.isinf(a).sum())
    problems = [f"{n} {kind}" for n, kind in ((n_nan, "NaN"), (n_inf, "infinite")) if n]
    if problems:
        raise DataError(f"{name}: {what} has {' and '.join(problems)} values")


def _check_labels(name: str, y: np.ndarray, what: str) -> np.ndarray:
    y = y.astype(np.float64)
    _check_finite(name, y, what)
    fractional = y[y != np.round(y)]
    if fractional.size:
        raise DataError(
            f"{name}: {what} has {fractional.size} non-integer labels (e.g. {fractional[0]:g}); "
            f"labels must be class indices 0, 1, 2, ..."
        )
    if (y < 0).any():
        raise DataError(
            f"{name}: {what} has negative labels (e.g. {y[y < 0][0]:g}); "
            f"labels must be class indices 0, 1, 2, ..."
        )
    if y.max() > MAX_LABEL:
        raise DataError(
            f"{name}: {what} has label {y.max():g}; labels must be class indices 0..{MAX_LABEL}"
        )
    return y.astype(np.int64)
