"""The lessons' seeded experiments at tiny sizes: what they measure, by identities (twins that
cannot differ, targets that cannot be missed) and against the lesson's own measurement."""

from __future__ import annotations

import numpy as np
import pytest

import bnviz.lessons.test_time_evidence as test_time
from bnviz.lessons.batch_noise_evidence import FIT_ACC, batch_noise_evidence
from bnviz.lessons.catalog import find_lesson_info
from bnviz.lessons.first_minute import first_minute_evidence
from bnviz.lessons.landscape import DEFAULT_ETA_FACTORS, landscape
from bnviz.lessons.seeded import covariate_shift_evidence, landscape_evidence, twin_config
from bnviz.search.executors import make_executor
from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.jobs import Cancelled
from bnviz.train.trainer import Trainer

SMALL = TrainConfig(hidden=(16, 16), n_samples=200, lr=0.1, batch_size=16)


def test_landscape_units_are_the_lessons_band_widths_at_each_step():
    ev = landscape_evidence(SMALL, [0, 1], steps=200, every=100)
    assert [u.seed for u in ev.units] == [0, 0, 1, 1]
    # seed 1's second unit, measured again by hand: train the twins 200 steps, band of losses
    trainer = Trainer(twin_config(SMALL, 1))
    trainer.run(200)
    X, y = trainer.last_batch
    bands = {}
    for r in trainer.runs:
        got = landscape(r.net, X, y, [f * r.opt.hyper.lr for f in DEFAULT_ETA_FACTORS])
        bands[r.name] = got.loss.max() - got.loss.min()
    assert (ev.units[3].bn, ev.units[3].plain) == pytest.approx((bands["bn"], bands["plain"]))
    assert ev.per_seed[1].bn == pytest.approx(np.mean([u.bn for u in ev.units[2:]]))
    assert ev.direction == -1 and ev.claim == find_lesson_info("loss-landscape").claim
    assert 0 <= ev.extra["share_bn_smaller"] <= 1 and ev.setting["steps"] == 200


def test_twins_that_cannot_differ_give_a_zero_difference_and_no_verdict():
    # no hidden layer: nothing for batch norm to normalize, so BN and plain are one network
    flat = TrainConfig(hidden=(), n_samples=200, batch_size=16)
    ev = landscape_evidence(flat, [0, 1], steps=200, every=100)
    assert all(u.bn == u.plain for u in ev.units)
    assert ev.difference.ci95 == (0.0, 0.0) and ev.verdict == "inconclusive"


def test_covariate_shift_measures_a_moving_input_in_worker_processes():
    with make_executor(2) as executor:
        ev = covariate_shift_evidence(SMALL, [0, 1], steps=200, every=100, executor=executor)
    assert len(ev.units) == 4 and all(u.bn > 0 and u.plain > 0 for u in ev.units)
    means = ev.extra["means"]
    assert means["bn"]["w1"] == pytest.approx(ev.bn.mean)
    assert set(means["plain"]) == {"w1", "d_mean", "d_std", "grad_relative"}


def test_nothing_to_measure_is_refused():
    with pytest.raises(ConfigError, match="nothing to measure"):
        landscape_evidence(SMALL, [0], steps=50, every=100)


def test_cancel_stops_the_experiment():
    with pytest.raises(Cancelled):
        landscape_evidence(SMALL, [0, 1], steps=200, every=100, cancel=lambda: True)


def test_test_time_own_statistics_predict_one_class_for_all():
    ev = test_time.test_time_evidence(TrainConfig(hidden=(16, 16), n_samples=300), [0, 1],
                                      steps=300)  # fmt: skip
    for s in ("0", "1"):
        own, chance = ev.extra["bn_own_statistics"][s], ev.extra["chance"][s]
        # variance 0: z_norm = 0 for every example, one output for all: at most the largest class
        assert own <= chance + 1e-12
    assert all(r.bn > ev.extra["bn_own_statistics"][str(r.seed)] for r in ev.per_seed)
    assert ev.interval == "t over 2 seeds (1 df)"


def test_first_minute_counts_a_target_never_reached_as_the_budget():
    ev = first_minute_evidence(SMALL, [0, 1], target=1.0, max_steps=50)  # 100%: not in 50 steps
    assert len(ev.extra["censored"]) == 4
    assert [(r.bn, r.plain) for r in ev.per_seed] == [(50.0, 50.0), (50.0, 50.0)]
    easy = first_minute_evidence(SMALL, [0, 1], target=0.01, max_steps=50)
    # any network beats 1% at the first evaluation: both at step 25, no difference
    assert [(r.bn, r.plain) for r in easy.per_seed] == [(25.0, 25.0), (25.0, 25.0)]
    assert easy.verdict == "inconclusive" and easy.direction == -1


def test_batch_noise_counts_only_pairs_where_both_networks_fit():
    blobs = TrainConfig(dataset="blobs", hidden=(16,), n_samples=200, optimizer="adam", lr=0.01)
    ev = batch_noise_evidence(blobs, [0, 1], sizes=(16, 64), epochs=3)
    assert len(ev.units) == 4 - len(ev.extra["left_out"]) and len(ev.extra["pairs"]) == 4
    for p in ev.extra["pairs"]:
        fit = p["bn"]["train_acc"] >= FIT_ACC and p["plain"]["train_acc"] >= FIT_ACC
        left = any(o["seed"] == p["seed"] and o["batch_size"] == p["batch_size"]
                   for o in ev.extra["left_out"])  # fmt: skip
        assert fit != left
        assert p["bn"]["gap"] == pytest.approx(p["bn"]["val_loss"] - p["bn"]["train_loss"])
    crawling = TrainConfig(hidden=(16,), n_samples=200, lr=1e-6)  # learns nothing in an epoch
    with pytest.raises(ConfigError, match="no pair where both networks reached"):
        batch_noise_evidence(crawling, [0], sizes=(64,), epochs=1)
