"""The importance interval (issue 20): rho's percentile bootstrap interval mapped to |rho|, so a
parameter that does nothing gets an interval reaching 0; the noise band behind MIN_TRIALS."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bnviz.search.importance import (
    MIN_TRIALS,
    abs_interval,
    bootstrap_spearman,
    importance_interval,
    noise_band,
    spearman,
)


def test_abs_interval_maps_rho_intervals_to_abs_rho():
    assert abs_interval(-0.2, 0.5) == (0.0, 0.5)
    assert abs_interval(-0.7, 0.3) == (0.0, 0.7)
    assert abs_interval(-0.7, -0.3) == (0.3, 0.7)
    assert abs_interval(0.1, 0.4) == (0.1, 0.4)


def test_a_parameter_that_does_nothing_gets_an_interval_that_reaches_zero():
    """Percentiles of |rho| itself are folded away from 0 and would never admit that a
    parameter may not matter at all; rho's interval mapped to |rho| does in ~95% of studies."""
    rng = np.random.default_rng(2)
    reaches = 0
    studies = 100
    for i in range(studies):
        x, y = rng.uniform(size=40), rng.uniform(size=40)
        reaches += importance_interval(x, y, samples=300, seed=i)[0] == 0.0
        index = np.random.default_rng(i).integers(0, 40, (300, 40))
        folded = np.abs(bootstrap_spearman(x, y, index))
        assert np.percentile(folded, 2.5) > 0.0  # what the folded percentiles would say
    assert reaches / studies >= 0.85


def test_the_interval_covers_the_true_rank_correlation_at_the_minimum_and_above():
    """Bivariate normal with Pearson r has Spearman 6/pi asin(r/2) (Pearson, 1907)."""
    r = 0.6
    true = 6 / math.pi * math.asin(r / 2)
    rng = np.random.default_rng(1)
    for n in (MIN_TRIALS, 40):
        cover, studies = 0, 120
        for i in range(studies):
            z = rng.standard_normal((n, 2))
            x, y = z[:, 0], r * z[:, 0] + math.sqrt(1 - r * r) * z[:, 1]
            lo, hi = importance_interval(x, y, samples=600, seed=i)
            cover += lo <= true <= hi
        assert 0.88 <= cover / studies <= 1.0, n


def test_noise_band_is_the_95th_percentile_of_rho_between_unrelated_columns():
    rng = np.random.default_rng(0)
    n = 40
    rho = [abs(spearman(rng.uniform(size=n), rng.uniform(size=n))) for _ in range(4000)]
    assert np.quantile(rho, 0.95) == pytest.approx(noise_band(n), abs=0.03)
    assert noise_band(MIN_TRIALS) == pytest.approx(0.74, abs=0.005)  # the stated reason
    assert noise_band(MIN_TRIALS - 1) > 0.8 and noise_band(1) == math.inf


def test_the_interval_holds_its_estimate():
    rng = np.random.default_rng(4)
    for i in range(30):
        x, y = rng.uniform(size=12), rng.uniform(size=12)
        lo, hi = importance_interval(x, y, samples=200, seed=i)
        assert lo <= abs(spearman(x, y)) <= hi
