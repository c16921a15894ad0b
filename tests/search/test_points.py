"""The explorer's Qt-free rules about trial states: colour, best, ranking, placement."""

from __future__ import annotations

import math

import numpy as np

from bnviz.search import points
from bnviz.search.importance import importance
from bnviz.search.points import STRIP_HALF_WIDTH, place, strip_offsets
from bnviz.search.spaces import DEFAULT_SPACES, parse_space
from bnviz.search.study import TrialRecord

NAN = float("nan")


def trial(i: int, lr: float, loss: float | None, **kw) -> TrialRecord:
    fields = dict(
        params={"lr": lr, "beta": 0.9 + 0.01 * i},
        val_loss=loss,
        val_acc=None if loss is None else 1.0 - loss,
        best_val_loss=loss,
        best_val_acc=None,
        diverged=False,
        diverged_step=None,
        seconds=1.0,
        steps=10,
        id=i,
        round=1,
        finished_at="now",
    )
    return TrialRecord(**{**fields, **kw})


TRIALS = [
    trial(1, 0.01, 0.5),
    trial(2, 0.1, 0.05, state="pruned"),  # partial result, better than any complete one
    trial(3, 0.9, NAN, diverged=True, diverged_step=3),
    trial(4, 0.001, None, state="failed", error="MemoryError"),
    trial(5, 0.03, 0.4),
    trial(6, 0.003, 0.7),
]


def test_metric_value_by_state() -> None:
    values = [points.metric_value(t, "val_loss") for t in TRIALS]
    assert values[:2] == [0.5, 0.05] and values[4:] == [0.4, 0.7]
    assert math.isnan(values[2]) and math.isnan(values[3])


def test_only_complete_trials_are_best() -> None:
    assert points.best_id(TRIALS, "val_loss") == 5
    assert points.best_id(TRIALS, "val_acc") == 5
    assert points.best_id(TRIALS[1:4], "val_loss") is None


def test_place_carries_each_state() -> None:
    data = points.place(TRIALS, DEFAULT_SPACES["lr"], DEFAULT_SPACES["beta"], "val_loss")
    assert list(data.ids) == [1, 2, 3, 4, 5, 6]
    assert list(data.state) == ["complete", "pruned", "diverged", "failed", "complete", "complete"]


def test_failed_trials_are_left_out_of_the_ranking_diverged_ones_rank_worst() -> None:
    assert points.sampled_coords(TRIALS, rounds=[]) == {}  # no rounds: no spaces known
    rounds = [{"spaces": [DEFAULT_SPACES["lr"], DEFAULT_SPACES["beta"]]}]
    coords, losses = points.sampled_coords(TRIALS, rounds)["lr"]
    assert len(coords) == len(losses) == 5  # trial 4 (failed) is not there
    assert list(losses) == [0.5, 0.05, math.inf, 0.4, 0.7]


def test_each_parameter_is_ranked_over_the_trials_that_sampled_it() -> None:
    """A round on (lr, beta), then one on (batch_size, beta): no trial has all three, yet
    each parameter gets its bar (the app once showed all zeros here)."""
    first = [
        trial(i, lr, loss)
        for i, (lr, loss) in enumerate([(1e-3, 0.9), (1e-2, 0.5), (1e-1, 0.2), (0.5, 0.1)])
    ]
    second = [
        trial(10 + i, 0.0, loss, round=2, params={"batch_size": b, "beta": 0.9})
        for i, (b, loss) in enumerate([(16, 0.1), (64, 0.3), (256, 0.6), (512, 0.8)])
    ]
    batch = parse_space("batch_size", "16:512:pow2")
    rounds = [
        {"spaces": [DEFAULT_SPACES["lr"], DEFAULT_SPACES["beta"]]},
        {"spaces": [batch, DEFAULT_SPACES["beta"]]},
    ]
    columns = points.sampled_coords(first + second, rounds)
    assert {n: len(c) for n, (c, _) in columns.items()} == {"lr": 4, "batch_size": 4, "beta": 8}
    imp = {n: importance({n: c}, losses)[n] for n, (c, losses) in columns.items()}
    assert imp["lr"] == imp["batch_size"] == 1.0 and 0 < imp["beta"] < 1


def cat_trial(i: int, **params) -> TrialRecord:
    return TrialRecord(
        params=params, val_loss=0.5, val_acc=0.8, best_val_loss=0.5, best_val_acc=0.8,
        diverged=False, diverged_step=None, seconds=1.0, steps=10, curve=((10, 0.5),), id=i,
        round=1, finished_at="",
    )  # fmt: skip


def test_categorical_trials_sit_in_a_strip_around_their_category():
    acts = ["relu", "tanh", "sigmoid"]
    trials = [cat_trial(i, lr=10.0 ** -(1 + i % 3), activation=acts[i % 3]) for i in range(1, 31)]
    space = parse_space("activation", "relu,tanh,sigmoid:cat")
    pts = place(trials, parse_space("lr", "1e-4:1:log"), space, "val_loss")
    centre = np.array([acts.index(t.params["activation"]) for t in trials], dtype=float)
    offset = pts.y - centre
    assert np.all(np.abs(offset) <= STRIP_HALF_WIDTH)
    assert np.ptp(offset) > STRIP_HALF_WIDTH  # spread over the strip, not stacked
    again = place(list(reversed(trials)), parse_space("lr", "1e-4:1:log"), space, "val_loss")
    assert dict(zip(again.ids, again.y)) == dict(zip(pts.ids, pts.y))  # fixed by id


def test_boolean_bn_is_a_strip_too():
    space = parse_space("bn", "true,false:cat")
    trials = [cat_trial(i, lr=0.01, bn=i % 2 == 0) for i in range(1, 9)]
    pts = place(trials, parse_space("lr", "1e-4:1:log"), space, "val_loss")
    on = np.array([t.params["bn"] for t in trials])
    assert np.all(np.abs(pts.y[on] - space.to_axis([True])[0]) <= STRIP_HALF_WIDTH)
    assert np.all(np.abs(pts.y[~on] - space.to_axis([False])[0]) <= STRIP_HALF_WIDTH)


def test_strip_offsets_spread_evenly():
    off = strip_offsets(list(range(1, 101)))
    hist, _ = np.histogram(off, bins=5, range=(-STRIP_HALF_WIDTH, STRIP_HALF_WIDTH))
    assert hist.min() >= 15  # every fifth of the strip gets about a fifth of the points
