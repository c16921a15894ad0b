"""The reference formulas of bnviz.nn.layers, held to identities, limits and central
differences (never to a second copy of themselves), and their ``out=`` forms to the allocating
ones."""

from __future__ import annotations

import numpy as np
import pytest

import bnviz
from bnviz.nn import layers
from tests.nn.gradcheck import numerical_grads, rel_error

ACTS = ["relu", "tanh", "sigmoid", "linear"]


@pytest.fixture
def rng():
    return np.random.default_rng(11)


# -- softmax -------------------------------------------------------------------------------------
def test_softmax_is_exported_at_top_level():
    assert bnviz.softmax is layers.softmax and "softmax" in bnviz.__all__
    assert "softmax" in bnviz.nn.__all__


def test_small_temperature_gives_the_hardmax(rng):
    z = rng.standard_normal((50, 7))
    hardmax = np.eye(7)[z.argmax(axis=1)]
    gaps = [np.abs(bnviz.softmax(z, temperature=T) - hardmax).max() for T in (1, 0.1, 0.01, 1e-3)]
    assert np.all(np.diff(gaps) < 0)
    for T in (1e-30, 5e-324):  # the smallest positive double: (z - max z) / T is -inf
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            a = bnviz.softmax(z, temperature=T)
        np.testing.assert_array_equal(a, hardmax)


def test_large_temperature_gives_the_uniform_distribution(rng):
    z = rng.standard_normal((20, 5)) * 100
    np.testing.assert_allclose(bnviz.softmax(z, temperature=1e12), 0.2, rtol=1e-9)
    np.testing.assert_array_equal(bnviz.softmax(z, temperature=1e300), 0.2)


@pytest.mark.parametrize("T", [0.05, 0.5, 1.0, 3.0, 40.0])
def test_temperature_divides_the_logits(rng, T):
    z = rng.standard_normal((10, 4)) * 3
    np.testing.assert_allclose(bnviz.softmax(z, temperature=T), bnviz.softmax(z / T), rtol=1e-12)
    np.testing.assert_allclose(
        layers.log_softmax(z, temperature=T), layers.log_softmax(z / T), atol=1e-12
    )


def test_softmax_by_its_definition_and_shift_invariance(rng):
    z = rng.standard_normal((6, 3))
    e = np.exp(z)
    np.testing.assert_allclose(bnviz.softmax(z), e / e.sum(axis=1, keepdims=True), rtol=1e-13)
    np.testing.assert_allclose(bnviz.softmax(z + 123.0), bnviz.softmax(z), rtol=1e-12)


@pytest.mark.parametrize("T", [0.01, 1.0, 7.0])
def test_softmax_does_not_overflow_at_logits_of_1000(T):
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 999.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = bnviz.softmax(z, temperature=T)
        logp = layers.log_softmax(z, temperature=T)
    assert np.isfinite(a).all() and np.isfinite(logp).all()
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    np.testing.assert_allclose(a[1], 1 / 3)
    # log a = (z - logsumexp z) / T: the winner of the first row is 0, the others -1000/T, -2000/T
    np.testing.assert_allclose(logp[0], [0.0, -2000.0 / T, -1000.0 / T], atol=1e-9)
    loss, d = layers.softmax_cross_entropy(z, np.array([1, 0, 1]))
    assert np.isfinite(loss) and np.isfinite(d).all()


