"""Parallel coordinates (issue 20): each axis on its sampling scale, brushing keeps the band."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bnviz.search.parallel import brushed, parallel_data
from bnviz.search.spaces import parse_space
from tests.search.records import record as trial

ROUNDS = [
    {"id": 1, "spaces": [parse_space("lr", "1e-4:1:log"), parse_space("beta", "0.9:0.999:1m")]},
    {"id": 2, "spaces": [parse_space("activation", "relu,tanh,sigmoid:cat")]},
]


def test_axes_are_on_the_sampling_scale_and_the_metric_last():
    trials = [
        trial(1, {"lr": 1e-4, "beta": 0.9}, 0.5),
        trial(2, {"lr": 1e-2, "beta": 0.99}, 0.3),
        trial(3, {"lr": 1.0, "beta": 0.999}, 0.1),
        trial(4, {"activation": "tanh"}, 0.2, round=2),
    ]
    d = parallel_data(trials, ROUNDS, "val_loss")
    assert d.names == ("lr", "beta", "activation", "val_loss")
    # a decade is a decade: 1e-2 sits halfway on 1e-4..1; beta 0.99 halfway on 1 - beta
    np.testing.assert_allclose(d.y[:3, 0], [0, 0.5, 1])
    np.testing.assert_allclose(d.y[:3, 1], [1, 0.5, 0])  # 1 - beta from 0.1 down to 0.001
    assert d.y[3, 2] == 0.5 and math.isnan(d.y[0, 2]) and math.isnan(d.y[3, 0])  # gaps
    np.testing.assert_allclose(d.y[:, 3], [1, 0.5, 0, 0.25])
    assert d.metric_range == (0.1, 0.5)


def test_brushing_keeps_the_trials_inside_every_band():
    y = np.array([[0.1, 0.9], [0.5, 0.5], [0.9, math.nan], [0.6, 0.2]])
    assert list(brushed(y, {})) == [True] * 4
    assert list(brushed(y, {0: (0.4, 1.0)})) == [False, True, True, True]
    assert list(brushed(y, {0: (1.0, 0.4), 1: (0.0, 0.6)})) == [False, True, False, True]


@pytest.mark.parametrize("n", [0, 1])
def test_an_empty_or_single_study(n):
    trials = [trial(1, {"lr": 0.01}, 0.3)][:n]
    d = parallel_data(trials, ROUNDS, "val_loss")
    assert d.y.shape == (n, len(d.names))


def test_nearest_line_finds_the_line_under_a_click_and_steps_over_missing_axes():
    from bnviz.search.parallel import nearest_line

    y = np.array([[0.0, 1.0, 0.5],
                  [0.9, math.nan, 0.1],  # no value on the middle axis: drawn straight past it
                  [math.nan, math.nan, math.nan]])  # fmt: skip
    assert nearest_line(y, 0.5, 0.5, 0.02) == 0  # row 0 crosses 0.5 half way to axis 1
    assert nearest_line(y, 1.0, 0.5, 0.02) == 1  # row 1 at axis 1: (0.9 + 0.1) / 2
    assert nearest_line(y, 0.5, 0.7, 0.02) == 1  # 0.9 - 0.25 * 0.8
    assert nearest_line(y, 0.5, 0.2, 0.02) is None  # nothing within the tolerance
    assert nearest_line(y, 2.5, 0.5, 1.0) is None  # beyond the last axis
    assert nearest_line(np.zeros((0, 3)), 0.5, 0.5, 1.0) is None
