"""The Hyperparameters tab inside a real MainWindow: rounds, the box, cancel, babysit, errors,
reopening a study. Trials are tiny (100 samples, one hidden layer of 8, 1-2 epochs)."""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF, QSettings, Qt, QTimer

from bnviz.gui import style
from bnviz.gui.main_window import MainWindow
from bnviz.gui.search.explorer import BASE_KEY, HparamExplorer
from bnviz.gui.search.scatter import PRUNED_COLOR, describe
from bnviz.gui.search.table import LEAD, TAIL
from bnviz.search import sweep as sweep_mod
from bnviz.search.spaces import DEFAULT_SPACES
from bnviz.search.study import LEGACY_FAILED_REASON, Study, TrialRecord, TrialResult
from bnviz.train.config import TrainConfig
from tests.search.schema1 import STATES, write_schema1_study

BASE = TrainConfig(n_samples=100, hidden=(8,), optimizer="momentum")
ROUND_TIMEOUT_MS = 60_000


@pytest.fixture
def study_path(tmp_path):
    path = tmp_path / "study.sqlite"
    with Study(path) as s:
        s.set_meta(BASE_KEY, BASE.to_dict())
    return path


@pytest.fixture
def window(qtbot, tmp_path, study_path):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    win = MainWindow(TrainConfig(n_samples=200, hidden=(8,)), settings=settings)
    qtbot.addWidget(win)
    ex = win.explorer
    ex.controls.workers.setValue(1)
    ex.controls.epochs.setValue(1)
    assert ex.open_study(study_path)
    win.resize(1400, 900)
    win.show()
    win.tabs.setCurrentWidget(ex)
    yield win
    win.close()
    assert not win.worker.is_running
    assert not ex.runner.running


def run_round(qtbot, ex: HparamExplorer, n: int, in_box: bool = False) -> None:
    assert ex.start_round(in_box=in_box, n=n), ex.controls.status.text()
    qtbot.waitUntil(lambda: not ex.busy, timeout=ROUND_TIMEOUT_MS)


def n_drawn(item) -> int:
    x, _ = item.getData()
    return 0 if x is None else len(x)


def shown_points(ex: HparamExplorer) -> int:
    s = ex.scatter
    return sum(n_drawn(item) for item in (s.points, s.pruned, s.diverged, s.failed))


def table_states(ex: HparamExplorer) -> dict[int, tuple[str, str]]:
    """trial id -> (state cell text, its tooltip), read from the table's model."""
    model = ex.table.source
    column = [*LEAD, *ex.table.params, *TAIL].index("state")
    assert model.horizontalHeaderItem(column).text() == "state"
    out = {}
    for r in range(model.rowCount()):
        cell = model.item(r, column)
        out[int(model.item(r, 0).text())] = (cell.text(), cell.toolTip())
    return out


def test_round_fills_scatter_table_histograms_and_importance(window, qtbot):
    ex = window.explorer
    assert window.tabs.tabText(window.tabs.currentIndex()) == "Hyperparameters"
    run_round(qtbot, ex, 6)
    assert shown_points(ex) == 6 and ex.table.row_count() == 6
    assert ex.controls.progress.value() == ex.controls.progress.maximum() == 6
    assert "done" in ex.controls.status.text()
    _, counts = ex.histograms.curves["x", "log10"].getData()
    assert counts.sum() == 6
    assert set(ex.importance.values) == {"lr", "beta"}
    ticks = ex.importance.getPlotItem().getAxis("bottom")._tickLevels[0]
    assert sorted(label for _, label in ticks) == ["beta (2)", "lr (1)"]  # the course's ranks
    assert (
        ex.importance.toolTip().startswith("measured: ")
        and "alpha first" in ex.importance.toolTip()
    )
    best = ex.scatter.best.getData()[0]
    assert best is not None and len(best) == 1
    lr_ticks = ex.scatter.axes["bottom"].tickStrings([-4.0, -2.0, 0.0], 1, 1.0)
    assert lr_ticks == ["1e-4", "0.01", "1"]