def test_softmax_works_over_the_last_axis_of_any_shape(rng):
    z3 = rng.standard_normal((2, 3, 4))
    a3 = bnviz.softmax(z3)
    np.testing.assert_allclose(a3.sum(axis=-1), 1.0)
    np.testing.assert_allclose(a3[1, 2], bnviz.softmax(z3[1, 2]))
    np.testing.assert_allclose(bnviz.softmax([1, 2, 3]), bnviz.softmax(np.array([1.0, 2, 3])))
    assert bnviz.softmax(z3.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("T", [0.0, -1.0, float("nan"), float("inf"), -float("inf")])
def test_bad_temperatures_are_refused(T):
    with pytest.raises(ValueError, match="temperature must be finite and > 0"):
        bnviz.softmax(np.zeros((2, 3)), temperature=T)
    with pytest.raises(ValueError, match="temperature"):
        layers.log_softmax(np.zeros((2, 3)), temperature=T)


def test_log_softmax_is_the_log_of_softmax(rng):
    z = rng.standard_normal((8, 5)) * 4
    np.testing.assert_allclose(layers.log_softmax(z), np.log(bnviz.softmax(z)), atol=1e-12)


def test_cross_entropy_is_the_mean_negative_log_probability_of_the_labels(rng):
    z, y = rng.standard_normal((9, 4)), rng.integers(0, 4, 9)
    expected = -np.mean(np.log(bnviz.softmax(z))[np.arange(9), y])
    loss, _ = layers.softmax_cross_entropy(z, y)
    assert loss == pytest.approx(expected, rel=1e-12)
    assert layers.softmax_cross_entropy_loss(z, y) == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_gradient_matches_central_differences(rng):
    z, y = rng.standard_normal((5, 3)), rng.integers(0, 3, 5)
    _, d = layers.softmax_cross_entropy(z, y)
    num = numerical_grads(lambda: layers.softmax_cross_entropy_loss(z, y), {"z": z})["z"]
    assert rel_error(d, num) < 1e-8


def test_cross_entropy_of_a_transposed_array_is_right(rng):
    # a Fortran-ordered logits array: the gradient is written through a C-ordered buffer
    z, y = np.asfortranarray(rng.standard_normal((6, 4))), rng.integers(0, 4, 6)
    _, d = layers.softmax_cross_entropy(z, y)
    np.testing.assert_allclose(d * 6, bnviz.softmax(z) - np.eye(4)[y], atol=1e-12)
    with pytest.raises(ValueError, match="C-contiguous"):
        layers.softmax_cross_entropy(z, y, out=np.empty((4, 6)).T)


# -- activations ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ACTS)
def test_activation_derivative_matches_central_differences(rng, kind):
    z = rng.standard_normal((6, 5)) * 2
    z[np.abs(z) < 1e-3] = 0.5  # keep away from ReLU's kink
    h, g_of = 1e-6, lambda x: layers.activation_forward(x, kind)
    num = (g_of(z + h) - g_of(z - h)) / (2 * h)
    g = layers.activation_derivative(layers.activation_forward(z, kind), kind)
    np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8)
    da = rng.standard_normal(z.shape)
    dz = layers.activation_backward(da, layers.activation_forward(z, kind), kind)
    np.testing.assert_allclose(dz, da * num, rtol=1e-6, atol=1e-8)


