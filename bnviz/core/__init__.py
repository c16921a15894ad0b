"""Qt-free training core: network, layers, optimizers, data, trainer, snapshots, sweeps."""

from __future__ import annotations

from bnviz.core.config import ConfigError, TrainConfig
from bnviz.core.datasets import BUILTIN_DATASETS, DataError, Dataset, load_dataset, make_dataset
from bnviz.core.history import RunHistory
from bnviz.core.network import MLP, ModelFileError
from bnviz.core.optim import OPTIMIZERS, Hyper, Optimizer
from bnviz.core.snapshot import Snapshot
from bnviz.core.trainer import Trainer

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
]
