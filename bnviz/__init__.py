"""bnviz: watch batch norm, softmax and hyperparameter search while a NumPy network trains."""

from __future__ import annotations

from bnviz import core
from bnviz.core import *  # noqa: F403 (the public API lives in bnviz.core; see its __all__)

__version__ = "0.1.0"
__all__ = [*core.__all__, "__version__"]
