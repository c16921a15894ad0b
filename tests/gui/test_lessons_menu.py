"""The Lessons menu: a lesson view opens as a closable tab, is drawn and asks for its probes
only while its tab is shown, and a view that fails to import is left out."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from bnviz.gui import lessons as lessons_pkg
from bnviz.gui.main_window import MainWindow
from bnviz.train.config import TrainConfig
from tests.gui.lesson_stub import StepLesson

SMALL = TrainConfig(n_samples=200, hidden=(8, 8))


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(
        lessons_pkg,
        "LESSON_VIEWS",
        (
            ("tests.gui.lesson_stub", "StepLesson"),
            ("tests.gui.no_such_module", "Nothing"),
            ("tests.gui.lesson_stub", "SlowStepLesson"),
        ),
    )
    win = MainWindow(SMALL, settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def _menu(win, title: str):
    return next(a.menu() for a in win.menuBar().actions() if a.text() == title)


def test_lessons_menu_opens_a_view_that_draws_only_while_shown(window, qtbot):
    win = window
    assert list(win.lessons) == ["StepLesson", "SlowStepLesson"]  # the broken one is left out
    texts = [a.text() for a in _menu(win, "&Lessons").actions() if a.text()]
    assert texts == ["Step lesson", "Slow step lesson", "Presets"]  # views, then the presets
    view = win.lessons["StepLesson"]
    qtbot.wait(300)
    assert view.rendered == [] and win.tabs.indexOf(view) < 0  # hidden: never drawn
    _menu(win, "&Lessons").actions()[0].trigger()
    assert win.tabs.currentWidget() is view
    qtbot.waitUntil(lambda: len(view.rendered) >= 3, timeout=10000)
    assert view.rendered == sorted(view.rendered)  # steps, live
    assert "Counts steps." in view.explanation_label.text()
    assert view.formula_label.text() == "t = t + 1"
    win.tabs.tabCloseRequested.emit(win.tabs.indexOf(view))
    assert win.tabs.indexOf(view) < 0
    qtbot.wait(200)
    n = len(view.rendered)
    qtbot.wait(400)
    assert len(view.rendered) == n  # closed: not drawn any more
    assert not any(r.name == "test_step_count" for r in win._probe_results)


def test_fixed_tabs_cannot_be_closed(window):
    win = window
    win.tabs.tabCloseRequested.emit(0)
    assert win.tabs.widget(0) is win.training_tab
    assert win.tabs.tabBar().tabButton(0, win.tabs.tabBar().ButtonPosition.RightSide) is None


def test_after_a_pause_a_timed_probe_catches_up_with_the_last_step(window, qtbot):
    """A lesson's probe runs at most once a second; paused between two runs, the view must
    still end on the paused network's step, not the one before."""
    from tests.gui.test_main_window import trainer_value

    win = window
    view = win.open_lesson("SlowStepLesson")
    qtbot.waitUntil(lambda: len(view.rendered) >= 2, timeout=10000)
    win.toggle_play()
    qtbot.waitUntil(lambda: not win.playing, timeout=5000)
    final = trainer_value(win, "step_count")
    qtbot.waitUntil(lambda: view.rendered and view.rendered[-1] == final, timeout=5000)


def test_a_lesson_draws_at_its_interval_and_ends_on_the_paused_step(window, qtbot, monkeypatch):
    """Lessons draw at most every render_interval_s (frames come up to 33 a second); a frame
    skipped for that is drawn later, so a paused network's last step is still shown."""
    import time

    from tests.gui.test_main_window import trainer_value

    monkeypatch.setattr(StepLesson, "render_interval_s", 0.5)
    times: list[float] = []
    real = StepLesson.render

    def timed(self, frame):
        times.append(time.perf_counter())
        real(self, frame)

    monkeypatch.setattr(StepLesson, "render", timed)
    win = window
    view = win.open_lesson("StepLesson")
    qtbot.waitUntil(lambda: len(times) >= 4, timeout=20000)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.5 - 0.01, gaps  # not every frame (33 a second at most)
    win.toggle_play()
    qtbot.waitUntil(lambda: not win.playing, timeout=5000)
    final = trainer_value(win, "step_count")
    qtbot.waitUntil(lambda: view.rendered and view.rendered[-1] == final, timeout=5000)
