"""BN and plain at alpha, 5 alpha, 30 alpha: the t interval by hand, chance for a diverged
network, and the summary per multiple."""

from __future__ import annotations

import math

import pytest

from bnviz.lessons.lr_multiples import (
    MultipleRun,
    multiples_experiment,
    summarize,
    t_interval,
    twins_at,
)
from bnviz.train.config import TrainConfig


def test_t_interval_by_hand():
    m, lo, hi = t_interval([1.0, 2.0, 3.0])  # sd 1, t(0.975, 2 df) = 4.303
    assert m == 2 and hi - m == pytest.approx(4.3027 / math.sqrt(3), rel=1e-4)
    assert m - lo == pytest.approx(hi - m)
    assert t_interval([5.0])[1:] == (-math.inf, math.inf)


def test_twins_share_the_start_and_a_diverged_network_scores_chance():
    c = TrainConfig(dataset="blobs", n_samples=300, hidden=(16, 16), activation="relu",
                    optimizer="sgd", lr=0.1)  # fmt: skip
    bn, plain = twins_at(c, seed=1, multiple=1.0, steps=20)
    assert (bn.batchnorm, plain.batchnorm) == (True, False) and bn.lr == plain.lr == 0.1
    assert not bn.diverged and not plain.diverged and bn.val_acc > 0.5
    _, wild = twins_at(c, seed=1, multiple=1e5, steps=20)
    assert wild.diverged and wild.val_acc == pytest.approx(1 / 3) and math.isnan(wild.val_loss)


def _run(seed, m, bn, acc, div=None):
    return MultipleRun(seed, m, 0.1 * m, bn, div, acc, 0.5)


def test_summary_counts_divergences_and_pairs_by_seed():
    pairs = [
        (_run(0, 30.0, True, 0.9), _run(0, 30.0, False, 0.1, div=4)),
        (_run(1, 30.0, True, 0.8), _run(1, 30.0, False, 0.1, div=3)),
        (_run(0, 1.0, True, 0.9), _run(0, 1.0, False, 0.85)),
        (_run(1, 1.0, True, 0.9), _run(1, 1.0, False, 0.95)),
    ]
    one, thirty = summarize(pairs)
    assert (one.multiple, thirty.multiple) == (1.0, 30.0)
    assert (thirty.bn_diverged, thirty.plain_diverged, thirty.seeds) == (0, 2, 2)
    assert thirty.difference[0] == pytest.approx(0.75) and one.difference[0] == pytest.approx(0)


def test_the_experiment_runs_inline_and_cancels():
    c = TrainConfig(dataset="blobs", n_samples=200, hidden=(8,), lr=0.1)
    fs = multiples_experiment(c, seeds=(0,), multiples=(1.0, 5.0), steps=5)
    assert [f.result()[0].multiple for f in fs] == [1.0, 5.0]
    fs = multiples_experiment(c, seeds=(0, 1), steps=5, cancel=lambda: True)
    assert all(f.cancelled() for f in fs)
