"""The paired search over seeds: the round's own sampling, the pairs as units, and the shares."""

from __future__ import annotations

import pytest

from bnviz.lessons.catalog import find_lesson_info
from bnviz.search.executors import SweepError
from bnviz.search.paired import easier_search_evidence
from bnviz.search.plan import sample_configs
from bnviz.search.spaces import parse_space
from bnviz.train.config import TrainConfig

SMALL = TrainConfig(hidden=(8,), n_samples=120, batch_size=16)


def test_every_point_is_a_pair_sampled_as_the_round_samples_it():
    ev = easier_search_evidence(SMALL, [3, 4], n=3, epochs=1, target=("val_acc", 0.0))
    assert [u.seed for u in ev.units] == [3, 3, 3, 4, 4, 4]
    points = ev.extra["points"]
    spaces = [parse_space("lr", "1e-4:1:log"), parse_space("beta", "0.9:0.999:1m")]
    sampled = sample_configs(spaces, 3, seed=3)  # the paired round of seed 3 samples these
    assert [(p["lr"], p["beta"]) for p in points[:3]] == [(s["lr"], s["beta"]) for s in sampled]
    # val_acc >= 0: every trial that completed reaches it, so the shares count the completed
    for u, p in zip(ev.units, points):
        assert u.bn == (p["bn"]["state"] == "complete")
        assert u.plain == (p["plain"]["state"] == "complete")
    assert ev.claim == find_lesson_info("bn-makes-the-search-easier").claim
    assert ev.setting["optimizer"] == "momentum"  # plain SGD has no beta to search


def test_a_target_nobody_reaches_gives_equal_zero_shares():
    ev = easier_search_evidence(SMALL, [0, 1], n=2, epochs=1, target=("val_acc", 1.01))
    assert [(r.bn, r.plain) for r in ev.per_seed] == [(0.0, 0.0), (0.0, 0.0)]
    assert ev.difference.ci95 == (0.0, 0.0) and ev.verdict == "inconclusive"


def test_bad_input_is_one_clear_error():
    with pytest.raises(SweepError, match="val_acc or val_loss"):
        easier_search_evidence(SMALL, [0], target=("acc", 0.9))
    with pytest.raises(SweepError, match="lr"):
        easier_search_evidence(SMALL, [0], lr="nope")
