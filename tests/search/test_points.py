"""Where the explorer puts trials: categorical hyperparameters as jittered strips."""

from __future__ import annotations

import numpy as np

from bnviz.search.points import STRIP_HALF_WIDTH, place, strip_offsets
from bnviz.search.spaces import parse_space
from bnviz.search.study import TrialRecord


def trial(i: int, **params) -> TrialRecord:
    return TrialRecord(
        params=params, val_loss=0.5, val_acc=0.8, best_val_loss=0.5, best_val_acc=0.8,
        diverged=False, diverged_step=None, seconds=1.0, steps=10, curve=(0.5,), id=i, round=1,
        finished_at="",
    )  # fmt: skip


def test_categorical_trials_sit_in_a_strip_around_their_category():
    acts = ["relu", "tanh", "sigmoid"]
    trials = [trial(i, lr=10.0 ** -(1 + i % 3), activation=acts[i % 3]) for i in range(1, 31)]
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
    trials = [trial(i, lr=0.01, bn=i % 2 == 0) for i in range(1, 9)]
    pts = place(trials, parse_space("lr", "1e-4:1:log"), space, "val_loss")
    on = np.array([t.params["bn"] for t in trials])
    assert np.all(np.abs(pts.y[on] - space.to_axis([True])[0]) <= STRIP_HALF_WIDTH)
    assert np.all(np.abs(pts.y[~on] - space.to_axis([False])[0]) <= STRIP_HALF_WIDTH)


def test_strip_offsets_spread_evenly():
    off = strip_offsets(list(range(1, 101)))
    hist, _ = np.histogram(off, bins=5, range=(-STRIP_HALF_WIDTH, STRIP_HALF_WIDTH))
    assert hist.min() >= 15  # every fifth of the strip gets about a fifth of the points
