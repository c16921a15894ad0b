"""The network and its maths: the course's formulas once (``layers``), the fast training step
that calls them (``fastnet``), the MLP, optimizers, parameter layout and model files.

Imports no other part of bnviz.
"""

from __future__ import annotations

from bnviz.nn.layers import softmax
from bnviz.nn.model_io import ModelFileError
from bnviz.nn.network import MLP
from bnviz.nn.optim import OPTIMIZERS, Hyper, Optimizer

__all__ = ["MLP", "OPTIMIZERS", "Hyper", "ModelFileError", "Optimizer", "softmax"]
