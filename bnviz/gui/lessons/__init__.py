"""Views of the lessons in ``bnviz.lessons``: each draws what its lesson computes.

:func:`lesson_views` lists the views the Lessons menu offers, in menu order. Each is imported
here one by one, so a view whose module fails to import is left out instead of stopping the app.
A new lesson view adds its ``(module, class name)`` to :data:`LESSON_VIEWS`.
"""

from __future__ import annotations

import importlib
import logging

from bnviz.gui.lessons.base import LessonView

#: (module, class) of every lesson view, in the order of the Lessons menu.
LESSON_VIEWS: tuple[tuple[str, str], ...] = (
    ("bnviz.gui.lessons.inspector", "InspectorView"),
    ("bnviz.gui.lessons.test_time", "TestTimeLesson"),
    ("bnviz.gui.lessons.landscape", "LandscapeView"),
    ("bnviz.gui.lessons.covariate_shift", "CovariateShiftView"),
    ("bnviz.gui.lessons.batch_noise", "BatchNoiseView"),
    ("bnviz.gui.lessons.easier_search", "EasierSearchView"),
    ("bnviz.gui.lessons.babysitting", "BabysittingView"),
    ("bnviz.gui.lessons.lr_range", "LrRangeView"),
    ("bnviz.gui.lessons.calibration", "CalibrationView"),
)

log = logging.getLogger(__name__)


def lesson_classes() -> dict[str, type[LessonView]]:
    """Every lesson view class that imports, keyed by its class name, in menu order."""
    out: dict[str, type[LessonView]] = {}
    for module, name in LESSON_VIEWS:
        try:
            out[name] = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as e:  # a broken optional view must not stop the app
            log.warning("lesson view %s.%s left out: %s", module, name, e)
    return out


def lesson_views() -> dict[str, LessonView]:
    """One instance of every lesson view that imports, keyed by its class name."""
    return {name: cls() for name, cls in lesson_classes().items()}


def find_lesson(slug: str) -> str | None:
    """The class name of the lesson view called ``slug`` on the command line
    (``bnviz --lesson loss-landscape``), or None."""
    return next((n for n, c in lesson_classes().items() if c.slug() == slug), None)
