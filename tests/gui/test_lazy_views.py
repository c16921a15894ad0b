"""Lesson views are built when first opened, not with the window (bnviz/gui/lazy.py): the
window starts without them, the Lessons menu still lists them all, and a view built late is
wired as one built at start (its window, its data set, its probes, Use/Undo)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from bnviz.gui import lessons as lessons_pkg
from bnviz.gui.lazy import LazyViews
from bnviz.gui.main_window import MainWindow
from bnviz.train.config import TrainConfig


def test_a_view_is_built_on_its_first_lookup_only():
    made, told = [], []

    def make():
        made.append(object())
        return made[-1]

    views = LazyViews({"a": make, "b": make}, told.append)
    assert list(views) == ["a", "b"] and len(views) == 2 and "a" in views
    assert made == [] and views.built() == []  # names and classes only
    a = views["a"]
    assert views["a"] is a and made == [a] and told == [a]  # built once, told once
    assert views.built() == [a] and views.is_built("a") and not views.is_built("b")
    with pytest.raises(KeyError):
        views["c"]


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    stubs = (("tests.gui.lesson_stub", "StepLesson"), ("tests.gui.lesson_stub", "SlowStepLesson"))
    monkeypatch.setattr(lessons_pkg, "LESSON_VIEWS", stubs)
    config = TrainConfig(n_samples=200, hidden=(8, 8))
    win = MainWindow(config, settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def test_the_window_builds_a_lesson_view_when_it_is_first_opened(window, qtbot):
    win = window
    assert win.lessons.built() == []  # nothing built with the window
    menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "&Lessons")
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts[:2] == ["Step lesson", "Slow step lesson"]  # listed from the classes
    assert win.lessons.built() == []
    menu.actions()[1].trigger()
    view = win.tabs.currentWidget()
    assert win.lessons.built() == [view] and type(view).__name__ == "SlowStepLesson"
    # wired as at start: the window's settings, the data set, probes asked for while shown
    assert view.config_provider is not None and view.config_provider() == win.controls.config()
    assert view in win.probe_views and view.use_setting is not None
    qtbot.waitUntil(lambda: len(view.rendered) >= 2, timeout=10000)
    assert win.lessons.built() == [view]  # the other view is still not built


def test_a_new_run_builds_its_panels_one_per_frame(small_window, qtbot):
    """A run's first frame builds each panel's plots (64 plot items and texts for a 10-class
    file): one panel per frame, so the event loop runs between them."""
    win = small_window
    qtbot.waitUntil(lambda: win.frame is not None, timeout=20000)
    firsts: dict[int, list[str]] = {}  # id(frame) -> panels drawn for the first time in it
    seen: set[str] = set()
    kept = []  # the frames, alive: an id is not reused
    for name, panel in win.panels.items():

        def render(frame, name=name, draw=panel.render):
            if name not in seen:
                seen.add(name)
                kept.append(frame)
                firsts.setdefault(id(frame), []).append(name)
            draw(frame)

        panel.render = render
    assert win.reset(win.controls.config())
    qtbot.waitUntil(lambda: seen == set(win.panels), timeout=20000)
    assert all(len(names) == 1 for names in firsts.values()), firsts
    assert len(firsts) == len(win.panels)
