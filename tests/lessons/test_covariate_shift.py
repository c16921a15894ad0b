"""Covariate shift, measured: zero for a network that does not change, the input shift and
Santurkar's gradient change against a direct computation, nothing live changed."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from bnviz.lessons.covariate_shift import covariate_shift, distribution_change, layer_of
from bnviz.nn.network import MLP
from bnviz.nn.optim import Hyper, Optimizer


def _setup(batchnorm: bool = True, lr: float = 0.5, kind: str = "sgd"):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 4)), rng.integers(0, 3, 30)
    net = MLP([4, 9, 7, 3], activation="tanh", batchnorm=batchnorm, seed=2, dtype=np.float64)
    opt = Optimizer(kind, net.layout.size, Hyper(lr=lr), dtype=np.float64)
    return net, opt, X, y, rng.standard_normal((50, 4))


@pytest.mark.parametrize("layer", [1, 2, 3])
def test_a_network_that_does_not_change_shows_no_shift(layer):
    net, opt, X, y, P = _setup(lr=0.0)
    s = covariate_shift(net, opt, X, y, P, layer)
    assert (s.d_mean, s.d_std, s.w1, s.grad_change, s.grad_relative) == (0, 0, 0, 0, 0)
    assert s.grad_cosine == pytest.approx(1.0)


def test_the_data_never_shifts_and_layer_1_has_nothing_below():
    net, opt, X, y, P = _setup()
    s = covariate_shift(net, opt, X, y, P, 1)
    assert (s.d_mean, s.d_std, s.w1, s.grad_change) == (0, 0, 0, 0)


@pytest.mark.parametrize("batchnorm", [True, False])
def test_matches_one_gradient_step_of_the_layers_below(batchnorm):
    lr, layer = 0.5, 3
    net, opt, X, y, P = _setup(batchnorm, lr)
    s = covariate_shift(net, opt, X, y, P, layer)
    _, g = copy.deepcopy(net).loss_and_grads(X, y)
    moved = copy.deepcopy(net)
    for k in moved.params:
        if layer_of(k) < layer:
            moved.params[k][...] -= lr * g[k]  # plain SGD: the step is -lr g
    a0 = net.trace(P, mode="train")[0][layer - 2].a
    a1 = moved.trace(P, mode="train")[0][layer - 2].a
    assert s.d_mean == pytest.approx(np.abs(a1.mean(0) - a0.mean(0)).mean(), rel=1e-9)
    assert s.d_mean > 0
    G, G2 = g[f"W{layer}"].ravel(), moved.loss_and_grads(X, y)[1][f"W{layer}"].ravel()
    assert s.grad_change == pytest.approx(np.linalg.norm(G2 - G), rel=1e-9)
    assert s.grad_relative == pytest.approx(np.linalg.norm(G2 - G) / np.linalg.norm(G), rel=1e-9)
    cos = G @ G2 / (np.linalg.norm(G) * np.linalg.norm(G2))
    assert s.grad_cosine == pytest.approx(cos, rel=1e-9)


def test_the_live_network_and_optimizer_state_are_left_alone():
    net, opt, X, y, P = _setup(kind="adam", lr=0.01)
    net.loss_and_flat_grads(X, y)
    opt.step(net.flat_params, net.flat_grads)  # some Adam state to keep
    params, bufs, grads = net.flat_params.copy(), net.flat_buffers.copy(), net.flat_grads.copy()
    v, s2 = opt.state["v"].copy(), opt.state["s"].copy()
    covariate_shift(net, opt, X, y, P, 2)
    for a, b in ((params, net.flat_params), (bufs, net.flat_buffers), (grads, net.flat_grads)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(v, opt.state["v"])
    np.testing.assert_array_equal(s2, opt.state["s"])


def test_distribution_change_of_a_shift_and_a_scaling():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((200, 3))
    assert distribution_change(a, a + 0.25) == pytest.approx((0.25, 0.0, 0.25))
    d_mean, d_std, w1 = distribution_change(a, 2 * a)
    assert d_std == pytest.approx(np.abs(a.std(0)).mean())
    assert w1 == pytest.approx(np.abs(a).mean())


def test_layer_of_names_and_refuses_others():
    assert [layer_of(n) for n in ("W3", "b1", "gamma12", "beta2")] == [3, 1, 12, 2]
    with pytest.raises(ValueError):
        layer_of("running_mean")


def test_the_probe_runs_on_a_live_trainer():
    from bnviz.train.config import TrainConfig
    from bnviz.train.probes import ProbeContext, request, resolve
    from bnviz.train.trainer import Trainer

    t = Trainer(TrainConfig(compare=True, hidden=(8, 8), n_samples=200))
    t.run(10)
    points = resolve(request("covariate_shift", layer=2)).fn(ProbeContext(t), layer=2)
    assert [p.run for p in points] == ["bn", "plain"]
    assert all(p.shift.layer == 2 and p.shift.w1 > 0 for p in points)
