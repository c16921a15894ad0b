"""Qt-free computations of the course's lessons, one module per lesson, each tested against the
network's own numbers; the views that draw them live in ``bnviz.gui.lessons``.

Imports ``bnviz.nn``, ``bnviz.data`` and ``bnviz.train``.
"""

from __future__ import annotations

from bnviz.lessons.bn_at_test_time import ModeResult, eval_modes
from bnviz.lessons.bn_inside import BNTrace, bn_trace, identity_gamma_beta

__all__ = ["BNTrace", "ModeResult", "bn_trace", "eval_modes", "identity_gamma_beta"]