def test_a_round_pauses_live_training_and_says_so(window, qtbot):
    assert window.playing
    run_round(qtbot, window.explorer, 2)
    assert not window.playing
    assert "live training paused" in window.status_message.text()
    assert window.controls.play_button.text() == "Play"


def test_importance_after_a_round_on_other_axes(window, qtbot):
    """x switched to batch_size for a second round: every sampled parameter keeps a bar."""
    ex = window.explorer
    run_round(qtbot, ex, 5)
    ex.controls.x_combo.setCurrentText("batch_size")
    ex.controls.x_range.setText("2:64:pow2")
    run_round(qtbot, ex, 5)
    values = ex.importance.values
    assert set(values) == {"lr", "beta", "batch_size"}
    assert not any(np.isnan(v) for v in values.values()), values
    assert sum(values.values()) > 0, values  # all zeros was the bug
    _, heights = ex.importance.bars.opts["x"], ex.importance.bars.opts["height"]
    assert list(heights) == [values[n] for n in values]


def test_switching_x_keeps_earlier_trials_and_hides_the_hover_label(window, qtbot):
    ex = window.explorer
    run_round(qtbot, ex, 4)
    s = ex.scatter
    s.hover.setText("trial 1")
    s.hover.show()  # as when the mouse rests on a point
    ex.controls.x_combo.setCurrentText("batch_size")
    assert not s.hover.isVisible()
    # they ran at the base's batch size: shown there (log2(32) = 5), not dropped
    assert shown_points(ex) == 4
    assert set(s.data.x) == {5.0}
    assert "batch_size" not in s.texts[s.data.ids[0]]  # the hover says what was sampled


def test_empty_axes_show_their_range_and_a_box_stays_inside_it(window, qtbot, tmp_path):
    ex = window.explorer
    assert ex.open_study(tmp_path / "empty.sqlite")
    (x0, x1), (y0, y1) = ex.scatter.vb.viewRange()
    assert x0 <= -4 and x1 >= 0 and y0 <= -3 and y1 >= -1  # lr 1e-4..1, 1 - beta 1e-3..0.1
    bottom = ex.scatter.axes["bottom"]
    labels = [s for _, vals in bottom.tickValues(x0, x1, 400)
              for s in bottom.tickStrings(vals, 1, _) if s]  # fmt: skip
    assert "1e-4" in labels and "1" in labels, labels
    ex.scatter._drawn(QRectF(-1.0, -2.5, 3.0, 1.0), True)  # drawn past lr = 1 (axis 0)
    (bx0, bx1), (by0, by1) = ex.scatter.box()
    assert (bx0, bx1) == (-1.0, 0.0) and (by0, by1) == (-2.5, -1.5)


def test_box_round_samples_inside_the_box(window, qtbot):
    ex = window.explorer
    run_round(qtbot, ex, 6)
    # a real drag on empty space draws the box
    vb = ex.scatter.vb
    vb.setRange(xRange=(-4, 0), yRange=(-3, -1), padding=0)
    qtbot.wait(50)

    def widget_pos(x: float, y: float):
        return ex.scatter.mapFromScene(vb.mapViewToScene(QPointF(x, y)))

    start, end = widget_pos(-3.0, -2.6), widget_pos(-1.5, -1.4)
    viewport = ex.scatter.viewport()
    qtbot.mousePress(viewport, Qt.LeftButton, pos=start)
    for f in np.linspace(0.1, 1.0, 6):
        qtbot.mouseMove(viewport, start + (end - start) * f)
    qtbot.mouseRelease(viewport, Qt.LeftButton, pos=end)
    box = ex.scatter.box()
    assert box is not None
    assert box[0] == pytest.approx((-3.0, -1.5), abs=0.1)
    assert box[1] == pytest.approx((-2.6, -1.4), abs=0.1)
    # and the box can be set exactly, as the ROI's position and size
    ex.scatter.set_box((-3.0, -1.0), (-2.5, -1.5))
    assert ex.scatter.zoom_to_box()
    run_round(qtbot, ex, 6, in_box=True)
    last = max(t.round for t in ex.trials)
    new = [t for t in ex.trials if t.round == last]
    assert len(new) == 6 and ex.table.row_count() == 12
    lr = DEFAULT_SPACES["lr"].to_axis([t.params["lr"] for t in new])
    beta = DEFAULT_SPACES["beta"].to_axis([t.params["beta"] for t in new])
    assert np.all((lr >= -3.0 - 1e-9) & (lr <= -1.0 + 1e-9))
    assert np.all((beta >= -2.5 - 1e-9) & (beta <= -1.5 + 1e-9))
    assert ex.controls.x_range.text().endswith(":log")  # the fields show the narrowed range
    with Study(ex.study.path) as s:
        assert s.rounds()[-1]["box"] == {"lr": (-3.0, -1.0), "beta": (-2.5, -1.5)}
    # earlier rounds stay visible, fainter
    assert shown_points(ex) == 12


