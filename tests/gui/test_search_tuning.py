"""The explorer's tuning-process views (issue 12): learning curves per trial, pruned rounds,
re-checking the best trials, a babysat run saved into the study, export to Optuna.

Trials are faked (``run_segment`` monkeypatched: with one worker they run in-process), so a
round takes milliseconds and every curve is known: loss(epoch) = q * (1 + 1 / epoch) with
q = |log10(lr) + 2| + 0.1, best at lr = 0.01.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from bnviz.gui.search.curves import ALL, FADED_ALPHA, STRONG_ALPHA
from bnviz.search import sweep as sweep_mod
from bnviz.search.study import Study, TrialResult
from bnviz.search.trial import Paused
from tests.gui.test_search import (  # noqa: F401 (fixtures)
    ROUND_TIMEOUT_MS,
    n_drawn,
    run_round,
    study_path,
    table_states,
    window,
)

STEPS_PER_EPOCH = 10
STALE_SEED = 777


def quality(lr: float) -> float:
    return abs(math.log10(lr) + 2) + 0.1


def fake_segment(spec, until=None, paused=None):
    """The fake trial: a known curve, a checkpoint when it stops short of its budget."""
    until = spec.epochs if until is None else until
    q = quality(spec.params["lr"])
    if spec.config["seed"] == STALE_SEED:  # today's settings reverse the ranking
        q = 1 / q
    curve = tuple((e * STEPS_PER_EPOCH, q * (1 + 1 / e)) for e in range(1, until + 1))
    losses = [loss for _, loss in curve]
    result = TrialResult(
        dict(spec.params), losses[-1], 1 / (1 + losses[-1]), min(losses), None, False, None,
        0.01 * until, until * STEPS_PER_EPOCH, curve,
    )  # fmt: skip
    return result, (Paused(b"", until, 0.0) if until < spec.epochs else None)


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(sweep_mod, "run_segment", fake_segment)


def line_of(ex, trial_id: int):
    return ex.curves.lines[ex.curves.shown.index(trial_id)]


def drawn(item) -> tuple[list, list]:
    """The data an item was given (getData() is log10 on a log axis)."""
    if item.xData is None:
        return [], []
    return list(item.xData), list(item.yData)


def test_curves_show_the_round_coloured_like_the_scatter(window, qtbot, fake):  # noqa: F811
    ex = window.explorer
    ex.controls.epochs.setValue(4)
    run_round(qtbot, ex, 6)
    run_round(qtbot, ex, 5)
    ex.views.setCurrentWidget(ex.curves)
    c = ex.curves
    # by default the newest round, every trial one line on a log axis
    assert sorted(c.shown) == sorted(t.id for t in ex.trials if t.round == ex.rounds[-1]["id"])
    assert c.plot.getAxis("left").logMode
    t = next(t for t in ex.trials if t.id == c.shown[0])
    x, y = drawn(line_of(ex, t.id))
    assert list(x) == [s for s, _ in t.curve]
    np.testing.assert_allclose(y, [v for _, v in t.curve])
    # coloured as its point on the scatter
    i = int(np.flatnonzero(ex.scatter.data.ids == t.id)[0])
    point_brush = ex.scatter.points.opts["symbolBrush"]
    complete_ids = ex.scatter.data.ids[ex.scatter.data.state == "complete"]
    brush = point_brush[int(np.flatnonzero(complete_ids == t.id)[0])]
    assert line_of(ex, t.id).opts["pen"].color().rgb() == brush.color().rgb()
    assert ex.scatter.data.ids[i] == t.id
    # selecting a trial of the first round shows that round, its curve on top
    first = ex.trials[0]
    ex.table.trial_selected.emit(first.id)
    assert set(c.shown) == {t.id for t in ex.trials if t.round == first.round}
    assert drawn(c.selected_line)[0] == [s for s, _ in first.curve]
    c.round_combo.setCurrentText(ALL)
    assert len(c.shown) == 11
    # hovering a point draws its curve dashed
    ex.scatter.trial_hovered.emit(ex.trials[3].id)
    assert len(drawn(c.hover_line)[0]) == 4
    ex.scatter.trial_hovered.emit(-1)
    assert drawn(c.hover_line) == ([], [])


def test_the_box_highlights_the_curves_of_its_trials(window, qtbot, fake):  # noqa: F811
    ex = window.explorer
    ex.controls.epochs.setValue(3)
    run_round(qtbot, ex, 8)
    c = ex.curves
    assert c.strong == set(c.shown)  # no box: every curve strong
    d = ex.scatter.data
    order = np.argsort(d.x)
    xs = d.x[order]
    cut = (xs[3] + xs[4]) / 2  # a box over the 4 lowest learning rates
    ex.scatter.set_box((xs[0] - 0.01, cut), (float(d.y.min()) - 0.01, float(d.y.max()) + 0.01))
    inside = {int(i) for i in d.ids[order[:4]]}
    assert c.strong == inside
    for trial_id in c.shown:
        alpha = line_of(ex, trial_id).opts["pen"].color().alpha()
        assert alpha == (STRONG_ALPHA if trial_id in inside else FADED_ALPHA)


def test_a_click_on_a_point_shows_its_curve(window, qtbot, fake):  # noqa: F811
    ex = window.explorer
    ex.controls.epochs.setValue(3)
    run_round(qtbot, ex, 5)
    qtbot.wait(50)
    t = ex.trials[1]
    i = int(np.flatnonzero(ex.scatter.data.ids == t.id)[0])
    s = ex.scatter
    pos = s.mapFromScene(s.vb.mapViewToScene(QPointF(s.data.x[i], s.data.y[i])))
    qtbot.mouseClick(s.viewport(), Qt.LeftButton, pos=pos)
    assert ex.selected == t.id
    np.testing.assert_allclose(drawn(ex.curves.selected_line)[1], [v for _, v in t.curve])


def test_a_study_reopened_draws_the_stored_curves(window, qtbot, fake, study_path):  # noqa: F811
    ex = window.explorer
    ex.controls.epochs.setValue(2)
    run_round(qtbot, ex, 3)
    with Study(study_path) as s:
        stored = {t.id: t.curve for t in s.trials()}
    assert ex.open_study(study_path)
    for trial_id in ex.curves.shown:
        assert tuple(zip(*drawn(line_of(ex, trial_id)))) == stored[trial_id]


def test_prune_checkbox_runs_successive_halving_drawn_hollow(window, qtbot, fake):  # noqa: F811
    ex = window.explorer
    ex.controls.epochs.setValue(9)  # rungs at 1, 3 and 9 epochs
    ex.controls.prune.setChecked(True)
    run_round(qtbot, ex, 9)
    states = [t.state.value for t in ex.trials]
    assert states.count("pruned") == 8 and states.count("complete") == 1  # 9 -> 3 -> 1
    best = min(ex.trials, key=lambda t: quality(t.params["lr"]))
    assert best.state == "complete"
    # hollow rings on the scatter, the one complete trial a filled disc
    assert n_drawn(ex.scatter.pruned) == 8 and n_drawn(ex.scatter.points) == 1
    assert ex.scatter.pruned.opts["symbolBrush"] is None
    assert ex.scatter.legend.isVisible()
    assert {v[0] for k, v in table_states(ex).items() if k != best.id} == {"pruned"}
    assert "8 pruned" in ex.controls.status.text()
    # each pruned curve stops at its rung: 1 or 3 epochs
    lengths = sorted(len(drawn(line_of(ex, t.id))[0]) for t in ex.trials)
    assert lengths == [1] * 6 + [3] * 2 + [9]


def test_recheck_best_k_shows_then_vs_now_and_their_correlation(window, qtbot, fake):  # noqa: F811
    ex = window.explorer
    ex.controls.epochs.setValue(2)
    run_round(qtbot, ex, 8)
    best4 = sorted(ex.trials, key=lambda t: t.val_loss)[:4]
    window.controls.set_config(replace(window.controls.config(), seed=STALE_SEED))
    ex.controls.recheck_k.setValue(4)
    ex.controls.recheck_button.click()
    qtbot.waitUntil(lambda: not ex.busy, timeout=ROUND_TIMEOUT_MS)
    new = [t for t in ex.trials if t.round == ex.rounds[-1]["id"]]
    assert ex.rounds[-1]["method"] == "recheck"
    assert [t.recheck_of for t in new] == [t.id for t in best4]
    assert [t.params for t in new] == [t.params for t in best4]
    v = ex.recheck_view
    assert ex.views.currentWidget() is v
    assert [(p.then_id, p.now_id) for p in v.pairs] == [(t.id, n.id) for t, n in zip(best4, new)]
    np.testing.assert_allclose([p.then_loss for p in v.pairs], [t.val_loss for t in best4])
    np.testing.assert_allclose([p.now_loss for p in v.pairs], [t.val_loss for t in new])
    # under the stale seed the fake reverses the order: the ranks are exactly opposite
    assert v.rho == pytest.approx(-1.0)
    assert "-1.00" in v.summary.text() and "no longer holds" in v.summary.text()
    assert "intuitions get stale" in v.advice.text()
    # the slope chart: one segment per pair, then at x=0, now at x=1
    x, y = drawn(v.lines)
    assert x == [0.0, 1.0] * 4
    np.testing.assert_allclose(y, [w for p in v.pairs for w in (p.then_loss, p.now_loss)])
    assert "re-checked" in ex.controls.status.text() or "-1.00" in ex.controls.status.text()


def test_recheck_of_an_empty_study_is_refused(window, qtbot, tmp_path):  # noqa: F811
    ex = window.explorer
    assert ex.open_study(tmp_path / "empty.sqlite")
    assert not ex.recheck(3)
    assert "no complete trial" in ex.controls.status.text()
    assert not ex.busy


def test_a_saved_babysat_run_is_a_trial_on_the_scatter(window, qtbot, fake, study_path):  # noqa: F811
    ex = window.explorer
    ex.controls.epochs.setValue(2)
    run_round(qtbot, ex, 4)  # pauses live training
    window.toggle_play()
    qtbot.waitUntil(lambda: any(len(h.val_loss) >= 2 for h in window.histories.values()),
                    timeout=ROUND_TIMEOUT_MS)  # fmt: skip
    window.toggle_play()
    n = len(ex.trials)
    ex.controls.save_babysat_button.click()
    assert len(ex.trials) == n + 1, ex.controls.status.text()
    t = ex.trials[-1]
    assert t.kind == "babysat" and "saved as trial" in ex.controls.status.text()
    assert t.params == {"lr": window.config.lr, "beta": window.config.momentum}
    history = next(iter(window.histories.values()))
    k = len(t.curve)  # the window's curve when saved (a snapshot may have come since)
    assert k >= 2 and [s for s, _ in t.curve] == list(history.val_loss.x)[:k]
    np.testing.assert_allclose([v for _, v in t.curve], history.val_loss.y[:k])
    with Study(study_path) as s:
        stored = s.trials()[-1]
        assert (stored.id, stored.kind) == (t.id, "babysat")
        assert s.rounds()[-1]["method"] == "babysat"
    # a diamond among the caviar's discs, named in the legend; a row in the table
    x, y = ex.scatter.babysat.getData()
    assert len(x) == 1 and n_drawn(ex.scatter.points) == 4
    assert ex.scatter.legend.isVisible() and ex.selected == t.id
    assert t.id in table_states(ex)


def test_export_to_optuna_with_and_without_optuna(window, qtbot, fake, monkeypatch, tmp_path):  # noqa: F811
    from bnviz.search import optuna_export

    ex = window.explorer
    run_round(qtbot, ex, 3)
    action = next(a for a in window.menuBar().actions()[0].menu().actions()
                  if a.text() == "Export study to Optuna...")  # fmt: skip
    monkeypatch.setattr(optuna_export, "optuna_available", lambda: False)
    action.trigger()  # no dialog: the message says how to get Optuna
    assert 'pip install "bnviz[optuna]"' in ex.controls.status.text()
    assert 'pip install "bnviz[optuna]"' in window.status_message.text()
    monkeypatch.undo()
    monkeypatch.setattr(sweep_mod, "run_segment", fake_segment)
    pytest.importorskip("optuna")
    url = f"sqlite:///{tmp_path / 'o.db'}"
    assert ex.export_to_optuna(url)
    assert "3 trials exported" in ex.controls.status.text()
    import optuna

    got = optuna.load_study(study_name="study", storage=url)
    assert len(got.trials) == 3
    assert not ex.export_to_optuna(url)  # twice: the name is taken, and it says so
    assert "already has a study" in ex.controls.status.text()
