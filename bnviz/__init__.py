"""bnviz: watch batch norm, softmax and hyperparameter search while a NumPy network trains.

The public API, re-exported from the package that holds each piece: the network (``bnviz.nn``),
the data (``bnviz.data``) and the trainer (``bnviz.train``).

The names are loaded on first use (PEP 562), so ``import bnviz`` itself loads nothing heavy:
the ``bnviz`` command imports NumPy inside its Ctrl-C handler (a Ctrl-C in the first tenths
of a second gets the same one line as later, not Python's traceback), after it has set the
BLAS thread count in the environment, where OpenBLAS reads it when NumPy loads.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bnviz.data import BUILTIN_DATASETS, DataError, Dataset, load_dataset, make_dataset
    from bnviz.nn import MLP, OPTIMIZERS, Hyper, ModelFileError, Optimizer, softmax
    from bnviz.train import ConfigError, RunHistory, Snapshot, TrainConfig, Trainer

__version__ = "0.1.0"
_HOMES = {
    "bnviz.data": ("BUILTIN_DATASETS", "DataError", "Dataset", "load_dataset", "make_dataset"),
    "bnviz.nn": ("MLP", "OPTIMIZERS", "Hyper", "ModelFileError", "Optimizer", "softmax"),
    "bnviz.train": ("ConfigError", "RunHistory", "Snapshot", "TrainConfig", "Trainer"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = [
    "BUILTIN_DATASETS",
    "MLP",
    "OPTIMIZERS",
    "ConfigError",
    "DataError",
    "Dataset",
    "Hyper",
    "ModelFileError",
    "Optimizer",
    "RunHistory",
    "Snapshot",
    "TrainConfig",
    "Trainer",
    "__version__",
    "load_dataset",
    "make_dataset",
    "softmax",
]


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'bnviz' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME_OF})