def test_cancel_keeps_the_gui_responsive(window, qtbot):
    ex = window.explorer
    ex.controls.workers.setValue(2)  # real worker processes
    ex.controls.epochs.setValue(2)
    gaps, last = [], [time.perf_counter()]

    def tick():
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)
    n = 200
    assert ex.start_round(n=n)
    qtbot.waitUntil(lambda: ex.done >= 1, timeout=ROUND_TIMEOUT_MS)
    ex.controls.cancel_button.click()
    qtbot.waitUntil(lambda: not ex.busy, timeout=10_000)
    timer.stop()
    assert "cancelled" in ex.controls.status.text()
    assert ex.controls.start_button.isEnabled()
    with Study(ex.study.path) as s:
        assert 1 <= len(s.trials()) < n
    # The event loop never stalled (starting a pool on the GUI thread froze it for 1.3 s); the
    # bound leaves room for a loaded 2-core machine running two workers beside the GUI.
    assert max(gaps) < 1.0


def test_click_then_babysit_loads_the_trial(window, qtbot):
    ex = window.explorer
    run_round(qtbot, ex, 6)
    qtbot.wait(50)
    t = ex.trials[2]
    i = int(np.flatnonzero(ex.scatter.data.ids == t.id)[0])
    pos = ex.scatter.mapFromScene(
        ex.scatter.vb.mapViewToScene(QPointF(ex.scatter.data.x[i], ex.scatter.data.y[i]))
    )
    qtbot.mouseClick(ex.scatter.viewport(), Qt.LeftButton, pos=pos)
    assert ex.selected == t.id
    ex.controls.babysit_button.click()
    assert window.config.lr == t.params["lr"]
    assert window.config.momentum == t.params["beta"]
    assert window.config.n_samples == BASE.n_samples  # the round's fixed settings came along
    assert window.tabs.tabText(window.tabs.currentIndex()) == "Training"
    # double-clicking a table row babysits too
    window.tabs.setCurrentWidget(ex)
    ex.table.trial_activated.emit(ex.trials[0].id)
    assert window.config.lr == ex.trials[0].params["lr"]


def test_bad_input_is_refused_before_anything_starts(window, qtbot, tmp_path):
    ex = window.explorer
    for text, words in (("1:1e-4:log", "min must be < max"), ("0:1:log", "0 < min"),
                        ("abc:1:log", "not a number")):  # fmt: skip
        ex.controls.x_range.setText(text)
        assert not ex.start_round(n=4)
        assert words in ex.controls.status.text()
        assert words in window.status_message.text()
    ex.controls.x_range.setText("1e-4:1:log")
    assert not ex.start_round(n=0)
    assert ">= 1" in ex.controls.status.text()
    assert not ex.start_round(n=4, in_box=True)
    assert "box" in ex.controls.status.text()
    ex.controls.y_combo.setCurrentText("lr")
    assert not ex.start_round(n=4)
    ex.controls.y_combo.setCurrentText("beta")
    assert not ex.busy and ex.study.rounds() == []
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database, just some bytes" * 100)
    assert not ex.open_study(junk)
    assert "not a bnviz study" in ex.controls.status.text()
    assert ex.study is not None and ex.study.path.name == "study.sqlite"


