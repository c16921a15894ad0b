"""The babysitting verdicts agree with what training does, on real training: the app's default
(spirals, 4 x 32 sigmoid, BN, SGD alpha 0.5, which learns) is never "too high" nor "too low";
alpha = 50 (it diverges by step 50) is "too high" before it diverges; alpha = 0.005 (it crawls)
is "too low". Three seeds each, the readings the view gets (every 10 steps)."""

from __future__ import annotations

import pytest

from bnviz.lessons.babysitting import GROWTH_HIGH, TOO_HIGH, TOO_LOW, Babysitter, verdict
from bnviz.train.config import TrainConfig
from bnviz.train.probes import ProbeContext, request, resolve
from bnviz.train.trainer import Trainer

SEEDS = (0, 1, 2)


def _verdicts(config: TrainConfig, steps: int) -> list[tuple[int, dict[int, str]]]:
    """(step, {layer: verdict}) at every reading the view would get, until divergence."""
    t = Trainer(config)
    fn = resolve(request("babysit_signals")).fn
    sitter = Babysitter()
    out = []
    for step in range(1, steps + 1):
        t.step()
        if t.all_diverged:
            break
        if step % 10 == 0:
            (point,) = fn(ProbeContext(t))
            out.append((step, sitter.add(point)))
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_the_default_is_healthy(seed):
    readings = _verdicts(TrainConfig(seed=seed), 600)
    assert len(readings) == 60
    for step, layers in readings:
        assert all(v == "healthy" for v in layers.values()), (step, layers)


@pytest.mark.parametrize("seed", SEEDS)
def test_alpha_50_is_too_high_before_it_diverges(seed):
    readings = _verdicts(TrainConfig(seed=seed, lr=50.0), 200)
    assert readings and readings[-1][0] < 200  # it diverged
    for step, layers in readings:  # every reading says so, not just one
        assert any(v.startswith(TOO_HIGH) for v in layers.values()), (step, layers)


@pytest.mark.parametrize("seed", SEEDS)
def test_alpha_0_005_is_too_low(seed):
    readings = _verdicts(TrainConfig(seed=seed, lr=0.005), 400)
    for step, layers in readings[9:]:  # from step 100 on, once the window is full
        assert any(v.startswith(TOO_LOW) for v in layers.values()), (step, layers)
        assert not any(v.startswith(TOO_HIGH) for v in layers.values())


def test_a_bn_layer_that_grew_is_too_high_whatever_its_ratio():
    assert verdict([1e-2] * 5, growth=2 * GROWTH_HIGH, batchnorm=True).startswith(TOO_HIGH)
    assert verdict([1e-2] * 5, growth=2 * GROWTH_HIGH, batchnorm=False) == "healthy"
    assert verdict([1e-2, 1e-2, 1.0, 1e-2, 1e-2]) == "healthy"  # the median: one jump is not it
    assert verdict([float("nan")]) == "not finite"
