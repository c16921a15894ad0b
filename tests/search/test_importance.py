"""Importance (|Spearman|) and the linear/log sampling histograms of the explorer."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bnviz.search.importance import (
    importance,
    loss_for_ranking,
    rankdata,
    scale_histograms,
    spearman,
)


def test_rankdata_averages_ties():
    assert rankdata([10, 20, 20, 5]).tolist() == [2.0, 3.5, 3.5, 1.0]
    assert rankdata([math.inf, 1.0, math.inf]).tolist() == [2.5, 1.0, 2.5]


def test_spearman_is_rank_based_and_signed():
    x = np.linspace(-4, 0, 20)
    assert spearman(x, np.exp(-3 * x)) == pytest.approx(-1.0)  # monotone, not linear
    assert spearman(x, x**3) == pytest.approx(1.0)
    assert math.isnan(spearman([1, 1, 1, 1], [1, 2, 3, 4]))  # a fixed parameter
    assert math.isnan(spearman([1, 2], [2, 1]))
    with pytest.raises(ValueError):
        spearman([1, 2, 3], [1, 2])


def test_importance_finds_the_parameter_that_matters():
    rng = np.random.default_rng(0)
    lr = rng.uniform(-4, 0, 200)  # log10(lr)
    beta = rng.uniform(-3, -1, 200)  # log10(1 - beta)
    loss = (lr + 2) ** 2 + 0.01 * rng.normal(size=200)  # only lr matters, best at 1e-2
    loss[lr > -0.3] = math.inf  # the largest rates diverge
    imp = importance({"lr": np.abs(lr + 2), "beta": beta}, loss)
    assert imp["lr"] > 0.9
    assert imp["beta"] < 0.2


def test_loss_for_ranking():
    assert loss_for_ranking(0.5, False) == 0.5
    assert loss_for_ranking(0.5, True) == math.inf
    assert loss_for_ranking(None, False) == math.inf
    assert loss_for_ranking(math.nan, False) == math.inf


def test_log_uniform_samples_fill_decades_evenly_not_linear_bins():
    rng = np.random.default_rng(1)
    lr = 10 ** rng.uniform(-4, 0, 10_000)
    lin_edges, lin_counts, log_edges, log_counts = scale_histograms(lr, 1e-4, 1.0)
    assert len(lin_edges) == len(lin_counts) + 1 and len(log_edges) == len(log_counts) + 1
    assert lin_counts.sum() == log_counts.sum() == 10_000
    # on a linear axis the first bin [1e-4, 0.1] holds three of the four decades
    assert lin_counts[0] / 10_000 == pytest.approx(0.75, abs=0.02)
    assert log_counts.min() > 0.8 * log_counts.max()


def test_histograms_without_log_for_nonpositive_ranges():
    _, counts, log_edges, log_counts = scale_histograms([0.0, 0.5, 1.0, math.nan], 0.0, 1.0)
    assert counts.sum() == 3 and log_edges is None and log_counts is None
    edges, counts, _, _ = scale_histograms([3, 3], 3.0, 3.0)
    assert edges[0] < 3 < edges[-1] and counts.sum() == 2


def test_course_tiers_and_agreement():
    from bnviz.search.importance import agreement, course_tier

    assert course_tier("lr") == 1 and course_tier("beta2") == 4 and course_tier("bn") is None
    assert agreement({"lr": 0.9, "beta": 0.3, "bn": 0.5}).endswith("agrees with the course's order")
    flipped = agreement({"lr": 0.1, "width": 0.8})
    assert "measured: width 0.80 > lr 0.10" in flipped and "ranks lr above width" in flipped
    assert "too few" in agreement({"lr": 0.5, "bn": 0.2})
    assert agreement({"lr": float("nan")}).startswith("not enough")


def test_bootstrap_intervals_are_tight_for_a_clear_order_and_widen_with_noise():
    from bnviz.search.importance import MIN_TRIALS, importance_interval, spearman

    rng = np.random.default_rng(1)
    x = rng.uniform(-4, 0, 60)
    assert importance_interval(x, 2 * x + 1) == (1.0, 1.0)  # a perfect order: every resample
    noisy = x + rng.normal(0, 1.0, 60)
    lo, hi = importance_interval(x, noisy)
    assert lo < abs(spearman(x, noisy)) < hi and 0 < lo and hi <= 1
    lo_few, hi_few = importance_interval(x[:12], noisy[:12])
    assert hi_few - lo_few > hi - lo  # fewer trials, a wider interval
    assert np.isnan(importance_interval(x[: MIN_TRIALS - 1], noisy[: MIN_TRIALS - 1])).all()
    assert importance_interval(x, noisy) == (lo, hi)  # the same study, the same interval


def test_the_vectorised_bootstrap_is_spearman_of_each_resample():
    from bnviz.search.importance import bootstrap_spearman, spearman

    rng = np.random.default_rng(2)
    x = np.round(rng.uniform(0, 5, 30))  # many ties
    y = np.where(rng.random(30) < 0.2, np.inf, rng.normal(size=30))  # diverged trials: inf
    index = rng.integers(0, 30, (25, 30))
    got = bootstrap_spearman(x, y, index)
    want = [spearman(x[i], y[i]) for i in index]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
