"""Qt-free computations of the course's lessons, one module per lesson, each tested against the
network's own numbers; the views that draw them live in ``bnviz.gui.lessons``.

Imports ``bnviz.nn``, ``bnviz.data`` and ``bnviz.train``.
"""

from __future__ import annotations

from bnviz.lessons.bn_at_test_time import ModeResult, eval_modes
from bnviz.lessons.bn_inside import BNTrace, bn_trace, identity_gamma_beta
from bnviz.lessons.calibration import Calibration, calibration, fit_temperature
from bnviz.lessons.covariate_shift import Shift, covariate_shift
from bnviz.lessons.landscape import Landscape, landscape
from bnviz.lessons.lr_range import RangeCurve, range_test
from bnviz.lessons.lr_suggest import lr_suggestions

__all__ = [
    "BNTrace",
    "Calibration",
    "Landscape",
    "ModeResult",
    "RangeCurve",
    "Shift",
    "bn_trace",
    "calibration",
    "covariate_shift",
    "eval_modes",
    "fit_temperature",
    "identity_gamma_beta",
    "landscape",
    "lr_suggestions",
    "range_test",
]
