"""The range test: its schedule, the smoothed loss against a hand-rolled EWMA of the raw losses,
the stop rule, the trimming the suggestions read, twins on the same start and mini-batches, and
a copy tested leaves the original networks alone."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bnviz.lessons.lr_range import (
    range_test,
    schedule,
    suggestion_window,
)
from bnviz.lessons.lr_suggest import lr_suggestions
from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.trainer import Trainer

SMALL = dict(dataset="blobs", n_samples=300, hidden=(16, 16), batch_size=32, optimizer="sgd")


def test_schedule_is_geometric_from_start_to_end():
    lrs = schedule(1e-7, 10.0, 100)
    assert len(lrs) == 100 and lrs[0] == 1e-7 and lrs[-1] == pytest.approx(10.0, rel=1e-12)
    ratios = lrs[1:] / lrs[:-1]
    assert np.allclose(ratios, (1e8) ** (1 / 99), rtol=1e-12)


@pytest.mark.parametrize(
    "start, end, n, match",
    [(1.0, 0.1, 10, "start < end"), (0.0, 1.0, 10, "0 < start"), (1e-3, 1.0, 5, ">= 6")],
)
def test_bad_ranges_are_refused(start, end, n, match):
    with pytest.raises(ConfigError, match=match):
        schedule(start, end, n)


def test_smoothed_losses_are_fastais_debiased_ewma_of_the_raw_losses():
    c = TrainConfig(**SMALL, seed=4)
    (curve,) = range_test(c, start=1e-4, end=1.0, num_it=30, stop_div=False)
    # The same steps by hand: the lr set before each step, an EWMA of the raw losses.
    trainer, lrs = Trainer(c), schedule(1e-4, 1.0, 30)
    v, expected = 0.0, []
    for t, lr in enumerate(lrs, start=1):
        trainer.runs[0].opt.set(lr=float(lr))
        (raw,) = trainer.step()
        v = 0.98 * v + 0.02 * raw
        expected.append(v / (1 - 0.98**t))
    assert np.allclose(curve.lrs, lrs, rtol=1e-15)
    assert np.allclose(curve.losses, expected, rtol=1e-12)


def _stopped_by_the_rule(losses) -> int:
    """The index of the first step whose smoothed loss passes 4x its best so far or is NaN."""
    best = math.inf
    for i, v in enumerate(losses):
        if math.isnan(v):
            return i
        best = min(best, v)
        if v > 4 * best:
            return i
    return -1


def test_the_test_stops_after_the_step_that_passes_4x_the_best():
    c = TrainConfig(**SMALL, seed=1, compare=True)
    full = range_test(c, start=1e-3, end=1e4, num_it=60, stop_div=False)
    stopped = range_test(c, start=1e-3, end=1e4, num_it=60)
    for f, s in zip(full, stopped):
        assert len(f.lrs) == 60
        i = _stopped_by_the_rule(f.losses)
        assert i >= 0, "the range reaches an lr that blows the loss up"
        assert len(s.lrs) == i + 1 and "step" in s.stop
        np.testing.assert_array_equal(s.losses, f.losses[: i + 1])


def test_suggestions_read_the_trimmed_window_cut_at_the_first_nan():
    lrs = np.arange(1.0, 31.0)
    losses = np.linspace(3, 1, 30)
    losses[20] = np.nan
    x, y = suggestion_window(lrs, losses, num_it=30)  # [3:-5] -> indices 3..24, cut at 20
    np.testing.assert_array_equal(x, lrs[3:20])
    c = TrainConfig(**SMALL, seed=2)
    (curve,) = range_test(c, start=1e-3, end=1e3, num_it=40)
    n = len(curve.lrs)
    x, y = np.array(curve.lrs[4 : n - 5]), np.array(curve.losses[4 : n - 5])
    keep = np.isfinite(y).cumprod().astype(bool)
    assert curve.suggestions == lr_suggestions(x[keep], y[keep])


def test_twins_share_the_start_and_the_mini_batches():
    # SGD and momentum take the same first gradient at the same W on the same batch: the first
    # smoothed loss (the first raw loss) is the same; the updates then differ.
    c = TrainConfig(**SMALL, seed=3, compare=True, compare_setting="optimizer",
                    compare_value="momentum")  # fmt: skip
    a, b = range_test(c, start=1e-2, end=1.0, num_it=10, stop_div=False)
    assert (a.run, b.run) == ("optimizer=sgd", "optimizer=momentum")
    assert a.losses[0] == b.losses[0] and a.losses[-1] != b.losses[-1]


def test_bn_vs_plain_are_named_as_in_compare_mode():
    curves = range_test(TrainConfig(**SMALL, compare=True), start=1e-3, end=1, num_it=8)
    assert [c.run for c in curves] == ["with BN", "without BN"]
    assert [c.batchnorm for c in curves] == [True, False]


def test_twins_that_differ_in_lr_are_refused():
    c = TrainConfig(**SMALL, compare=True, compare_setting="lr")
    with pytest.raises(ConfigError, match="learning rate"):
        range_test(c, num_it=10)


def test_a_copy_is_tested_and_the_original_left_alone():
    live = Trainer(TrainConfig(**SMALL, compare=True, seed=5))
    live.run(7)
    before = [(r.net.flat_params.copy(), r.net.flat_buffers.copy(), r.opt.hyper) for r in live.runs]
    step, pos = live.step_count, live.stream._pos
    copy = Trainer.resume(live.checkpoint(), live.data)
    curves = range_test(live.config, start=1e-3, end=1e3, num_it=30, trainer=copy)
    assert all(len(c.lrs) > 5 for c in curves)
    for r, (w, buf, hyper) in zip(live.runs, before):
        np.testing.assert_array_equal(r.net.flat_params, w)
        np.testing.assert_array_equal(r.net.flat_buffers, buf)
        assert r.opt.hyper == hyper
    assert (live.step_count, live.stream._pos) == (step, pos)


def test_the_views_copy_comes_through_a_probe_and_leaves_the_live_networks_alone():
    from bnviz.lessons.lr_range import range_test_copy, trainer_copy
    from bnviz.train.probes import ProbeContext

    live = Trainer(TrainConfig(**SMALL, compare=True, seed=6))
    live.run(5)
    before = [r.net.flat_params.copy() for r in live.runs]
    curves = range_test_copy(trainer_copy(ProbeContext(live)), 1e-3, 1e3, 25)
    assert [c.run for c in curves] == ["with BN", "without BN"]
    for r, w in zip(live.runs, before):
        np.testing.assert_array_equal(r.net.flat_params, w)
