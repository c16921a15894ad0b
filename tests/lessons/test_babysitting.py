"""Babysitting signals: for plain SGD the ratio is ||alpha dW|| / ||W|| exactly; for Adam the
update is the one the real step makes; nothing live changes."""

from __future__ import annotations

import numpy as np
import pytest

from bnviz.lessons.babysitting import HIGH, LOW, init_norm, layer_signals, verdict
from bnviz.nn.network import MLP
from bnviz.nn.optim import Hyper, Optimizer


def _net_with_gradient(kind: str, lr: float):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((32, 4)), rng.integers(0, 3, 32)
    net = MLP([4, 10, 6, 3], activation="tanh", batchnorm=True, seed=1, dtype=np.float64)
    opt = Optimizer(kind, net.layout.size, Hyper(lr=lr), dtype=np.float64)
    for _ in range(3):  # some optimizer state
        net.loss_and_flat_grads(X, y)
        opt.step(net.flat_params, net.flat_grads)
    net.loss_and_flat_grads(X, y)
    return net, opt


def test_plain_sgd_ratio_is_alpha_times_gradient_over_weights():
    net, opt = _net_with_gradient("sgd", 0.05)
    signals = layer_signals(net, opt)
    assert [s.layer for s in signals] == [1, 2, 3]
    for s in signals:
        W, dW = net.params[f"W{s.layer}"], net._grads[f"W{s.layer}"]
        assert s.grad_norm == pytest.approx(np.linalg.norm(dW), rel=1e-12)
        assert s.weight_norm == pytest.approx(np.linalg.norm(W), rel=1e-12)
        assert s.ratio == pytest.approx(0.05 * np.linalg.norm(dW) / np.linalg.norm(W), rel=1e-9)


def test_adam_update_is_what_the_real_step_does_and_nothing_changes():
    net, opt = _net_with_gradient("adam", 0.01)
    w, g = net.flat_params.copy(), net.flat_grads.copy()
    v, s2, t = opt.state["v"].copy(), opt.state["s"].copy(), opt.state["t"]
    signals = layer_signals(net, opt)
    np.testing.assert_array_equal(w, net.flat_params)
    np.testing.assert_array_equal(g, net.flat_grads)
    np.testing.assert_array_equal(v, opt.state["v"])
    np.testing.assert_array_equal(s2, opt.state["s"])
    assert opt.state["t"] == t
    opt.step(net.flat_params, net.flat_grads)  # now for real
    for s in signals:
        sl = net.layout.slice(f"W{s.layer}")
        assert s.update_norm == pytest.approx(np.linalg.norm(net.flat_params[sl] - w[sl]), rel=1e-9)


def test_verdict_follows_the_band():
    assert verdict((LOW * HIGH) ** 0.5) == "healthy"
    assert verdict(HIGH * 2).startswith("too high")
    assert verdict(LOW / 2).startswith("too low")
    assert verdict(float("nan")) == "not finite"


def test_layer_ratio_covers_the_layer_and_growth_is_against_the_initial_size():
    net, opt = _net_with_gradient("sgd", 0.05)
    signals = layer_signals(net, opt)
    for s in signals:
        names = [n for n in net.layout.names if n[-1] == str(s.layer)]
        dw = [0.05 * net._grads[n] for n in names]
        w = [net.params[n] for n in names]
        expected = np.sqrt(sum((d**2).sum() for d in dw)) / np.sqrt(sum((x**2).sum() for x in w))
        assert s.layer_ratio == pytest.approx(expected, rel=1e-9)
        assert s.batchnorm == (f"gamma{s.layer}" in names)
        assert s.growth == pytest.approx(s.weight_norm / init_norm(net, s.layer))
    # a fresh network's W is about its expected size (the mean of many draws: exactly)
    sizes = [np.linalg.norm(MLP([50, 40, 3], seed=k).params["W1"]) for k in range(200)]
    assert np.mean(np.square(sizes)) == pytest.approx(init_norm(MLP([50, 40, 3]), 1) ** 2, rel=0.02)


def test_the_probe_on_a_live_trainer():
    from bnviz.train.config import TrainConfig
    from bnviz.train.probes import ProbeContext, request, resolve
    from bnviz.train.trainer import Trainer

    t = Trainer(TrainConfig(compare=True, hidden=(8, 8), n_samples=200))
    fn = resolve(request("babysit_signals")).fn
    assert fn(ProbeContext(t)) == ()  # no step yet: no gradient to show
    t.run(5)
    points = fn(ProbeContext(t))
    assert [p.run for p in points] == ["bn", "plain"]
    assert all(len(p.layers) == 3 and p.step == 5 for p in points)
