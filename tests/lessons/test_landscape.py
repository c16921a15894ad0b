"""The loss landscape along the gradient: checked against a direct computation, against the
first-order Taylor expansion and a finite-difference Hessian-vector product; the network is
left bit-for-bit as it was."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from bnviz.lessons.landscape import landscape
from bnviz.nn.network import MLP


def _batch(seed: int = 0, m: int = 40, n: int = 4, c: int = 3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, n)), rng.integers(0, c, m)


def _state(net: MLP) -> tuple[np.ndarray, ...]:
    return (net.flat_params.copy(), net.flat_buffers.copy(), net.flat_grads.copy())


@pytest.mark.parametrize("batchnorm", [True, False])
def test_matches_a_direct_computation_and_leaves_the_network_alone(batchnorm):
    X, y = _batch()
    net = MLP([4, 10, 10, 3], activation="tanh", batchnorm=batchnorm, seed=1, dtype=np.float64)
    before = _state(net)
    etas = [0.01, 0.1, 1.0]
    got = landscape(net, X, y, etas)
    for a, b in zip(before, _state(net)):
        np.testing.assert_array_equal(a, b)
    # Directly, by the named parameters: L and grad L at w - eta g on copies.
    loss0, g = copy.deepcopy(net).loss_and_grads(X, y)
    g_flat = np.concatenate([g[k].ravel() for k in net.params])
    assert got.loss0 == pytest.approx(loss0, rel=1e-12)
    assert got.grad_norm == pytest.approx(np.linalg.norm(g_flat), rel=1e-12)
    ratios = []
    for i, eta in enumerate(etas):
        moved = copy.deepcopy(net)
        for k in moved.params:
            moved.params[k][...] -= eta * g[k]
        loss, g2 = moved.loss_and_grads(X, y)
        change = np.linalg.norm(np.concatenate([(g2[k] - g[k]).ravel() for k in net.params]))
        assert got.loss[i] == pytest.approx(loss, rel=1e-10)
        assert got.grad_change[i] == pytest.approx(change, rel=1e-8)
        ratios.append(change / (eta * np.linalg.norm(g_flat)))
    assert got.beta_smoothness == pytest.approx(max(ratios), rel=1e-8)


def test_small_steps_follow_taylor_and_the_hessian():
    """For small eta: L(w - eta g) = L(w) - eta ||g||^2 + O(eta^2), and
    ||grad L(w - eta g) - g|| / eta -> ||H g||, H g by central differences of the gradient."""
    X, y = _batch(2)
    net = MLP([4, 8, 3], activation="sigmoid", batchnorm=True, seed=3, dtype=np.float64)
    eta = 1e-5
    got = landscape(net, X, y, [eta])
    assert (got.loss0 - got.loss[0]) / eta == pytest.approx(got.grad_norm**2, rel=1e-3)
    _, g = copy.deepcopy(net).loss_and_grads(X, y)
    h = 1e-5
    plus, minus = copy.deepcopy(net), copy.deepcopy(net)
    for k in net.params:
        plus.params[k][...] += h * g[k]
        minus.params[k][...] -= h * g[k]
    gp, gm = plus.loss_and_grads(X, y)[1], minus.loss_and_grads(X, y)[1]
    hg = np.linalg.norm(np.concatenate([((gp[k] - gm[k]) / (2 * h)).ravel() for k in g]))
    assert got.grad_change[0] / eta == pytest.approx(hg, rel=1e-3)
    assert got.beta_smoothness == pytest.approx(hg / got.grad_norm, rel=1e-3)


@pytest.mark.parametrize("etas", [[], [0.0], [-0.1, 0.1], [float("nan")]])
def test_bad_step_sizes_are_refused(etas):
    X, y = _batch()
    with pytest.raises(ValueError, match="etas"):
        landscape(MLP([4, 5, 3]), X, y, etas)


def test_the_probe_runs_on_a_live_trainer_for_both_twins():
    from bnviz.train.config import TrainConfig
    from bnviz.train.probes import ProbeContext, request, resolve
    from bnviz.train.trainer import Trainer

    t = Trainer(TrainConfig(compare=True, hidden=(8, 8), n_samples=200))
    t.run(20)
    before = [r.net.flat_params.copy() for r in t.runs]
    points = resolve(request("landscape")).fn(ProbeContext(t), factors=(0.5, 1.0, 2.0))
    assert [p.run for p in points] == ["bn", "plain"]
    for p, r in zip(points, t.runs):
        assert p.step == 20
        np.testing.assert_allclose(p.landscape.etas, np.array([0.5, 1.0, 2.0]) * r.opt.hyper.lr)
        assert np.isfinite(p.landscape.loss).all() and p.landscape.beta_smoothness > 0
    for b, r in zip(before, t.runs):
        np.testing.assert_array_equal(b, r.net.flat_params)


def test_on_the_bn_papers_setting_bn_is_smoother():
    """Santurkar et al.'s Fig. 4 on their setting (digits, 3 x 100 sigmoid, SGD 0.1, batch
    60): BN's band of losses along the gradient is narrower and its gradient changes less
    than the plain network's (measured at steps 600..1000, after the first rush)."""
    from bnviz.lessons.landscape import landscape_probe
    from bnviz.train.config import TrainConfig
    from bnviz.train.probes import ProbeContext
    from bnviz.train.trainer import Trainer

    cfg = TrainConfig(dataset="digits", hidden=(100, 100, 100), activation="sigmoid",
                      optimizer="sgd", lr=0.1, batch_size=60, compare=True)  # fmt: skip
    t = Trainer(cfg)
    t.run(500)
    band = {"bn": [], "plain": []}
    change = {"bn": [], "plain": []}
    for _ in range(5):
        t.run(100)
        for p in landscape_probe(ProbeContext(t)):
            band[p.run].append(p.landscape.loss.max() - p.landscape.loss.min())
            change[p.run].append(p.landscape.grad_change.max())
    assert np.mean(band["bn"]) < np.mean(band["plain"])
    assert np.mean(change["bn"]) < np.mean(change["plain"])
