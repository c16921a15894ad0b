"""The experiment lessons carry the evidence panel, call their own experiment with the
window's settings and the view's fields, and a window closed mid-run does not hang."""

from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QSettings

from bnviz.gui.lessons import lesson_views
from bnviz.gui.main_window import MainWindow
from bnviz.lessons.batch_noise_evidence import batch_noise_evidence
from bnviz.lessons.catalog import LESSONS
from bnviz.lessons.lr_range_evidence import lr_range_evidence
from bnviz.lessons.seeded import covariate_shift_evidence, landscape_evidence
from bnviz.lessons.test_time_evidence import test_time_evidence
from bnviz.search.paired import easier_search_evidence
from bnviz.train.config import TrainConfig
from tests.gui import evidence_stub

EXPERIMENTS = {
    "loss-landscape": landscape_evidence,
    "covariate-shift": covariate_shift_evidence,
    "mini-batch-noise": batch_noise_evidence,
    "bn-at-test-time": test_time_evidence,
    "bn-makes-the-search-easier": easier_search_evidence,
    "learning-rate-range-test": lr_range_evidence,
}


@pytest.fixture(scope="module")
def views(qapp):
    made = lesson_views()
    yield made
    # Deleted here, not by a garbage collection at some moment of the next module's tests: the
    # views outlive flush_qt_deletions (conftest), and a collection of them in the middle of the
    # next window's event loop crashed the interpreter (a segfault in test_lessons_menu when it
    # ran right after this module)
    for view in made.values():
        view.close()
        view.deleteLater()
    made.clear()
    for _ in range(2):
        qapp.processEvents()
        gc.collect()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qapp.processEvents()


def test_every_experiment_lesson_with_a_view_has_its_panel(qapp, views):
    with_panel = {}
    for info in LESSONS:
        if info.view is None:
            continue
        panel = views[info.view].evidence_panel
        assert (panel is not None) == info.experiment, info.name
        if panel is not None:
            assert panel.lesson == info.name and panel.claim == info.claim
            with_panel[info.name] = panel.experiment
    assert with_panel == EXPERIMENTS


def test_the_views_fields_reach_the_experiment(qapp, views):
    landscape = views["LandscapeView"]
    landscape.high.setValue(8.0)
    assert landscape.evidence_panel.options() == {"factors": landscape.factors}
    assert max(landscape.factors) == 8.0
    shift = views["CovariateShiftView"]
    shift.layer.setRange(2, 4)
    shift.layer.setValue(3)
    assert shift.evidence_panel.options() == {"layer": 3}
    search = views["EasierSearchView"]
    search.points.setValue(7)
    assert search.evidence_panel.options() == {"n": 7, "epochs": 10, "lr": "1e-4:1:log",
                                               "beta": "0.9:0.999:1m",
                                               "target": ("val_acc", 0.9)}  # fmt: skip
    noise = views["BatchNoiseView"]
    noise.sizes.setText("16, 64")
    assert noise.evidence_panel.options() == {"sizes": (16, 64), "epochs": noise.epochs.value()}


def test_bad_sizes_are_one_line_and_nothing_runs(qtbot, views):
    noise = views["BatchNoiseView"]
    noise.config_provider = lambda: TrainConfig()
    noise.sizes.setText("8, many")
    assert not noise.evidence_panel.run()
    assert "whole numbers" in noise.evidence_panel.progress.text()
    assert noise.evidence_panel.run_button.isEnabled()


def test_closing_the_window_mid_run_does_not_hang(qtbot, tmp_path):
    config = TrainConfig(n_samples=200, hidden=(8, 8))
    win = MainWindow(config, settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    view = win.open_lesson("LandscapeView")
    panel = view.evidence_panel
    panel.experiment = evidence_stub.slow_evidence  # 30 s a seed
    assert panel.run()
    assert not win.playing  # live training paused for the experiment
    qtbot.waitUntil(lambda: panel._handle is not None, timeout=30_000)
    win.close()
    assert not panel._thread.is_alive()  # cancelled, its workers killed, the thread joined


def test_the_range_tests_fields_reach_its_experiment(qapp, views):
    view = views["LrRangeView"]
    view.end.set_value(50.0)
    view.num_it.setValue(120)
    assert view.evidence_panel.options() == {"start": view.start.value(), "end": 50.0,
                                             "num_it": 120}  # fmt: skip
