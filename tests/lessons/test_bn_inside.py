"""Batch norm inside out, against the network's own numbers (float64 networks, so identities
hold to 1e-9)."""

from __future__ import annotations

import numpy as np
import pytest

from bnviz.lessons import bn_trace, identity_gamma_beta
from bnviz.nn import MLP

RNG = np.random.default_rng(0)
X = RNG.standard_normal((32, 3))
y = RNG.integers(0, 4, 32)


def net(batchnorm: bool = True, activation: str = "tanh") -> MLP:
    n = MLP([3, 6, 5, 4], activation=activation, batchnorm=batchnorm, seed=1, dtype=np.float64)
    if batchnorm:  # gamma and beta away from 1 and 0, as after training
        for l in (1, 2):
            n.params[f"gamma{l}"][...] = RNG.uniform(0.5, 2.0, n.sizes[l])
            n.params[f"beta{l}"][...] = RNG.uniform(-1.0, 1.0, n.sizes[l])
    return n


def state(n: MLP) -> dict:
    return {k: v.copy() for k, v in {**n.params, **n.buffers}.items()}


@pytest.mark.parametrize("batchnorm", [True, False])
@pytest.mark.parametrize("layer", [1, 2])
def test_trace_is_the_layers_train_mode_forward_and_changes_nothing(batchnorm, layer):
    n = net(batchnorm)
    before = state(n)
    t = bn_trace(n, X, layer)
    hidden, _ = n.trace(X, mode="train")
    np.testing.assert_allclose(t.z, hidden[layer - 1].z, atol=1e-12)
    np.testing.assert_allclose(t.z_tilde, hidden[layer - 1].z_tilde, atol=1e-12)
    np.testing.assert_allclose(t.a, hidden[layer - 1].a, atol=1e-12)
    # the batch statistics, by their definitions
    np.testing.assert_allclose(t.mu, t.z.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(t.var, ((t.z - t.z.mean(axis=0)) ** 2).mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(t.z_norm.mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(t.z_norm.var(axis=0), t.var / (t.var + n.eps), atol=1e-9)
    if not batchnorm:
        np.testing.assert_array_equal(t.z_tilde, t.z)
    after = state(n)
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_a_bias_is_redundant_under_batch_norm():
    n = net()
    b = RNG.uniform(-5, 5, 5)
    plain, shifted = bn_trace(n, X, 2), bn_trace(n, X, 2, bias=b)
    np.testing.assert_allclose(shifted.z - plain.z, np.broadcast_to(b, plain.z.shape), atol=1e-9)
    np.testing.assert_allclose(shifted.mu - plain.mu, b, atol=1e-9)
    np.testing.assert_allclose(shifted.z_norm, plain.z_norm, atol=1e-9)
    np.testing.assert_allclose(shifted.z_tilde, plain.z_tilde, atol=1e-9)


def test_gamma_sqrt_var_eps_and_beta_mu_make_bn_the_identity():
    n = net()
    t = bn_trace(n, X, 1)
    gamma, beta = identity_gamma_beta(t)
    n.params["gamma1"][...], n.params["beta1"][...] = gamma, beta
    undone = bn_trace(n, X, 1)
    np.testing.assert_allclose(undone.z_tilde, undone.z, atol=1e-6)
    assert not np.allclose(t.z_tilde, t.z, atol=1e-3)  # it was not the identity before


def test_bad_layer_is_refused():
    with pytest.raises(ValueError, match="hidden layer 1..2"):
        bn_trace(net(), X, 3)
