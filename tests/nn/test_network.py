"""The network: gradients by central differences, BN identities, eval mode, the BN toggle,
softmax properties and persistence."""

from __future__ import annotations

import numpy as np
import pytest

from bnviz.nn import MLP, ModelFileError, layers
from tests.nn.gradcheck import numerical_grads, rel_error

ACTS = ["relu", "tanh", "sigmoid", "linear"]


@pytest.fixture
def batch():
    rng = np.random.default_rng(42)
    return rng.standard_normal((16, 5)), rng.integers(0, 3, 16)


@pytest.mark.parametrize("batchnorm", [False, True])
@pytest.mark.parametrize("activation", ACTS)
def test_gradients_match_central_differences(batch, activation, batchnorm):
    X, y = batch
    net = MLP([5, 7, 6, 3], activation, batchnorm, dtype=np.float64, seed=3)
    # Keep the running estimates still: finite differences call the loss many times.
    _, grads = net.loss_and_grads(X, y)
    num = numerical_grads(lambda: net.loss_and_grads(X, y)[0], net.params)
    for name in net.params:
        assert rel_error(grads[name], num[name]) < 1e-6, name


def test_gradient_of_softmax_regression_without_hidden_layer(batch):
    X, y = batch
    net = MLP([5, 3], dtype=np.float64)
    _, grads = net.loss_and_grads(X, y)
    num = numerical_grads(lambda: net.loss_and_grads(X, y)[0], net.params)
    assert set(grads) == {"W1", "b1"}
    assert rel_error(grads["W1"], num["W1"]) < 1e-6


def test_param_names_and_shapes():
    net = MLP([4, 8, 6, 3], batchnorm=True)
    assert list(net.params) == ["W1", "gamma1", "beta1", "W2", "gamma2", "beta2", "W3", "b3"]
    assert net.params["W1"].shape == (8, 4) and net.params["W3"].shape == (3, 6)
    assert set(net.buffers) == {"running_mean1", "running_var1", "running_mean2", "running_var2"}
    plain = MLP([4, 8, 6, 3])
    assert list(plain.params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert plain.params["W1"].dtype == np.float32


def test_same_seed_same_initial_weights_with_and_without_bn():
    a, b = MLP([4, 8, 3], seed=7), MLP([4, 8, 3], batchnorm=True, seed=7)
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])
    assert not np.array_equal(a.params["W1"], MLP([4, 8, 3], seed=8).params["W1"])


def test_params_are_the_networks_state(batch):
    X, _ = batch
    net = MLP([5, 6, 3], dtype=np.float64)
    before = net.predict_proba(X)
    net.params["W2"] *= 0  # in place: the network must see it
    np.testing.assert_allclose(net.predict_proba(X), 1 / 3)
    assert not np.allclose(before, 1 / 3)


def test_bn_normalizes_to_zero_mean_unit_variance():
    rng = np.random.default_rng(0)
    z = rng.normal(5.0, 3.0, (64, 10))
    out, *_ = layers.batchnorm_forward(z, np.ones(10), np.zeros(10), 1e-5)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(out.var(axis=0), 1, rtol=1e-4)


def test_bn_is_identity_when_gamma_is_std_and_beta_is_mean():
    rng = np.random.default_rng(1)
    z = rng.normal(-2.0, 4.0, (32, 6))
    eps = 1e-5
    gamma, beta = np.sqrt(z.var(axis=0) + eps), z.mean(axis=0)
    out, *_ = layers.batchnorm_forward(z, gamma, beta, eps)
    np.testing.assert_allclose(out, z, rtol=1e-10, atol=1e-10)


def test_bias_is_redundant_under_bn():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((20, 4))
    a, *_ = layers.batchnorm_forward(z, np.ones(4), np.zeros(4))
    b, *_ = layers.batchnorm_forward(z + rng.standard_normal(4), np.ones(4), np.zeros(4))
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_running_estimates_follow_the_ewma_with_unbiased_variance():
    rng = np.random.default_rng(3)
    net = MLP([3, 4, 2], batchnorm=True, bn_momentum=0.9, dtype=np.float64)
    X, y = rng.standard_normal((10, 3)), rng.integers(0, 2, 10)
    z = X @ net.params["W1"].T
    net.loss_and_grads(X, y)
    np.testing.assert_allclose(net.buffers["running_mean1"], 0.1 * z.mean(axis=0))
    np.testing.assert_allclose(net.buffers["running_var1"], 0.9 + 0.1 * z.var(axis=0, ddof=1))


def test_eval_mode_works_on_one_example_and_uses_running_estimates():
    rng = np.random.default_rng(4)
    net = MLP([3, 8, 3], batchnorm=True, dtype=np.float64)
    X, y = rng.standard_normal((50, 3)), rng.integers(0, 3, 50)
    for _ in range(30):
        net.loss_and_grads(X, y)
    one = net.predict_proba(X[:1])
    assert one.shape == (1, 3) and np.isfinite(one).all()
    np.testing.assert_allclose(one, net.predict_proba(X)[:1], rtol=1e-10)
    # eval mode is a function of each example alone; train mode is not
    traces_train, _ = net.trace(X[:5], mode="train")
    traces_eval, _ = net.trace(X[:5], mode="eval")
    assert not np.allclose(traces_train[0].z_tilde, traces_eval[0].z_tilde)


