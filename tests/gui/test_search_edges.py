"""The explorer searches only what can matter, and its rough edges (issue 17, items 6-7).

Trials are faked as in test_search_tuning (a known curve per lr), so rounds take milliseconds.
"""

# ruff: noqa: F811 (pytest fixtures imported by name)
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from bnviz.gui.search.explorer import BASE_KEY
from bnviz.gui.search.scatter import POINT_SIZE
from bnviz.gui.search.spread import HALO_MIN_PX, HALO_SPAN_PX
from bnviz.search.spaces import DEFAULT_SPACES
from bnviz.search.study import Study, TrialResult
from tests.gui.test_search import BASE, run_round, table_states
from tests.gui.test_search_tuning import (  # noqa: F401 (fixtures)
    fake,
    study_path,
    window,
)

SGD = replace(BASE, optimizer="sgd")


def sgd_study(path, beta_trials: bool = False) -> None:
    """A study whose fixed optimizer is plain SGD; optionally an old round that sampled beta
    anyway (as the explorer once did): beta varies, every loss ties."""
    with Study(path) as s:
        s.set_meta(BASE_KEY, SGD.to_dict())
        if beta_trials:
            spaces = list(DEFAULT_SPACES.values())
            r = s.new_round(spaces, n=4, method="random", seed=0, fixed=SGD.to_dict())
            for i in range(4):
                loss = 0.2013 if i else 0.9  # lr 1e-4 is worse; beta changes nothing
                s.add_trial(r, TrialResult({"lr": 10.0 ** -(4 - i), "beta": 0.946 + 0.01 * i},
                                           loss, 0.5, loss, 0.5, False, None, 1.0, 10,
                                           ((10, loss),)))  # fmt: skip


def test_plain_sgd_round_does_not_sample_beta_and_says_so(
    window, qtbot, fake, tmp_path, monkeypatch
):
    ex = window.explorer
    path = tmp_path / "sgd.sqlite"
    sgd_study(path)
    assert ex.open_study(path)
    assert ex.controls.axis_names() == ("lr", "beta")
    assert not ex.controls.idle_note.isHidden()
    assert "momentum beta does nothing with optimizer sgd" in ex.controls.idle_note.text()
    ex.said = []
    monkeypatch.setattr(ex, "_say", ex.said.append)
    run_round(qtbot, ex, 4)
    assert all(set(t.params) == {"lr"} for t in ex.trials)
    assert [s.name for s in ex.rounds[-1]["spaces"]] == ["lr"]
    said = " / ".join(ex.said)
    assert "not sampling beta: momentum beta does nothing with optimizer sgd" in said
    assert set(ex.importance.values) == {"lr"}
    # the trials still sit on the plot, at the beta they ran with
    assert len(ex.scatter.data.ids) == 4
    # with the optimizer on an axis, beta could matter: nothing to say
    ex.controls.x_combo.setCurrentText("optimizer")
    ex.refresh()
    assert ex.controls.idle_note.isHidden()


def test_importance_leaves_out_beta_that_sgd_trials_could_not_feel(window, qtbot, tmp_path):
    ex = window.explorer
    path = tmp_path / "old.sqlite"
    sgd_study(path, beta_trials=True)
    assert ex.open_study(path)
    assert set(ex.importance.values) == {"lr"}
    assert set(ex.importance.unfelt) == {"beta"}
    assert "Not ranked: beta: momentum beta does nothing" in ex.importance.toolTip()
    assert "not ranked: beta" in ex.importance.getPlotItem().titleLabel.text


def test_the_left_column_is_never_scrolled_sideways(window, qtbot):
    """At the default window size its labels were cut ("tudy", "olour by") behind a
    horizontal scrollbar: the column is as wide as its form needs."""
    window.resize(1500, 920)
    qtbot.wait(50)
    ex = window.explorer
    scroll = ex.controls.parentWidget().parentWidget()
    assert scroll.horizontalScrollBar().maximum() == 0
    assert scroll.viewport().width() >= ex.controls.minimumSizeHint().width()
    # classroom mode's larger text: the column widens with its form
    window.classroom.enabled(True)
    qtbot.wait(100)
    assert scroll.horizontalScrollBar().maximum() == 0
    assert scroll.viewport().width() >= ex.controls.minimumSizeHint().width()
    window.classroom.enabled(False)


