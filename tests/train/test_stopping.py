"""The rule that pauses a run left alone."""

from __future__ import annotations

import math

from bnviz.train.stopping import StopRule, plateaued


def test_epoch_budget():
    rule = StopRule(max_epochs=10, patience=0)
    assert rule.why_stop(9, [[1.0]]) is None
    assert "budget of 10 epochs" in rule.why_stop(10, [[1.0]])
    assert StopRule(max_epochs=0, patience=0).why_stop(10**6, [[1.0]]) is None


def test_plateau_needs_patience_evaluations_without_a_new_best():
    falling = [1.0 / (i + 1) for i in range(50)]
    assert not plateaued(falling, 10)
    flat = falling + [falling[-1] + 0.01] * 10  # ten evaluations, none better
    assert plateaued(flat, 10) and not plateaued(flat, 11)
    assert not plateaued(flat[:-1] + [0.001], 10)  # a new best at the end
    assert not plateaued([1.0] * 5, 10)  # too few to say


def test_every_network_must_plateau_and_a_diverged_one_counts_as_done():
    rule = StopRule(max_epochs=0, patience=3)
    still = [1.0, 0.9, 0.8, 0.7, 0.6]
    flat = [1.0, 0.5, 0.6, 0.6, 0.6]
    assert rule.why_stop(5, [flat, still]) is None
    assert "plateau" in rule.why_stop(5, [flat, [math.nan] * 5])
    assert "plateau" in rule.why_stop(5, [flat, [1.0, math.nan]])  # diverged early
    assert "plateau" in rule.why_stop(5, [flat])
