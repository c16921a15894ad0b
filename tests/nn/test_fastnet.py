"""The fast training step (bnviz.nn.fastnet) against the reference layers, and the cheap
statistics the snapshots use against NumPy's."""

from __future__ import annotations

import numpy as np
import pytest

from bnviz.nn.network import MLP
from bnviz.train import stats

ACTS = ["relu", "tanh", "sigmoid", "linear"]


def pair(sizes, activation, batchnorm, dtype, seed=3):
    return (MLP(sizes, activation, batchnorm, dtype=dtype, seed=seed) for _ in range(2))


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-10), (np.float32, 2e-4)])
@pytest.mark.parametrize("batchnorm", [False, True])
@pytest.mark.parametrize("activation", ACTS)
def test_fast_step_matches_reference_layers(activation, batchnorm, dtype, tol):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((24, 5)).astype(dtype), rng.integers(0, 3, 24)
    fast, ref = pair([5, 7, 6, 3], activation, batchnorm, dtype)
    for _ in range(3):  # the running estimates and the reused arrays must agree step after step
        loss = fast.loss_and_flat_grads(X, y)
        loss_ref = ref.reference_loss_and_flat_grads(X, y)
        assert loss == pytest.approx(loss_ref, rel=tol)
        np.testing.assert_allclose(fast.flat_grads, ref.flat_grads, rtol=tol, atol=tol)
        np.testing.assert_allclose(fast.flat_buffers, ref.flat_buffers, rtol=tol, atol=tol)
        fast.flat_params -= 0.1 * fast.flat_grads
        ref.flat_params -= 0.1 * ref.flat_grads


def test_softmax_regression_and_batch_size_changes():
    rng = np.random.default_rng(1)
    fast, ref = pair([4, 3], "relu", False, np.float64)
    for m in (8, 5, 8, 1):
        X, y = rng.standard_normal((m, 4)), rng.integers(0, 3, m)
        assert fast.loss_and_flat_grads(X, y) == pytest.approx(
            ref.reference_loss_and_flat_grads(X, y)
        )
        np.testing.assert_allclose(fast.flat_grads, ref.flat_grads, atol=1e-12)


def test_train_trace_matches_the_reference_forward():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((32, 4))
    net = MLP([4, 8, 8, 3], "tanh", batchnorm=True, dtype=np.float64)
    traces, logits = net.trace(X, mode="train")
    ref_logits, caches, _ = net._forward_train(net._as_input(X), update_buffers=False)
    np.testing.assert_allclose(logits, ref_logits, atol=1e-12)
    for tr, c in zip(traces, caches):
        for mine, theirs in ((tr.z, c.z), (tr.z_tilde, c.z_tilde), (tr.a, c.a)):
            np.testing.assert_allclose(mine, theirs, atol=1e-12)
    # the arrays are the caller's: another trace does not overwrite them
    kept = traces[0].a.copy()
    net.trace(X * 2, mode="train")
    np.testing.assert_array_equal(traces[0].a, kept)


def test_bad_labels_are_refused():
    net = MLP([2, 4, 3])
    with pytest.raises(ValueError, match="labels"):
        net.loss_and_flat_grads(np.zeros((4, 2)), np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="labels"):  # the shape is checked even when told
        net.loss_and_flat_grads(np.zeros((4, 2)), np.array([0, 1, 2]), labels_checked=True)
    with pytest.raises(ValueError, match="labels"):  # no labels: the shape's message, not min()'s
        net.loss_and_flat_grads(np.zeros((4, 2)), np.zeros(0, dtype=int))


def test_checked_labels_give_the_same_step():
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((16, 3)), rng.integers(0, 3, 16)
    a, b = pair([3, 6, 3], "relu", True, np.float64)
    assert a.loss_and_flat_grads(X, y) == b.loss_and_flat_grads(X, y, labels_checked=True)
    np.testing.assert_array_equal(a.flat_grads, b.flat_grads)


def test_sigmoid_of_huge_inputs_is_finite_without_warnings():
    net = MLP([2, 4, 2], "sigmoid", dtype=np.float32)
    net.params["W1"][...] = 1e4
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss = net.loss_and_flat_grads(np.array([[-1.0, -1.0], [1.0, 1.0]]), np.array([0, 1]))
    assert np.isfinite(loss) and np.isfinite(net.flat_grads).all()


@pytest.mark.parametrize("n", [1, 2, 3, 10, 257, 4096])
def test_percentiles_match_numpy(n):
    rng = np.random.default_rng(n)
    for v in (rng.standard_normal(n), rng.integers(0, 3, n).astype(float), rng.random((n, 3))):
        for dtype in (np.float64, np.float32):
            mine = stats.percentiles(v.astype(dtype), (15.0, 50.0, 85.0))
            theirs = np.percentile(v.astype(dtype), (15.0, 50.0, 85.0))
            assert mine.dtype == theirs.dtype
            np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-7)
    with_nan = np.array([1.0, np.nan, 2.0])
    assert np.isnan(stats.percentiles(with_nan, (50.0,))).all()


def test_mean_std_match_numpy():
    v = np.random.default_rng(0).normal(3.0, 2.0, (64, 16)).astype(np.float32)
    mean, std = stats.mean_std(v)
    assert mean == pytest.approx(float(v.mean()), rel=1e-5)
    assert std == pytest.approx(float(v.std()), rel=1e-5)


def test_histogram_with_a_known_range_matches_numpy():
    edges = np.linspace(-2.0, 2.0, 49)
    centers = (edges[:-1] + edges[1:]) / 2
    rng = np.random.default_rng(3)
    v = np.concatenate([rng.choice(centers, 500), [-2.0, 2.0]]).astype(np.float32)
    expected, _ = np.histogram(v, edges)
    np.testing.assert_array_equal(stats.histogram(v, edges, (v.min(), v.max())), expected)
    np.testing.assert_array_equal(stats.histogram(v, edges), expected)
    wide = np.array([-5.0, np.nan, 5.0], dtype=np.float32)  # outside: the end bins, NaN dropped
    counts = stats.histogram(wide, edges, (-5.0, 5.0))
    assert counts[0] == 1 and counts[-1] == 1 and counts.sum() == 2


def test_pickled_network_keeps_training_through_its_views():
    import pickle

    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((16, 3)), rng.integers(0, 2, 16)
    net = MLP([3, 5, 2], batchnorm=True, dtype=np.float64)
    net.loss_and_flat_grads(X, y)
    back = pickle.loads(pickle.dumps(net))
    assert back.loss_and_flat_grads(X, y) == net.loss_and_flat_grads(X, y)
    back.params["W1"][0, 0] = 7.0
    assert back.flat_params[0] == 7.0
    np.testing.assert_array_equal(back.flat_buffers, net.flat_buffers)
    assert np.shares_memory(back.buffers["running_mean1"], back.flat_buffers)