def test_a_fresh_study_says_what_it_holds_not_0_of_1(window, qtbot, fake, tmp_path):
    ex = window.explorer
    assert ex.open_study(tmp_path / "new.sqlite")
    assert ex.controls.progress.text() == "no trials yet"
    run_round(qtbot, ex, 3)
    assert ex.controls.progress.text() == "3 / 3 trials"
    assert ex.open_study(tmp_path / "new.sqlite")
    assert ex.controls.progress.text() == "3 trials in the study"


def test_the_legend_stays_under_the_plot_when_markers_change(window, qtbot, fake):
    """pyqtgraph's legend moved itself to (0, 0), over the trials, on every update while a
    round ran; it keeps its row now, also before the layout runs again."""
    ex = window.explorer
    ex.controls.epochs.setValue(9)
    ex.controls.prune.setChecked(True)
    run_round(qtbot, ex, 9)
    qtbot.wait(50)
    legend, plot = ex.scatter.legend, ex.scatter.plot
    assert legend.isVisible() and legend.pos().y() >= plot.geometry().bottom()
    ex.refresh()  # the legend is cleared and refilled; no event loop in between
    assert legend.pos().y() >= plot.geometry().bottom()


def test_a_trial_pruned_at_the_first_rung_is_a_dot_in_the_curves(window, qtbot, fake):
    ex = window.explorer
    ex.controls.epochs.setValue(9)  # rungs at 1, 3 and 9 epochs
    ex.controls.prune.setChecked(True)
    run_round(qtbot, ex, 9)
    one = [t.id for t in ex.trials if len(t.curve) == 1]
    assert len(one) == 6
    for item, trial_id in zip(ex.curves.lines, ex.curves.shown):
        assert (item.opts["symbol"] == "o") == (trial_id in one)


def test_a_categorical_x_counts_the_values_trials_ran_with(window, qtbot, fake):
    """x = activation after rounds on lr and beta: every trial ran with the fixed
    activation, so the bar there holds them all; the log plot is reset, not stale."""
    ex = window.explorer
    run_round(qtbot, ex, 5)
    ex.controls.x_combo.setCurrentText("activation")
    ex.refresh()
    _, counts = ex.histograms.curves["x", "linear"].getData()
    assert counts.sum() == 5 and counts.max() == 5
    log = ex.histograms.plots["x", "log10"]
    assert log.viewRange()[0] == [0, 1] and not log.getAxis("bottom").isVisible()
    ex.controls.x_combo.setCurrentText("lr")
    ex.refresh()
    assert ex.histograms.plots["x", "log10"].getAxis("bottom").isVisible()
    assert ex.histograms.plots["x", "log10"].viewRange()[0][0] < -3  # log10(1e-4) again


def test_the_babysat_diamond_is_drawn_over_the_best_star(window):
    s = window.explorer.scatter
    assert s.babysat.zValue() > s.best.zValue()


def test_a_loss_axis_inside_one_minor_step_still_has_labels():
    from bnviz.gui.search.axes import LossAxis, nice_ticks

    axis = LossAxis("left")
    axis.setLogMode(False, True)
    lo, hi = np.log10(1.108), np.log10(1.127)
    levels = axis.tickValues(lo, hi, 300)
    values = [v for _, vs in levels for v in vs]
    assert len(values) >= 2 and all(lo <= v <= hi for v in values)
    texts = axis.tickStrings(values, 1.0, 0.001)
    assert len(set(texts)) == len(texts) and all(t.startswith("1.1") for t in texts)
    assert list(nice_ticks(1.108, 1.127)) == pytest.approx([1.11, 1.115, 1.12, 1.125])


def test_hover_and_table_say_why_a_trial_was_pruned(window, qtbot, fake):
    """Issue 20: "stopped at 3 epochs: loss 0.82 ranked 7 of 9, the best 3 went on"."""
    ex = window.explorer
    ex.controls.epochs.setValue(9)  # rungs at 1, 3 and 9 epochs
    ex.controls.prune.setChecked(True)
    run_round(qtbot, ex, 9)
    at_1 = [t for t in ex.trials if t.pruned_at and t.pruned_at["epochs"] == 1]
    assert len(at_1) == 6
    t = at_1[0]
    p = t.pruned_at
    text = ex.scatter.texts[t.id].replace("\n  ", " ")
    assert (f"stopped at 1 epoch: loss {p['value']:.3g} ranked {p['rank']} of 9, the best 3 "
            "went on") in text  # fmt: skip
    assert table_states(ex)[t.id][1].startswith("stopped at 1 epoch: loss")


