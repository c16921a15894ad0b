"""Every lesson view is in the Qt-free lesson catalog under its slug, title and class name, so
``bnviz lesson --list`` and ``bnviz presets --check`` name the views without importing Qt."""

from __future__ import annotations

from bnviz.gui.lessons import LESSON_VIEWS, lesson_classes
from bnviz.lessons.catalog import LESSONS, find_lesson_info


def test_every_view_is_in_the_catalog_with_its_title():
    classes = lesson_classes()
    assert len(classes) == len(LESSON_VIEWS)  # every view imports
    for name, cls in classes.items():
        info = find_lesson_info(cls.slug())
        assert info is not None, f"{cls.slug()} is not in bnviz.lessons.catalog"
        assert (info.title, info.view) == (cls.title, name)


def test_the_catalogs_views_exist_in_menu_order():
    with_views = [info.view for info in LESSONS if info.view is not None]
    assert with_views == list(lesson_classes())