@pytest.mark.parametrize("activation", ACTS)
def test_enable_batchnorm_preserves_train_mode_output(activation):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((64, 4)).astype(np.float32)
    net = MLP([4, 16, 16, 3], activation, seed=1)
    net.params["b1"][...] = rng.standard_normal(16)
    before = net.trace(X, mode="train")[1]
    net.enable_batchnorm(X)
    assert net.batchnorm and "gamma1" in net.params and "b1" not in net.params
    after = net.trace(X, mode="train")[1]
    np.testing.assert_allclose(after, before, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("activation", ACTS)
def test_disable_batchnorm_preserves_eval_predictions(activation):
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((64, 4)).astype(np.float32), rng.integers(0, 3, 64)
    net = MLP([4, 16, 16, 3], activation, batchnorm=True, seed=2)
    for _ in range(20):
        net.loss_and_grads(X, y)
        net.flat_params -= 0.05 * net.flat_grads
    before = net.predict_proba(X)
    net.disable_batchnorm()
    assert not net.batchnorm and "b1" in net.params and not net.buffers
    np.testing.assert_allclose(net.predict_proba(X), before, atol=1e-5)


def test_softmax_rows_sum_to_one_and_stay_finite_at_huge_logits():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [3.0, 1.0, 0.2]])
    p = layers.softmax(z)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    loss, d = layers.softmax_cross_entropy(z, np.array([1, 0, 2]))
    assert np.isfinite(loss) and np.isfinite(d).all()
    assert loss > 1000  # the first example is confidently wrong by 2e4 nats / 3


def test_softmax_with_two_classes_is_the_logistic_sigmoid():
    z = np.random.default_rng(7).standard_normal((20, 2)) * 5
    p = layers.softmax(z)
    np.testing.assert_allclose(p[:, 1], 1 / (1 + np.exp(-(z[:, 1] - z[:, 0]))), rtol=1e-12)


def test_dloss_dlogits_is_yhat_minus_y():
    rng = np.random.default_rng(8)
    z, y = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    _, d = layers.softmax_cross_entropy(z, y)
    np.testing.assert_allclose(d * 6, layers.softmax(z) - np.eye(4)[y], atol=1e-12)


def test_save_and_load_round_trip(tmp_path, batch):
    X, y = batch
    net = MLP([5, 8, 3], "tanh", batchnorm=True, seed=4)
    for _ in range(5):
        net.loss_and_grads(X, y)
        net.flat_params -= 0.1 * net.flat_grads
    net.save(tmp_path / "m.npz")
    back = MLP.load(tmp_path / "m.npz")
    assert back.sizes == net.sizes and back.activation == "tanh" and back.batchnorm
    np.testing.assert_array_equal(back.predict_proba(X), net.predict_proba(X))


def test_load_refuses_other_files(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="not a bnviz model"):
        MLP.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", X=np.zeros(3))
    with pytest.raises(ModelFileError, match="missing"):
        MLP.load(tmp_path / "other.npz")
    np.savez(tmp_path / "obj.npz", __sizes__=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ModelFileError, match="pickled"):
        MLP.load(tmp_path / "obj.npz")
    with pytest.raises(ModelFileError, match="no such file"):
        MLP.load(tmp_path / "absent.npz")


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="activation"):
        MLP([2, 3], activation="gelu")
    with pytest.raises(ValueError, match="sizes"):
        MLP([2])
    with pytest.raises(ValueError, match="shape"):
        MLP([2, 3]).predict(np.zeros((4, 5)))


def test_a_saved_model_predicts_on_raw_inputs(tmp_path):
    """The file keeps the standardization the network was trained behind (defect 15)."""
    from bnviz import TrainConfig, Trainer

    t = Trainer(TrainConfig(dataset="blobs", n_classes=3, hidden=(8,), n_samples=120))
    t.run(50)
    net = t.runs[0].net
    net.save(tmp_path / "m.npz")
    back = MLP.load(tmp_path / "m.npz")
    raw = t.data.raw(t.data.X_val)  # the data set's own units
    np.testing.assert_allclose(back.predict_proba_raw(raw), net.predict_proba(t.data.X_val),
                               rtol=1e-4, atol=1e-5)  # fmt: skip
    np.testing.assert_array_equal(back.predict_raw(raw), net.predict(t.data.X_val))
    # predict_proba keeps its meaning: standardized inputs
    np.testing.assert_array_equal(back.predict_proba(t.data.X_val), net.predict_proba(t.data.X_val))


def test_a_network_without_its_scaling_says_so_and_old_files_still_load(tmp_path):
    net = MLP([2, 4, 3], seed=0)
    with pytest.raises(ValueError, match="does not know the standardization"):
        net.predict_proba_raw(np.zeros((1, 2)))
    net.save(tmp_path / "old.npz")  # as a file of the first release: no __input_*__ keys
    with np.load(tmp_path / "old.npz") as f:
        assert "__input_mean__" not in f.files
    assert MLP.load(tmp_path / "old.npz").input_mean is None
    with pytest.raises(ValueError, match="one per input"):
        net.set_input_scaling([0.0], [1.0])


def test_no_hidden_layer_has_nothing_to_normalize():
    """Softmax regression asked for BN is plain, and says so (labels, legends, 'with BN')."""
    net = MLP([2, 3], batchnorm=True)
    assert not net.batchnorm and set(net.params) == {"W1", "b1"}