def test_the_hyperband_choice_beside_prune_runs_the_brackets(window, qtbot, fake):
    ex = window.explorer
    c = ex.controls
    c.prune.setChecked(True)
    c.hyperband.setChecked(True)
    assert not c.prune.isChecked() and not c.trials.isEnabled()  # one kind at a time
    c.epochs.setValue(9)
    run_round(qtbot, ex, 4)  # N is not used: the plan for 9 epochs starts 17 trials
    assert len(ex.trials) == 17
    assert {t.bracket for t in ex.trials} == {2, 1, 0}
    assert sum(t.state.value == "pruned" for t in ex.trials) == 12
    # the rungs tab: three ladders; every pruned trial a ring where it was cut
    ladder = ex.ladder_view
    assert [lad.s for lad in ladder.shown] == [2, 1, 0]
    assert len(ladder.cut.data) == 12
    assert len(ladder.went_on.data) == (3 + 1 + 1) + (1 + 1) + 3  # went on, and the tops
    assert "Hyperband, 3 brackets" in ladder.summary.text()
    c.prune.setChecked(True)
    assert not c.hyperband.isChecked() and c.trials.isEnabled()


def test_repeated_seeds_draw_one_point_per_group(window, qtbot, fake):
    """--repeats in the explorer: N configurations x K seeds; the scatter has one point per
    group at its mean (the fake trial ignores the seed: sd 0), the table every trial."""
    ex = window.explorer
    ex.controls.repeats.setValue(2)
    run_round(qtbot, ex, 3)
    assert len(ex.trials) == 6 and ex.table.row_count() == 6
    groups = {t.group for t in ex.trials}
    assert len(groups) == 3 and None not in groups
    assert sorted(ex.scatter.data.ids) == sorted(groups)
    text = ex.scatter.texts[min(groups)]
    assert text.startswith(f"trials {min(groups)}, ") and "mean of 2 seeds: val loss" in text
    assert {t.seed for t in ex.trials} == {BASE.seed, BASE.seed + 1}
    _, counts = ex.histograms.curves["x", "log10"].getData()
    assert counts.sum() == 3  # a configuration's value counted once, not once per seed
    # each group wears a halo for its sd over seeds: here 0, so the thinnest rim
    assert len(ex.scatter.halos.sizes) == 3
    assert np.all(ex.scatter.halos.sizes == POINT_SIZE + HALO_MIN_PX)
    assert "halo: sd over seeds 0.0000 (val loss), 0% of the colour scale" in text
    # a spread as large as the colour scale widens the halo by HALO_SPAN_PX
    lo, hi = ex.scatter.levels
    data = ex.scatter.data
    ex.scatter.set_points(data, "val_loss", {}, None, None, {int(data.ids[0]): 2 * (hi - lo)})
    assert list(ex.scatter.halos.sizes) == [POINT_SIZE + HALO_MIN_PX + HALO_SPAN_PX]
    assert "100% of the colour scale" in ex.scatter.texts[int(data.ids[0])]


def test_importance_bars_carry_bootstrap_intervals_or_say_too_few(window, qtbot, fake):
    ex = window.explorer
    run_round(qtbot, ex, 5)
    imp = ex.importance
    assert "lr: too few trials (5 < 8)" in imp.toolTip()
    assert len(imp.errors.opts["x"]) == 0
    run_round(qtbot, ex, 10)
    lo, hi = imp.intervals["lr"]
    assert lo <= imp.values["lr"] <= hi and "lr: " in imp.toolTip()
    assert "95% interval" in imp.toolTip() and len(imp.errors.opts["x"]) == 2


