"""bnviz: watch batch norm, softmax and hyperparameter search while a NumPy network trains.

The public API, re-exported from the package that holds each piece: the network (``bnviz.nn``),
the data (``bnviz.data``) and the trainer (``bnviz.train``).
"""

from __future__ import annotations

from bnviz.data import BUILTIN_DATASETS, DataError, Dataset, load_dataset, make_dataset
from bnviz.nn import MLP, OPTIMIZERS, Hyper, ModelFileError, Optimizer, softmax
from bnviz.train import ConfigError, RunHistory, Snapshot, TrainConfig, Trainer

__version__ = "0.1.0"
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
