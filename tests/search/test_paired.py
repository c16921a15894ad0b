"""Shares of a paired round: counted per side, failed and diverged trials never good."""

from __future__ import annotations

import math

import pytest

from bnviz.search.paired import paired_shares, reached
from bnviz.search.study import TrialRecord


def _t(i, bn, acc, lr, state_loss=0.5, diverged=False, error=None):
    return TrialRecord(
        params={"lr": lr, "beta": 0.9, "bn": bn}, val_loss=None if diverged else state_loss,
        val_acc=None if diverged else acc, best_val_loss=None, best_val_acc=None,
        diverged=diverged, diverged_step=3 if diverged else None, seconds=1.0, steps=10,
        error=error, id=i, round=1, finished_at="",
    )  # fmt: skip


def test_shares_and_extent_per_side():
    trials = [
        _t(1, True, 0.95, 0.1), _t(2, False, 0.5, 0.1),
        _t(3, True, 0.92, 0.5), _t(4, False, 0.91, 0.5),
        _t(5, True, 0.2, 2.0, diverged=True), _t(6, False, 0.3, 2.0),
    ]  # fmt: skip
    s = paired_shares(trials, "val_acc", 0.9)
    assert (s[True].n, s[True].good, s[False].n, s[False].good) == (3, 2, 3, 1)
    assert s[True].extent["lr"] == (0.1, 0.5) and s[False].extent["lr"] == (0.5, 0.5)
    assert s[True].fraction == pytest.approx(2 / 3)
    by_loss = paired_shares(trials, "val_loss", 0.6)
    assert by_loss[True].good == 2  # the diverged one has no loss


def test_unpaired_trials_are_left_out_and_bad_metrics_refused():
    plain = _t(1, True, 0.95, 0.1)
    plain.params.pop("bn")
    s = paired_shares([plain])
    assert s[True].n == 0 and math.isnan(s[True].fraction)
    with pytest.raises(ValueError):
        paired_shares([], metric="steps")
    assert not reached(_t(1, True, 0.99, 0.1, diverged=True), "val_acc", 0.5)
