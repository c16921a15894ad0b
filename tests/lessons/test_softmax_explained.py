"""Softmax explained: hardmax, one example's loss, C = 2 equals logistic regression to 1e-9."""

from __future__ import annotations

import numpy as np
import pytest

from bnviz.lessons.softmax_explained import (
    cross_entropy,
    curves_along,
    hardmax,
    line_through,
    logistic_check,
)
from bnviz.nn import layers
from bnviz.nn.network import MLP


def test_hardmax_is_the_limit_of_softmax_at_low_temperature():
    z = np.array([[1.0, 3.0, 2.0], [0.5, -1.0, 0.4]])
    np.testing.assert_array_equal(hardmax(z), [[0, 1, 0], [1, 0, 0]])
    np.testing.assert_allclose(layers.softmax(z, temperature=1e-3), hardmax(z), atol=1e-12)


def test_cross_entropy_of_one_example():
    a = np.array([0.2, 0.5, 0.3])
    assert cross_entropy(a, 1) == pytest.approx(-np.log(0.5))
    assert cross_entropy(np.array([1.0, 0.0]), 1) == float("inf")


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
