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
LESSON_VIEWS: tuple[tuple[str, str], ...] = (("bnviz.gui.lessons.test_time", "TestTimeLesson"),)

log = logging.getLogger(__name__)


def lesson_views() -> dict[str, LessonView]:
    """One instance of every lesson view that imports, keyed by its class name."""
    out: dict[str, LessonView] = {}
    for module, name in LESSON_VIEWS:
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as e:  # a broken optional view must not stop the app
            log.warning("lesson view %s.%s left out: %s", module, name, e)
            continue
        out[name] = cls()
    return out