def test_parallel_coordinates_brush_filters_scatter_table_and_curves(window, qtbot, fake):
    ex = window.explorer
    run_round(qtbot, ex, 10)
    par = ex.parallel
    assert par.data.names == ("lr", "beta", "val_loss")
    assert len(par.data.ids) == 10
    # brush the lower half of the lr axis (1e-4 .. 1e-2): the trials there, and only they
    par._brush(0, (0.0, 0.5), True)
    inside = {t.id for t in ex.trials if t.params["lr"] <= 1e-2}
    assert ex.brushed == inside and 0 < len(inside) < 10
    assert set(ex.scatter.data.ids) == inside
    assert ex.table.proxy.rowCount() == len(inside) and ex.table.row_count() == 10
    assert set(ex.curves.shown) <= inside
    # a click on the axis clears its band: everything is back
    par._brush(0, None, True)
    assert ex.brushed is None and len(ex.scatter.data.ids) == 10
    assert ex.table.proxy.rowCount() == 10
    # the scatter's box picks the strong lines the other way round
    ex.scatter.set_box((-4.0, -2.0), (-3.0, -1.0))
    assert par.strong_ids == ex.scatter.inside_box()


def test_a_click_on_a_parallel_line_selects_its_trial_everywhere(window, qtbot, fake):
    ex = window.explorer
    run_round(qtbot, ex, 10)
    par = ex.parallel
    ex.views.setCurrentWidget(par)
    qtbot.wait(50)
    d = par.data
    mid = (d.y[:, 0] + d.y[:, 1]) / 2  # each line's height half way from lr to beta
    row = int(np.argmax(mid))  # the topmost there
    x, y = 0.5, float(mid[row])  # between the axes: outside both axes' grab zones
    scene = par.box.mapViewToScene(QPointF(x, y))
    qtbot.mouseClick(par.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=par.view.mapFromScene(scene))  # fmt: skip
    trial = int(d.ids[row])
    assert ex.selected == trial and par.selected_id == trial
    assert ex.scatter.selected.getData()[0] is not None and len(ex.scatter.selected.getData()[0])
    rows = ex.table.selectionModel().selectedRows()
    assert [ex.table._id_at(r) for r in rows] == [trial]
    xs, ys = par.selected_item.getData()
    assert list(xs[np.isfinite(xs)]) == [0, 1, 2]  # its line across every axis, drawn thick
    np.testing.assert_allclose(ys[np.isfinite(ys)], d.y[row])
    # far from every line: nothing new is selected
    par._clicked(0.5, 5.0, 0.01)
    assert ex.selected == trial


def test_fanova_arrives_from_a_thread_as_blue_diamonds(window, qtbot, fake):
    pytest.importorskip("optuna")
    ex = window.explorer
    run_round(qtbot, ex, 12)
    imp = ex.importance
    qtbot.waitUntil(lambda: bool(imp.fanova), timeout=60_000)
    assert set(imp.fanova) == {"lr", "beta"} and imp.fanova["lr"] > imp.fanova["beta"]
    assert len(imp.fanova_marks.data) == 2
    assert "fANOVA (Optuna's evaluator" in imp.toolTip()


def test_without_optuna_fanova_says_how_to_get_it(window, qtbot, fake, monkeypatch):
    from bnviz.search import optuna_export

    def missing(*_):
        raise optuna_export.ExportError(optuna_export.OPTUNA_HINT)

    monkeypatch.setattr(optuna_export, "fanova_importance", missing)
    ex = window.explorer
    run_round(qtbot, ex, 3)
    qtbot.waitUntil(lambda: "pip install" in ex.importance.fanova_note, timeout=10_000)
    assert not ex.importance.fanova and "pip install" in ex.importance.toolTip()


def test_a_box_on_a_fixed_x_range_searches_y_in_the_box(window, qtbot, fake):
    """x range "0.01" is one value (a fixed space) that no round has sampled: "search in box"
    keeps it fixed and narrows y to the box (it raised AttributeError: axis_space gave None)."""
    ex = window.explorer
    ex.controls.x_range.setText("0.01")
    y = ex.controls.spaces()[1]
    lo, hi = y.axis_range
    ex.scatter.set_box((-1.0, 1.0), (lo, lo + (hi - lo) / 2))
    run_round(qtbot, ex, 2, in_box=True)
    assert len(ex.trials) == 2
    assert {t.params.get("lr", 0.01) for t in ex.trials} == {0.01}
    inside = y.to_axis([t.params[y.name] for t in ex.trials])  # y sampled in the box only
    assert np.all((inside >= lo - 1e-9) & (inside <= lo + (hi - lo) / 2 + 1e-9)), inside