@pytest.mark.slow
def test_unreachable_scheduler_is_a_message(window, qtbot):
    ex = window.explorer
    ex.controls.scheduler.setText("tcp://127.0.0.1:9")
    assert ex.start_round(n=2)
    qtbot.waitUntil(lambda: not ex.busy, timeout=30_000)
    assert "cannot reach" in ex.controls.status.text()
    assert ex.table.row_count() == 0


def test_missing_dask_is_said_without_a_command_line_flag(window, qtbot, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed: ImportError
    ex = window.explorer
    ex.controls.scheduler.setText("local")
    assert ex.start_round(n=2)
    qtbot.waitUntil(lambda: not ex.busy, timeout=30_000)
    said = ex.controls.status.text()
    assert "needs Dask" in said and "'local'" in said and "--" not in said, said


def test_workers_are_capped_at_the_trials_and_warned_above_the_cores(window, qtbot):
    ex, cores = window.explorer, os.cpu_count() or 1
    c = ex.controls
    c.trials.setValue(2)
    c.workers.setValue(100)
    assert c.executor_key() == (2, None)
    assert "2 at most" in c.workers_note.text()
    c.trials.setValue(200)
    # the cap tied to the cores (executors.worker_count, the CLI's too): 4 per core
    assert c.executor_key() == (min(100, 4 * cores), None)
    assert f"{min(100, 4 * cores)} at most: {cores} cores here" in c.workers_note.text()
    assert f"more than the {cores} cores" in c.workers_note.text()
    c.workers.setValue(1)
    assert c.workers_note.text() == "" and c.workers_note.isHidden()
    c.workers.setValue(100)
    run_round(qtbot, ex, 2)  # the round's own size caps it too
    assert ex.runner.description == "2 local worker processes"
    assert ex.table.row_count() == 2


def test_reopened_study_shows_every_trial(window, qtbot, study_path):
    ex = window.explorer
    run_round(qtbot, ex, 5)
    ex.scatter.set_box((-3.0, -1.0), (-2.5, -1.5))
    run_round(qtbot, ex, 3, in_box=True)
    again = HparamExplorer(window.controls.config, window.babysit, study_path=study_path)
    qtbot.addWidget(again)
    assert again.table.row_count() == 8
    assert shown_points(again) == 8
    assert sorted(t.round for t in again.trials) == sorted(t.round for t in ex.trials)
    again.shutdown()


def test_states_of_a_first_release_study_and_new_ones(window, tmp_path):
    """A schema-1 study plus a round with a failed and a pruned trial: every state is told
    apart in the table and on the scatter, and only a complete trial is best."""
    path = tmp_path / "old.sqlite"
    write_schema1_study(path)
    with Study(path) as study:
        r = study.new_round([DEFAULT_SPACES["lr"]], n=2, method="random", seed=9)
        no_result = (None, None, None, None, False, None, 0.0, 0)
        study.add_trial(
            r,
            TrialResult(
                {"lr": 0.003, "beta": 0.95},
                *no_result,
                state="failed",
                error="MemoryError: out of memory",
            ),
        )
        study.add_trial(
            r,
            TrialResult(
                {"lr": 0.3, "beta": 0.95},
                0.01,
                0.99,
                0.01,
                0.99,
                False,
                None,
                0.2,
                20,
                ((20, 0.01),),
                state="pruned",
            ),
        )
    ex = window.explorer
    assert ex.open_study(path)
    states = table_states(ex)
    assert [states[i][0] for i in range(1, 8)] == [*STATES, "failed", "pruned"]
    assert states[3][1] == f"failed: {LEGACY_FAILED_REASON}"
    assert states[6][1] == "failed: MemoryError: out of memory"
    assert states[2][1] == "diverged at step 17"
    s = ex.scatter
    assert (n_drawn(s.points), n_drawn(s.pruned), n_drawn(s.diverged), n_drawn(s.failed)) == (
        3, 1, 1, 2,
    )  # fmt: skip
    # failed: grey crosses; diverged: red crosses; pruned: hollow circles
    assert s.failed.opts["symbol"] == s.diverged.opts["symbol"] == "x"
    assert s.failed.opts["symbolPen"].color().getRgb()[:3] == style.FAILED_COLOR
    assert s.diverged.opts["symbolPen"].color().getRgb()[:3] == style.DIVERGED_COLOR
    assert s.pruned.opts["symbol"] == "o" and s.pruned.opts["symbolBrush"] is None
    assert s.pruned.scatter.opts["brush"].style() == Qt.BrushStyle.NoBrush
    assert s.pruned.scatter.data["pen"][0].color().getRgb()[:3] == PRUNED_COLOR  # a dark ring
    assert s.legend.isVisible()
    assert [label.text for _, label in s.legend.items] == ["pruned", "diverged", "failed"]
    # the pruned trial's 0.01 is partial: the star is on the best complete trial (id 4)
    (bx,), (by,) = s.best.getData()
    i = int(np.flatnonzero(s.data.ids == 4)[0])
    assert (bx, by) == (s.data.x[i], s.data.y[i])
    assert "failed: MemoryError: out of memory" in s.texts[6]
    ex.select(6)  # the status line has the reason on one line
    assert "failed: MemoryError: out of memory" in ex.controls.status.text()
    assert "pruned after 20 steps" in s.texts[7]
    # a study of complete trials only needs no legend (the colour bar says it all)
    with Study(tmp_path / "fine.sqlite") as study:
        r = study.new_round([DEFAULT_SPACES["lr"]], n=1, method="random", seed=9)
        study.add_trial(r, TrialResult({"lr": 0.01, "beta": 0.9}, 0.3, 0.9, 0.3, 0.9, False,
                                       None, 0.2, 20))  # fmt: skip
    assert ex.open_study(tmp_path / "fine.sqlite")
    assert n_drawn(s.points) == 1 and not s.legend.isVisible()


def test_a_long_failure_reason_is_wrapped_in_the_hover_text():
    t = TrialRecord({"lr": 0.1}, None, None, None, None, False, None, 0.0, 0, state="failed",
                    error="ValueError: " + "word " * 40, id=1, round=1, finished_at="")  # fmt: skip
    lines = describe(t.params, t).splitlines()
    assert lines[2].startswith("failed: ValueError: word") and len(lines) > 4
    assert max(map(len, lines)) <= 44
    assert describe(t.params, t, wrap=None).splitlines()[2] == f"failed: {t.error}"


def test_a_trial_whose_worker_raises_is_shown_as_failed(window, qtbot, monkeypatch):
    real = sweep_mod.run_segment

    def third_fails(spec, until=None, paused=None):
        if spec.index == 2:
            raise RuntimeError("worker fell over")
        return real(spec, until, paused)

    monkeypatch.setattr(sweep_mod, "run_segment", third_fails)  # 1 worker: trials run in-process
    ex = window.explorer
    with pytest.warns(sweep_mod.TrialFailedWarning):
        run_round(qtbot, ex, 4)
    assert [t.state for t in ex.trials].count("failed") == 1
    failed = next(t for t in ex.trials if t.state == "failed")
    assert table_states(ex)[failed.id] == ("failed", "failed: RuntimeError: worker fell over")
    assert n_drawn(ex.scatter.failed) == 1 and n_drawn(ex.scatter.points) == 3
    assert "1 failed, e.g. RuntimeError: worker fell over" in ex.controls.status.text()
    assert ex.scatter.legend.isVisible()


def test_an_error_in_red_goes_with_the_next_success(window, qtbot):
    ex = window.explorer
    if window.playing:  # paused: no "live training paused" message replaces it by chance
        window.toggle_play()
    ex.controls.x_range.setText("1:1e-4:log")
    assert not ex.start_round(n=2)
    assert "min must be < max" in window.status_message.text()
    assert "b00000" in window.status_message.styleSheet()
    ex.controls.x_range.setText("1e-4:1:log")
    run_round(qtbot, ex, 2)  # a round that runs: the red message is gone from both statuses
    assert "min must be < max" not in window.status_message.text()
    assert "b00000" not in window.status_message.styleSheet()
    assert "b00000" not in ex.controls.status.styleSheet()