def test_activations_by_their_definitions(rng):
    z = rng.standard_normal(100) * 5
    np.testing.assert_allclose(layers.sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-14)
    np.testing.assert_allclose(layers.sigmoid(-z), 1 - layers.sigmoid(z), atol=1e-15)
    np.testing.assert_allclose(np.tanh(z), 2 * layers.sigmoid(2 * z) - 1, atol=1e-14)
    np.testing.assert_array_equal(layers.activation_forward(z, "relu"), np.where(z > 0, z, 0))
    with pytest.raises(ValueError, match="unknown activation"):
        layers.activation_forward(z, "gelu")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_saturates_without_overflow(dtype):
    z = np.array([-1e4, -1000.0, -80.0, 0.0, 80.0, 1000.0, 1e4], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = layers.sigmoid(z)
    assert a.dtype == dtype
    np.testing.assert_allclose(a, [0, 0, 0, 0.5, 1, 1, 1], atol=1e-30)
    assert (a >= 0).all() and (a <= 1).all()


# -- affine and batch norm -----------------------------------------------------------------------
def _grad_check(forward, inputs: dict, dout: np.ndarray, analytic: dict) -> None:
    """Check analytic gradients of the scalar sum(forward() * dout) by central differences."""
    num = numerical_grads(lambda: float(np.sum(forward() * dout)), inputs)
    for name, g in analytic.items():
        assert rel_error(g, num[name]) < 1e-7, name


def test_affine_gradients_match_central_differences(rng):
    X, W, b = rng.standard_normal((4, 3)), rng.standard_normal((5, 3)), rng.standard_normal(5)
    dout = rng.standard_normal((4, 5))
    _, cache = layers.affine_forward(X, W, b)
    dX, dW, db = layers.affine_backward(dout, cache)
    inputs = {"X": X, "W": W, "b": b}
    _grad_check(
        lambda: layers.affine_forward(X, W, b)[0], inputs, dout, {"X": dX, "W": dW, "b": db}
    )
    _, cache = layers.affine_forward(X, W, None)
    dX_none, _, db_none = layers.affine_backward(dout, cache, input_grad=False)
    assert dX_none is None and db_none is None


def test_batchnorm_gradients_match_central_differences(rng):
    z = rng.normal(3.0, 2.0, (8, 4))
    gamma, beta = rng.normal(1.0, 0.3, 4), rng.standard_normal(4)
    dout = rng.standard_normal((8, 4))
    _, cache, _, _ = layers.batchnorm_forward(z, gamma, beta)
    dz, dgamma, dbeta = layers.batchnorm_backward(dout, cache)
    _grad_check(
        lambda: layers.batchnorm_forward(z, gamma, beta)[0],
        {"z": z, "gamma": gamma, "beta": beta},
        dout,
        {"z": dz, "gamma": dgamma, "beta": dbeta},
    )


def test_batchnorm_returns_the_biased_batch_statistics(rng):
    z = rng.normal(-1.0, 3.0, (16, 5))
    _, (_, std, _), mu, var = layers.batchnorm_forward(z, np.ones(5), np.zeros(5), 1e-3)
    np.testing.assert_allclose(mu, z.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(var, np.var(z, axis=0, ddof=0), rtol=1e-12)
    np.testing.assert_allclose(std, np.sqrt(np.var(z, axis=0) + 1e-3), rtol=1e-12)


def test_batchnorm_eval_by_its_definition(rng):
    z = rng.standard_normal((3, 4))
    (gamma, beta), (rm, rv) = rng.standard_normal((2, 4)), rng.random((2, 4))
    expected = gamma * (z - rm) / np.sqrt(rv + 1e-5) + beta
    np.testing.assert_allclose(layers.batchnorm_eval(z, gamma, beta, rm, rv), expected, rtol=1e-12)


def test_eval_with_the_batch_statistics_is_train_mode_up_to_m_over_m_minus_1(rng):
    m, eps = 10, 1e-5
    z = rng.normal(2.0, 1.5, (m, 6))
    gamma, beta = rng.normal(1.0, 0.2, 6), rng.standard_normal(6)
    train, _, mu, var = layers.batchnorm_forward(z, gamma, beta, eps)
    # running estimates equal to the batch's biased statistics: eval mode is train mode
    evaluated = layers.batchnorm_eval(z, gamma, beta, mu, var, eps)
    np.testing.assert_allclose(evaluated, train, atol=1e-12)
    # momentum 0 stores this batch with PyTorch's unbiased variance: eval then normalizes by
    # sqrt(var m/(m-1) + eps) instead of sqrt(var + eps)
    rm, rv = np.zeros(6), np.zeros(6)
    layers.batchnorm_running_update(rm, rv, mu, var, m, momentum=0.0)
    evaluated = layers.batchnorm_eval(z, gamma, beta, rm, rv, eps)
    shrink = np.sqrt((np.var(z, axis=0) + eps) / (np.var(z, axis=0, ddof=1) + eps))
    np.testing.assert_allclose(evaluated - beta, (train - beta) * shrink, atol=1e-12)


def test_folded_eval_batchnorm_is_an_affine_map(rng):
    (gamma, beta), (rm, rv) = rng.standard_normal((2, 3)), rng.random((2, 3))
    s, t = layers.batchnorm_eval_affine(gamma, beta, rm, rv)
    z = rng.standard_normal((5, 3))
    np.testing.assert_allclose(s * z + t, gamma * (z - rm) / np.sqrt(rv + 1e-5) + beta)
    np.testing.assert_allclose(s * rm + t, beta)  # the running mean maps to beta


def test_running_average_follows_pytorch_convention(rng):
    k, n = 0.9, 4
    rm, rv = np.zeros(n), np.ones(n)  # PyTorch's initial running_mean and running_var
    want_m, want_v = rm.copy(), rv.copy()
    for m in (8, 8, 3, 2, 17):
        z = rng.normal(1.0, 2.0, (m, n))
        _, _, mu, var = layers.batchnorm_forward(z, np.ones(n), np.zeros(n))
        layers.batchnorm_running_update(rm, rv, mu, var, m, momentum=k)
        # torch.nn.BatchNorm1d(momentum=1-k): running = (1 - momentum) running + momentum batch,
        # with the unbiased batch variance in running_var
        want_m = k * want_m + (1 - k) * z.mean(axis=0)
        want_v = k * want_v + (1 - k) * np.var(z, axis=0, ddof=1)
        np.testing.assert_allclose(rm, want_m, rtol=1e-12)
        np.testing.assert_allclose(rv, want_v, rtol=1e-12)
    # a batch of one has no unbiased variance: it enters as is (0)
    layers.batchnorm_running_update(rm, rv, rm * 0 + 1, np.zeros(n), 1, momentum=k)
    np.testing.assert_allclose(rv, k * want_v)


def test_running_average_matches_torch_batchnorm1d(rng):
    torch = pytest.importorskip("torch")
    k, n = 0.8, 5
    bn = torch.nn.BatchNorm1d(n, momentum=1 - k, eps=1e-5, dtype=torch.float64)
    rm, rv = np.zeros(n), np.ones(n)
    for m in (16, 4, 9):
        z = rng.normal(-2.0, 3.0, (m, n))
        out = bn(torch.from_numpy(z)).detach().numpy()
        train, _, mu, var = layers.batchnorm_forward(z, np.ones(n), np.zeros(n), 1e-5)
        layers.batchnorm_running_update(rm, rv, mu, var, m, momentum=k)
        np.testing.assert_allclose(train, out, atol=1e-10)
        np.testing.assert_allclose(rm, bn.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(rv, bn.running_var.numpy(), rtol=1e-12)


def test_unbiased_variance_factor_is_bessels_correction(rng):
    x = rng.standard_normal(7)
    assert np.var(x) * layers.unbiased_variance_factor(7) == pytest.approx(np.var(x, ddof=1))
    assert layers.unbiased_variance_factor(1) == 1.0


# -- out= ----------------------------------------------------------------------------------------
M, N_IN, N = 12, 5, 6
DTYPES = [np.float32, np.float64]


def _same(fresh: np.ndarray, into: np.ndarray, out: np.ndarray) -> None:
    """The out= call returned ``out`` itself and wrote the allocating call's result into it."""
    assert into is out
    np.testing.assert_array_equal(out, fresh)


def _nan(dtype, *shape: int) -> np.ndarray:
    """An output array full of NaN, so an entry left unwritten shows."""
    return np.full(shape, np.nan, dtype)


def _draw(rng, dtype, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_affine_out_arrays(rng, dtype):
    X, W, b, dout = (_draw(rng, dtype, *s) for s in ((M, N_IN), (N, N_IN), (N,), (M, N)))
    z, cache = layers.affine_forward(X, W, b)
    out = _nan(dtype, M, N)
    _same(z, layers.affine_forward(X, W, b, out=out)[0], out)
    dX, dW, db = _nan(dtype, M, N_IN), _nan(dtype, N, N_IN), _nan(dtype, N)
    into = layers.affine_backward(dout, cache, dX=dX, dW=dW, db=db, ones=np.ones(M, dtype))
    for fresh, got, out in zip(layers.affine_backward(dout, cache), into, (dX, dW, db)):
        _same(fresh, got, out)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_out_arrays(rng, dtype):
    z, gamma, beta, dout = (_draw(rng, dtype, *s) for s in ((M, N), (N,), (N,), (M, N)))
    z_tilde, cache, mu, var = layers.batchnorm_forward(z, gamma, beta)
    outs = [_nan(dtype, M, N), _nan(dtype, M, N), _nan(dtype, N), _nan(dtype, N), _nan(dtype, N)]
    o_tilde, o_norm, o_mu, o_var, o_std = outs
    got_tilde, got_cache, got_mu, got_var = layers.batchnorm_forward(
        z, gamma, beta, out=o_tilde, z_norm=o_norm, mu=o_mu, var=o_var, std=o_std,
        tmp=_nan(dtype, M, N), mean_w=np.full(M, 1 / M, dtype),
    )  # fmt: skip
    _same(z_tilde, got_tilde, o_tilde)
    _same(cache[0], got_cache[0], o_norm)
    _same(cache[1], got_cache[1], o_std)
    _same(mu, got_mu, o_mu)
    _same(var, got_var, o_var)

    dz, dgamma, dbeta = _nan(dtype, M, N), _nan(dtype, N), _nan(dtype, N)
    into = layers.batchnorm_backward(
        dout, cache, out=dz, dgamma=dgamma, dbeta=dbeta, tmp=_nan(dtype, M, N),
        scale=_nan(dtype, N), c1=_nan(dtype, N), c2=_nan(dtype, N), ones=np.ones(M, dtype),
    )  # fmt: skip
    for fresh, got, out in zip(layers.batchnorm_backward(dout, cache), into, (dz, dgamma, dbeta)):
        _same(fresh, got, out)

    rm, rv = mu.copy(), var + 0.1
    out = _nan(dtype, M, N)
    fresh = layers.batchnorm_eval(z, gamma, beta, rm, rv)
    _same(fresh, layers.batchnorm_eval(z, gamma, beta, rm, rv, out=out), out)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ACTS)
def test_activation_out_arrays(rng, dtype, kind):
    z, dout = _draw(rng, dtype, M, N), _draw(rng, dtype, M, N)
    a, out = layers.activation_forward(z, kind), _nan(dtype, M, N)
    _same(a, layers.activation_forward(z, kind, out=out), out)
    fresh, out = layers.activation_derivative(a, kind), _nan(dtype, M, N)
    _same(fresh, layers.activation_derivative(a, kind, out=out), out)
    fresh, da = layers.activation_backward(dout, a, kind), dout.copy()
    # in place of the upstream gradient, as the fast path does it
    _same(fresh, layers.activation_backward(da, a, kind, out=da, tmp=_nan(dtype, M, N)), da)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_out_arrays(rng, dtype):
    z, y = _draw(rng, dtype, M, N), rng.integers(0, N, M)
    for T in (1.0, 0.3):
        out = _nan(dtype, M, N)
        got = layers.softmax(z, T, out=out, row_max=_nan(dtype, M), row_sum=_nan(dtype, M))
        _same(layers.softmax(z, T), got, out)
        out = _nan(dtype, M, N)
        got = layers.log_softmax(z, T, out=out, t=_nan(dtype, M, N))
        _same(layers.log_softmax(z, T), got, out)
    loss, d = layers.softmax_cross_entropy(z, y)
    out, logits = _nan(dtype, M, N), z.copy()
    loss_into, d_into = layers.softmax_cross_entropy(
        logits, y, out=out, shifted=logits, row_max=_nan(dtype, M), row_sum=_nan(dtype, M),
        ones=np.ones(N, dtype), row_start=np.arange(M) * N, flat_idx=np.empty(M, np.intp),
    )  # fmt: skip
    assert loss_into == loss
    _same(d, d_into, out)


def test_softmax_can_write_over_its_input(rng):
    z = rng.standard_normal((4, 3))
    a = bnviz.softmax(z)
    into = bnviz.softmax(z, out=z)
    assert into is z
    np.testing.assert_array_equal(z, a)


def test_running_average_updates_in_place(rng):
    running, batch, w = rng.random(6), rng.random(6), rng.random(6)
    want = 0.7 * running + 0.3 * w * batch
    tmp = np.empty(6)
    same = layers.running_average(running, batch, 0.7, w, tmp=tmp)
    assert same is running
    np.testing.assert_allclose(running, want, rtol=1e-15)


@pytest.mark.parametrize("C", [1, 2, 3, 10, 12, 13, 40])
def test_row_max_column_by_column_equals_the_reduction(C):
    rng = np.random.default_rng(C)
    z = rng.standard_normal((9, C)).astype(np.float32)
    z[2, C // 2] = np.nan  # NaN propagates either way
    z[4] = -np.inf
    got = layers._row_max(z, np.empty(9, np.float32))
    np.testing.assert_array_equal(got, np.maximum.reduce(z, axis=-1))
