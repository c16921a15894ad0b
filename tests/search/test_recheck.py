"""Pairing a re-check round with the trials it repeats, and their rank correlation."""

from __future__ import annotations

import math

from bnviz.search.recheck import latest_recheck_round, rank_agreement, recheck_pairs, verdict
from bnviz.search.study import TrialRecord, TrialState


def trial(id: int, round: int, loss: float | None, recheck_of: int | None = None,
          state: TrialState = TrialState.COMPLETE) -> TrialRecord:  # fmt: skip
    return TrialRecord(
        params={"lr": 0.1 * id}, val_loss=loss, val_acc=None, best_val_loss=None,
        best_val_acc=None, diverged=state is TrialState.DIVERGED, diverged_step=None,
        seconds=0.0, steps=1, state=state, error="boom" if state is TrialState.FAILED else None,
        recheck_of=recheck_of, id=id, round=round, finished_at="",
    )  # fmt: skip


def study_trials() -> list[TrialRecord]:
    old = [trial(i, 1, loss) for i, loss in zip((1, 2, 3, 4), (0.1, 0.2, 0.3, 0.4))]
    first = [trial(5, 2, 0.5, recheck_of=1), trial(6, 2, 0.6, recheck_of=2)]
    # the second re-check: the order flips for trial 3, 4 diverged, 1's repeat failed
    second = [
        trial(7, 3, 0.25, recheck_of=2),
        trial(8, 3, 0.15, recheck_of=3),
        trial(9, 3, math.nan, recheck_of=4, state=TrialState.DIVERGED),
        trial(10, 3, None, recheck_of=1, state=TrialState.FAILED),
        trial(11, 3, 0.05, recheck_of=99),  # its original is not in the list
    ]
    return old + first + second


def test_pairs_follow_recheck_of_and_skip_failed_repeats():
    trials = study_trials()
    assert latest_recheck_round(trials) == 3
    assert latest_recheck_round(trials[:4]) is None
    pairs = recheck_pairs(trials, 3)
    assert [(p.then_id, p.now_id) for p in pairs] == [(2, 7), (3, 8), (4, 9)]
    assert [p.then_loss for p in pairs] == [0.2, 0.3, 0.4]
    assert pairs[2].now_loss == math.inf  # diverged ranks worst


def test_rank_agreement_is_spearman_of_the_pairs():
    pairs = recheck_pairs(study_trials(), 3)
    # ranks then (1, 2, 3), now (2, 1, 3): 1 - 6 * (1 + 1 + 0) / (3 * 8) = 0.5
    assert math.isclose(rank_agreement(pairs), 0.5)
    assert math.isnan(rank_agreement(recheck_pairs(study_trials(), 2)))  # 2 pairs
    assert "partly" in verdict(0.5) and "still holds" in verdict(1.0)
    assert "no longer" in verdict(-0.5) and "too few" in verdict(math.nan)
