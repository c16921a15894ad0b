"""The explorer searches only what can matter, and its rough edges (issue 17, items 6-7).

Trials are faked as in test_search_tuning (a known curve per lr), so rounds take milliseconds.
"""

# ruff: noqa: F811 (pytest fixtures imported by name)
from __future__ import annotations

from dataclasses import replace

from bnviz.gui.search.explorer import BASE_KEY
from bnviz.search.spaces import DEFAULT_SPACES
from bnviz.search.study import Study, TrialResult
from tests.gui.test_search import BASE, run_round
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
