"""bnviz: watch batch norm, softmax and hyperparameter search while a NumPy network trains."""

from __future__ import annotations

from bnviz.core import (
    BUILTIN_DATASETS,
    MLP,
    OPTIMIZERS,
    ConfigError,
    DataError,
    Dataset,
    Hyper,
    ModelFileError,
    Optimizer,
    RunHistory,
    Snapshot,
    TrainConfig,
    Trainer,
    load_dataset,
    make_dataset,
)

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
    "load_dataset",
    "make_dataset",
    "__version__",
]
