"""Softmax explained: hardmax, one example's loss, C = 2 equals logistic regression to 1e-9."""

from __future__ import annotations

import numpy as np
import pytest

from bnviz.lessons.softmax_explained import (
    curves_along,
    hardmax,
    line_through,
    logistic_check,
    logit_cross_entropy,
    softmax_line,
)
from bnviz.nn import layers
from bnviz.nn.network import MLP
from bnviz.train.config import TrainConfig
from bnviz.train.probes import ProbeContext
from bnviz.train.trainer import Trainer


def test_hardmax_is_the_limit_of_softmax_at_low_temperature():
    z = np.array([[1.0, 3.0, 2.0], [0.5, -1.0, 0.4]])
    np.testing.assert_array_equal(hardmax(z), [[0, 1, 0], [1, 0, 0]])
    np.testing.assert_allclose(layers.softmax(z, temperature=1e-3), hardmax(z), atol=1e-12)


def test_two_class_softmax_is_the_sigmoid_of_the_logit_difference():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((100, 2)) * 20
    z[0] = [1000.0, -1000.0]  # stable far out
    p1, sig = logistic_check(z)
    np.testing.assert_allclose(p1, sig, rtol=0, atol=1e-9)
    assert p1[0] == pytest.approx(0.0, abs=1e-300)
    with pytest.raises(ValueError, match="2 classes"):
        logistic_check(np.zeros((3, 3)))


def test_curves_along_a_line_through_the_data_agree_for_a_network():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 2)) @ np.array([[3.0, 0.0], [0.0, 0.5]])
    net = MLP([2, 8, 2], activation="tanh", seed=2, dtype=np.float64)
    c = curves_along(net, X, n=64)
    assert c.t.shape == (64,) and c.points.shape == (64, 2)
    np.testing.assert_allclose(c.softmax_p1, c.sigmoid_diff, atol=1e-9)
    t, pts = line_through(X, 5)
    assert np.ptp(pts[:, 0]) > np.ptp(pts[:, 1])  # along the long axis of the data
    with pytest.raises(ValueError, match="3 classes"):
        curves_along(MLP([2, 3]), X)


def test_no_hidden_layer_and_two_classes_is_logistic_regression():
    """Softmax regression with C = 2: a_1 = sigmoid(w . x + b) with w = W_1 - W_0, b = b_1 - b_0."""
    net = MLP([3, 2], seed=4, dtype=np.float64)
    X = np.random.default_rng(5).standard_normal((20, 3))
    W, b = net.params["W1"], net.params["b1"]
    w, b0 = W[1] - W[0], b[1] - b[0]
    np.testing.assert_allclose(net.predict_proba(X)[:, 1], layers.sigmoid(X @ w + b0), atol=1e-12)


def test_cross_entropy_of_logits_at_a_temperature():
    z = np.array([2.0, -1.0, 0.5])
    for T in (0.3, 1.0, 4.0):
        a = np.exp(z / T) / np.exp(z / T).sum()
        assert logit_cross_entropy(z, 2, T) == pytest.approx(-np.log(a[2]), rel=1e-12)
    # a sure, wrong example at a small T: a_y underflows to 0, the loss stays finite
    z = np.array([0.0, 50.0])
    assert layers.softmax(z, 0.05)[0] == 0.0  # -log of it would be inf
    assert logit_cross_entropy(z, 0, 0.05) == pytest.approx(1000.0)


def test_logistic_identity_holds_at_every_temperature():
    z = np.random.default_rng(3).standard_normal((40, 2)) * 5
    for T in (0.05, 1.0, 20.0):
        p1, sig = logistic_check(z, T)
        np.testing.assert_allclose(p1, sig, rtol=0, atol=1e-9)
        np.testing.assert_allclose(p1, 1 / (1 + np.exp(-(z[:, 1] - z[:, 0]) / T)), atol=1e-12)


def test_curves_keep_their_logits_so_any_temperature_needs_no_network():
    X = np.random.default_rng(1).standard_normal((30, 2))
    net = MLP([2, 2], seed=0, dtype=np.float64)
    c = curves_along(net, X, n=16)
    hot = c.at(5.0)
    np.testing.assert_allclose(hot.softmax_p1, curves_along(net, X, 16, 5.0).softmax_p1)
    assert hot.temperature == 5.0 and np.ptp(hot.softmax_p1) < np.ptp(c.softmax_p1)


def test_softmax_line_probe_runs_only_for_two_classes():
    two = Trainer(
        TrainConfig(dataset="moons", n_classes=2, n_samples=200, hidden=(8,), compare=True)
    )
    two.run(3)
    (run, c), _ = softmax_line(ProbeContext(two), n=32)
    assert run == "bn" and c.logits.shape == (32, 2) and not c.logits.flags.writeable
    np.testing.assert_allclose(c.softmax_p1, c.sigmoid_diff, atol=1e-9)
    np.testing.assert_allclose(c.logits, two.runs[0].net.logits(c.points), rtol=1e-5)
    three = Trainer(TrainConfig(n_samples=200, hidden=(8,), n_classes=3))
    assert softmax_line(ProbeContext(three)) == ()
