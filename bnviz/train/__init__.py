"""Training: the configuration and its parameter registry, the trainer (twin networks on the
same mini-batches), immutable snapshots, histories, the training process and its protocol.

Imports ``bnviz.nn`` and ``bnviz.data``.
"""

from __future__ import annotations

from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.history import RunHistory
from bnviz.train.snapshot import Snapshot
from bnviz.train.trainer import Trainer

__all__ = ["ConfigError", "RunHistory", "Snapshot", "TrainConfig", "Trainer"]
