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


def test_tied_labels_share_one_and_near_ones_are_pushed_apart():
    from bnviz.search.recheck import label_groups

    at = [(5, 0.30), (3, 0.30), (9, 0.301), (1, 0.0), (7, 0.5)]
    got = label_groups(at, min_gap=0.02)
    assert [ids for _, ids in got] == [[1], [3, 5], [9], [7]]  # ties share, order kept
    ys = [y for y, _ in got]
    assert all(b - a >= 0.02 - 1e-12 for a, b in zip(ys, ys[1:]))  # none touches another
    assert ys[0] == 0.0 and ys[-1] == 0.5  # labels with room stay at their lines
    # a pushed-apart crowd stays centred on its lines: mean of (0.30, 0.301)
    assert abs((ys[1] + ys[2]) / 2 - 0.3005) < 1e-12
    # a crowd that grows into a neighbour takes it in (chained), still spaced
    crowd = label_groups([(i, 0.001 * i) for i in range(10)], min_gap=0.01)
    ys = [y for y, _ in crowd]
    assert len(crowd) == 10 and all(abs(b - a - 0.01) < 1e-12 for a, b in zip(ys, ys[1:]))
    assert abs(sum(ys) / 10 - 0.0045) < 1e-12
    assert label_groups([], 0.1) == []
