"""bnviz: watch batch norm, softmax and hyperparameter search while a NumPy network trains."""

from __future__ import annotations

__version__ = "0.1.0"
