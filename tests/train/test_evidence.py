"""Claims over seeds: the stratified bootstrap and the t interval by identities and hand
computation, the verdict rules, and the JSON layout."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from bnviz.train.evidence import (
    Estimate,
    SeedResult,
    Unit,
    stratified_bootstrap,
    summarize,
    t_interval,
    t_quantile_975,
    verdict_of,
)

ISSUE_KEYS = {"lesson", "claim", "measure", "setting", "seeds", "per_seed", "bn", "plain",
              "difference", "verdict"}  # fmt: skip


def _units(rng: np.random.Generator, seeds=(0, 1, 2), n=20, shift=0.0) -> list[Unit]:
    return [Unit(s, float(b), float(b - 1.0 + shift)) for s in seeds
            for b in rng.normal(2.0 + s, 1.0, n)]  # fmt: skip


def _evidence(units, direction=1, **kw):
    return summarize("x", "claim", "measure", {"lr": 0.1}, direction, units=units, **kw)


def test_a_constant_difference_gives_a_degenerate_interval_at_that_value():
    ev = _evidence(_units(np.random.default_rng(1), shift=0.25))  # bn - plain = 0.75 everywhere
    assert ev.difference.mean == pytest.approx(0.75)
    assert ev.difference.ci95 == pytest.approx((0.75, 0.75))
    assert ev.verdict == "supports"
    assert ev.bn.ci95[0] < ev.bn.mean < ev.bn.ci95[1]  # the sides themselves vary


def test_shifting_every_bn_value_moves_the_interval_by_the_shift():
    units = _units(np.random.default_rng(2))
    units = [
        Unit(u.seed, u.bn, u.plain + float(np.random.default_rng(u.seed).normal())) for u in units
    ]
    base = _evidence(units)
    moved = _evidence([Unit(u.seed, u.bn + 3.0, u.plain) for u in units])
    assert moved.difference.mean == pytest.approx(base.difference.mean + 3.0)
    assert moved.difference.ci95 == pytest.approx(tuple(x + 3.0 for x in base.difference.ci95))
    assert moved.plain == base.plain


def test_the_bootstrap_resamples_within_seeds_only():
    # seed 0 all 0, seed 1 all 1: resampling within each seed never changes the mean 0.5,
    # resampling the pooled 40 values would
    strata = [np.zeros(30), np.ones(10)]
    est = stratified_bootstrap(strata, resamples=2000)
    assert est.mean == 0.5 and est.ci95 == (0.5, 0.5)
    ev = _evidence([Unit(0, 0.0, 0.0)] * 30 + [Unit(1, 1.0, 0.0)] * 10)
    assert [(r.seed, r.bn) for r in ev.per_seed] == [(0, 0.0), (1, 1.0)]
    assert ev.bn.mean == 0.5  # the mean of per_seed, every seed weighing the same


def test_the_bootstrap_interval_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    hits, reps = 0, 300
    for i in range(reps):
        strata = [rng.normal(m, 1.0, 40) for m in (0.0, 1.0, 2.0)]  # true mean of means: 1
        lo, hi = stratified_bootstrap(strata, resamples=1000, rng_seed=i).ci95
        hits += lo <= 1.0 <= hi
    assert 0.88 <= hits / reps <= 0.99


def test_the_t_interval_is_the_hand_computed_one():
    # values 1, 2, 3: mean 2, s = 1, t(2 df) = 4.3027, half width 4.3027 / sqrt(3) = 2.48417
    est = t_interval([1.0, 2.0, 3.0])
    assert est.mean == 2.0
    assert est.ci95 == pytest.approx((2.0 - 2.48417, 2.0 + 2.48417), abs=1e-5)
    rows = [SeedResult(s, bn, 0.5) for s, bn in enumerate((1.0, 2.0, 3.0))]
    ev = summarize("x", "c", "m", {}, 1, per_seed=rows)
    assert ev.difference.ci95 == pytest.approx((1.5 - 2.48417, 1.5 + 2.48417), abs=1e-5)
    assert ev.interval == "t over 3 seeds (2 df)"
    assert ev.verdict == "inconclusive" and ev.seeds == (0, 1, 2)


TABLE = [(1, 12.7062), (2, 4.3027), (10, 2.2281), (30, 2.0423), (31, 2.0395), (40, 2.0211),
         (60, 2.0003), (120, 1.9799)]  # fmt: skip


@pytest.mark.parametrize(("df", "t"), TABLE)
def test_t_quantiles_match_the_printed_table(df, t):
    assert t_quantile_975(df) == pytest.approx(t, abs=2e-4)


def test_one_seed_has_no_interval_and_no_verdict():
    ev = summarize("x", "c", "m", {}, 1, per_seed=[SeedResult(0, 5.0, 1.0)])
    assert ev.difference.ci95 == (-math.inf, math.inf) and ev.verdict == "inconclusive"
    assert ev.to_json()["difference"] == {"mean": 4.0, "ci95": [None, None]}


@pytest.mark.parametrize(
    ("ci", "direction", "verdict"),
    [((0.1, 0.3), 1, "supports"), ((0.1, 0.3), -1, "refutes"), ((-0.3, -0.1), -1, "supports"),
     ((-0.3, -0.1), 1, "refutes"), ((-0.1, 0.3), 1, "inconclusive"),
     ((0.0, 0.3), 1, "inconclusive"), ((-0.3, 0.0), -1, "inconclusive"),
     ((math.nan, math.nan), 1, "inconclusive")],
)  # fmt: skip
def test_verdict_rules(ci, direction, verdict):
    assert verdict_of(Estimate(0.0, ci), direction) == verdict


def test_a_direction_must_be_plus_or_minus_one():
    with pytest.raises(ValueError, match="direction"):
        verdict_of(Estimate(0.0, (1.0, 2.0)), 0)


def test_to_json_has_the_issue_keys_and_is_strict_json():
    units = _units(np.random.default_rng(3), n=5) + [Unit(9, math.nan, 1.0)] * 2
    ev = _evidence(units, direction=-1, extra={"single": (0.3, np.float64(0.5)), "n": np.int64(4)})
    out = ev.to_json()
    assert ISSUE_KEYS <= set(out) and {"direction", "interval", "units", "extra"} <= set(out)
    assert out["seeds"] == [0, 1, 2, 9]
    assert out["per_seed"][3] == {"seed": 9, "bn": None, "plain": 1.0}
    assert out["bn"]["ci95"] == [None, None]  # a NaN unit: no interval
    assert out["difference"]["ci95"] == [None, None] and out["verdict"] == "inconclusive"
    assert out["extra"] == {"single": [0.3, 0.5], "n": 4}
    json.dumps(out, allow_nan=False)
    assert "bootstrap over 17 pairs stratified by seed" in out["interval"]


def test_a_seed_with_one_unit_falls_back_to_t_over_the_seeds_means():
    # one unit per seed: a bootstrap would give a zero-width interval and claim certainty
    units = [Unit(0, 1.0, 0.0), Unit(1, 2.0, 0.0), Unit(2, 3.0, 0.0)]
    ev = _evidence(units)
    assert ev.interval == "t over 3 seeds (2 df)"
    assert ev.difference.ci95 == pytest.approx((2.0 - 2.48417, 2.0 + 2.48417), abs=1e-5)
    assert ev.units == tuple(units) and ev.verdict == "inconclusive"
