"""Each optimizer against steps computed by hand from the course's formulas."""

from __future__ import annotations

import numpy as np
import pytest

from bnviz.nn import optim
from bnviz.nn.optim import Hyper, Optimizer

W0 = np.array([1.0, -2.0, 0.5])
G1 = np.array([0.5, 0.1, -1.0])
G2 = np.array([-0.2, 0.3, 0.4])


def two_steps(kind: str, **hp):
    opt = Optimizer(kind, 3, Hyper(**hp), dtype=np.float64)
    w = W0.copy()
    opt.step(w, G1)
    w1 = w.copy()
    opt.step(w, G2)
    return w1, w


def test_sgd():
    w1, w2 = two_steps("sgd", lr=0.1)
    np.testing.assert_allclose(w1, W0 - 0.1 * G1)
    np.testing.assert_allclose(w2, W0 - 0.1 * G1 - 0.1 * G2)


def test_momentum_is_the_courses_ewma_form():
    w1, w2 = two_steps("momentum", lr=0.1, beta=0.9)
    v1 = 0.1 * G1
    v2 = 0.9 * v1 + 0.1 * G2
    np.testing.assert_allclose(w1, W0 - 0.1 * v1)
    np.testing.assert_allclose(w2, W0 - 0.1 * v1 - 0.1 * v2)


def test_rmsprop():
    w1, w2 = two_steps("rmsprop", lr=0.01, beta2=0.9, eps=1e-8)
    s1 = 0.1 * G1**2
    s2 = 0.9 * s1 + 0.1 * G2**2
    a = W0 - 0.01 * G1 / (np.sqrt(s1) + 1e-8)
    np.testing.assert_allclose(w1, a)
    np.testing.assert_allclose(w2, a - 0.01 * G2 / (np.sqrt(s2) + 1e-8))


def test_adam_with_bias_correction():
    w1, w2 = two_steps("adam", lr=0.01, beta=0.9, beta2=0.999, eps=1e-8)
    # First step: corrected v = g, s = g^2, so the step is lr * sign(g) (up to eps).
    np.testing.assert_allclose(w1, W0 - 0.01 * G1 / (np.abs(G1) + 1e-8))
    v = 0.9 * 0.1 * G1 + 0.1 * G2
    s = 0.999 * 0.001 * G1**2 + 0.001 * G2**2
    vh, sh = v / (1 - 0.9**2), s / (1 - 0.999**2)
    np.testing.assert_allclose(w2, w1 - 0.01 * vh / (np.sqrt(sh) + 1e-8))


def test_learning_rate_decay():
    h = Hyper(lr=0.1, decay=1.0)
    assert h.rate(0) == pytest.approx(0.1) and h.rate(3) == pytest.approx(0.025)
    opt = Optimizer("sgd", 3, h, dtype=np.float64)
    w = W0.copy()
    opt.step(w, G1, epoch=1)
    np.testing.assert_allclose(w, W0 - 0.05 * G1)


def test_changed_hyperparameters_apply_next_step():
    opt = Optimizer("sgd", 3, Hyper(lr=0.1), dtype=np.float64)
    w = W0.copy()
    opt.set(lr=1.0)
    opt.step(w, G1)
    np.testing.assert_allclose(w, W0 - G1)


def test_unknown_optimizer():
    with pytest.raises(ValueError, match="unknown optimizer"):
        Optimizer("lbfgs", 3)


@pytest.mark.parametrize("kind", ["sgd", "momentum", "rmsprop", "adam"])
def test_an_update_in_blocks_equals_the_whole_vector_to_the_bit(kind, monkeypatch):
    # 2.5 blocks: the last one short; the same operations per entry, so the same bits
    rng = np.random.default_rng(5)
    n = 5 * optim.BLOCK // 2
    w = rng.standard_normal(n).astype(np.float32)
    grads = [rng.standard_normal(n).astype(np.float32) for _ in range(3)]
    results = []
    for block in (optim.BLOCK, 10 * n):
        monkeypatch.setattr(optim, "BLOCK", block)
        w_, state = w.copy(), optim.init_state(kind, n)
        for g in grads:
            optim.UPDATES[kind](w_, g, state, optim.Hyper(), 0.01)
        results.append((w_, state["v"], state["s"]))
    for a, b in zip(*results):
        assert np.array_equal(a, b)
    assert not np.array_equal(results[0][0], w)  # it did update
