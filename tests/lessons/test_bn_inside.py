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


# -- the identity button's actions, on a live trainer -------------------------------------------
def _trainer(compare: bool = True):
    from bnviz.train.config import TrainConfig
    from bnviz.train.trainer import Trainer

    t = Trainer(TrainConfig(compare=compare, hidden=(8, 6), n_samples=200, activation="tanh"))
    t.run(40)  # gamma and beta away from 1 and 0
    return t


def _everything(t) -> dict:
    """Every array of every network and optimizer, copied."""
    out = {}
    for r in t.runs:
        arrays = {**r.net.params, **r.net.buffers}
        out.update({f"{r.name}.{k}": v.copy() for k, v in arrays.items()})
        out.update({f"{r.name}.opt.{k}": np.copy(v) for k, v in r.opt.state.items()})
    return out


def _unit(t, layer: int, unit: int):
    from bnviz.train.probes import ProbeContext, request, resolve

    req = request("bn_unit", layer=layer, unit=unit)
    return {v.run: v for v in resolve(req).fn(ProbeContext(t), **req.kwargs)}


def test_identity_action_makes_z_tilde_z_in_what_trains_and_undo_restores_it():
    from bnviz.train.actions import ActionContext, request, run

    t = _trainer()
    before = _everything(t)
    shown = _unit(t, 2, 3)["bn"]
    assert not np.allclose(shown.z_tilde, shown.z, atol=1e-3)
    done = run(request("bn_identity", run="bn", layer=2, unit=3), ActionContext(t))
    # the new values are the course's, from the last mini-batch's statistics
    assert (done.run, done.layer, done.unit) == ("bn", 2, 3)
    assert done.old_gamma == before["bn.gamma2"][3] and done.old_beta == before["bn.beta2"][3]
    assert abs(done.gamma - np.sqrt(shown.var + t.runs[0].net.eps)) < 1e-6
    assert abs(done.beta - shown.mu) < 1e-6
    after = _unit(t, 2, 3)["bn"]
    np.testing.assert_allclose(after.z_tilde, after.z, atol=1e-6)
    # the training step's own arrays (the fast path's workspace) see it too
    X, y = t.last_batch
    net = t.runs[0].net
    net.loss_and_flat_grads(X, y)
    h = net._workspace(len(X)).layers[1]
    np.testing.assert_allclose(h.bn.z_tilde[:, 3], h.z[:, 3], atol=1e-6)
    changed = {k for k, v in _everything(t).items() if not np.array_equal(v, before[k])}
    # that forward updated the running estimates; the action changed just the unit's pair
    assert changed - {"bn.running_mean1", "bn.running_var1", "bn.running_mean2",
                      "bn.running_var2"} == {"bn.gamma2", "bn.beta2"}  # fmt: skip
    gamma2 = before["bn.gamma2"].copy()
    gamma2[3] = done.gamma
    np.testing.assert_array_equal(net.params["gamma2"], gamma2)
    # a second click: the old values back, bit for bit
    undo = dict(run="bn", layer=2, unit=3, gamma=done.old_gamma, beta=done.old_beta)
    back = run(request("bn_set_gamma_beta", **undo), ActionContext(t))
    assert (back.old_gamma, back.gamma) == (done.gamma, done.old_gamma)
    np.testing.assert_array_equal(net.params["gamma2"], before["bn.gamma2"])
    np.testing.assert_array_equal(net.params["beta2"], before["bn.beta2"])
    np.testing.assert_allclose(_unit(t, 2, 3)["bn"].z_tilde, shown.z_tilde, atol=1e-6)


def test_identity_action_on_the_trace_alone_changes_nothing_else():
    from bnviz.train.actions import ActionContext, request, run

    t = _trainer(compare=False)
    before = _everything(t)
    done = run(request("bn_identity", run=t.runs[0].name, layer=1, unit=0), ActionContext(t))
    after = _everything(t)
    assert {k for k in before if not np.array_equal(before[k], after[k])} <= {
        f"{done.run}.gamma1",
        f"{done.run}.beta1",
    }
    assert t.step_count == 40  # it trained nothing


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (dict(run="plain", layer=1, unit=0), "'plain' has no batch norm"),
        (dict(run="nope", layer=1, unit=0), "no network named 'nope'"),
        (dict(run="bn", layer=3, unit=0), "hidden layer 1..2"),
        (dict(run="bn", layer=1, unit=8), r"unit must be 0..7"),
    ],
)
def test_identity_action_refuses_what_it_cannot_do(args, message):
    from bnviz.train.actions import ActionContext, request, run

    t = _trainer()
    before = _everything(t)
    with pytest.raises(ValueError, match=message):
        run(request("bn_identity", **args), ActionContext(t))
    with pytest.raises(ValueError, match="finite"):
        run(request("bn_set_gamma_beta", run="bn", layer=1, unit=0, gamma=float("nan"), beta=0.0),
            ActionContext(t))  # fmt: skip
    assert all(np.array_equal(v, before[k]) for k, v in _everything(t).items())
