"""Batch norm at test time: three ways to evaluate one network."""

from __future__ import annotations

import numpy as np
import pytest

from bnviz.lessons import eval_modes
from bnviz.nn import MLP

RNG = np.random.default_rng(3)
X = RNG.standard_normal((50, 4))
y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)


def trained(batchnorm: bool = True) -> MLP:
    n = MLP([4, 8, 8, 3], activation="relu", batchnorm=batchnorm, seed=0, dtype=np.float64)
    for _ in range(60):  # a few steps, so the running estimates hold something
        idx = RNG.choice(len(X), 16, replace=False)
        _, grads = n.loss_and_grads(X[idx], y[idx])
        for k in n.params:
            n.params[k] -= 0.1 * grads[k]
    return n


def test_running_mode_is_predict_proba_and_nothing_changes():
    n = trained()
    before = {k: v.copy() for k, v in {**n.params, **n.buffers}.items()}
    modes = eval_modes(n, X, y, batch_size=10)
    proba = n.predict_proba(X)
    np.testing.assert_array_equal(modes["running"].pred, proba.argmax(axis=1))
    loss = -np.mean(np.log(proba[np.arange(len(y)), y]))
    assert abs(modes["running"].loss - loss) < 1e-9
    assert abs(modes["running"].acc - np.mean(proba.argmax(axis=1) == y)) < 1e-12
    after = {k: v.copy() for k, v in {**n.params, **n.buffers}.items()}
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_batch_mode_normalizes_each_chunk_by_itself():
    n = trained()
    modes = eval_modes(n, X, y, batch_size=10)
    first = n.trace(X[:10], mode="train")[1].argmax(axis=1)
    np.testing.assert_array_equal(modes["batch"].pred[:10], first)
    whole = eval_modes(n, X, y, batch_size=len(X))["batch"]
    np.testing.assert_array_equal(whole.pred, n.trace(X, mode="train")[1].argmax(axis=1))


def test_a_single_example_alone_gets_the_same_output_as_every_other():
    n = trained()
    single = eval_modes(n, X, y, batch_size=10)["single"]
    assert len(set(single.pred.tolist())) == 1  # variance 0 -> z_norm 0 -> one output for all
    logits = [n.trace(X[i : i + 1], mode="train")[1] for i in (0, 7, 42)]
    np.testing.assert_allclose(logits[0], logits[1], atol=1e-12)
    np.testing.assert_allclose(logits[0], logits[2], atol=1e-12)


def test_without_batch_norm_the_three_modes_agree():
    n = trained(batchnorm=False)
    modes = eval_modes(n, X, y, batch_size=7)
    for name in ("batch", "single"):
        np.testing.assert_array_equal(modes[name].pred, modes["running"].pred)
        assert abs(modes[name].loss - modes["running"].loss) < 1e-9


def test_the_probes_run_on_a_live_trainer():
    """What the lesson views will ask for, run as the training process runs it."""
    from bnviz.lessons.bn_at_test_time import MAX_EVAL_ROWS
    from bnviz.train.config import TrainConfig
    from bnviz.train.probes import ProbeContext, request, resolve
    from bnviz.train.trainer import Trainer

    t = Trainer(TrainConfig(compare=True, hidden=(8, 8), n_samples=200))
    t.run(30)
    ctx = ProbeContext(t)
    views = resolve(request("bn_unit", layer=2, unit=3, bias=2.5)).fn(ctx, layer=2, unit=3,
                                                                       bias=2.5)  # fmt: skip
    assert [v.run for v in views] == ["bn", "plain"]
    bn = views[0]
    assert bn.batchnorm and bn.z.shape == (t.batch_size,) and bn.gammas.shape == (8,)
    np.testing.assert_allclose(bn.z_tilde, bn.gamma * bn.z_norm + bn.beta, rtol=1e-5, atol=1e-5)
    tt = resolve(request("bn_at_test_time", layer=1)).fn(ctx, layer=1)
    assert {v.run for v in tt} == {"bn", "plain"}
    bn_view = next(v for v in tt if v.run == "bn")
    assert set(bn_view.modes) == {"running", "batch", "single"}
    assert len(bn_view.modes["running"].pred) == min(MAX_EVAL_ROWS, len(t.data.y_val))
    assert bn_view.running_mean.shape == bn_view.batch_mean.shape == (4,)


def test_estimates_kept_early_evaluate_the_current_weights_and_change_nothing():
    from bnviz.lessons.bn_at_test_time import bn_at_test_time_probe, eval_with_estimates
    from bnviz.train.config import TrainConfig
    from bnviz.train.probes import ProbeContext
    from bnviz.train.trainer import Trainer

    t = Trainer(TrainConfig(hidden=(8, 8), n_samples=300))
    t.run(10)
    net = t.runs[0].net
    at10 = net.flat_buffers.copy()
    t.run(40)
    Xv, yv = t.data.X_val, t.data.y_val
    before = {k: v.copy() for k, v in {**net.params, **net.buffers}.items()}
    early = eval_with_estimates(net, t.runs[0].bn_record.kept[10], Xv, yv)
    # the same as a copy of the network holding the step-10 estimates
    other = MLP(net.sizes, net.activation, True, net.bn_momentum, net.eps, 0, net.dtype)
    other.flat_params[...] = net.flat_params
    other.flat_buffers[...] = at10
    np.testing.assert_array_equal(early.pred, other.predict(Xv.astype(net.dtype)))
    now = eval_with_estimates(net, net.flat_buffers.copy(), Xv, yv)
    assert now.loss == eval_modes(net, Xv, yv, 32)["running"].loss
    assert early.loss != now.loss  # 40 steps later the estimates have moved
    for k, v in {**net.params, **net.buffers}.items():
        np.testing.assert_array_equal(v, before[k])
    view = bn_at_test_time_probe(ProbeContext(t), layer=2)[0]
    assert [e.step for e in view.early] == [10, 100, 1000]
    assert view.early[0].result is not None and view.early[1].note == "not yet"
    rows = len(view.modes["running"].pred)
    assert view.early[0].result.loss == eval_with_estimates(net, at10, Xv[:rows], yv[:rows]).loss
    assert view.trace.steps[-1] == 50 and view.trace.running_mean.shape == (50, 4)
    np.testing.assert_array_equal(view.trace.running_mean[-1], view.running_mean)
    assert view.bn_momentum == 0.9 and view.batchnorm
    t.set_batchnorm(False)
    t.set_batchnorm(True)
    again = bn_at_test_time_probe(ProbeContext(t), layer=2)[0]
    assert again.early[0].result is None and "not kept" in again.early[0].note


def test_kept_estimates_of_another_layout_are_refused():
    from bnviz.lessons.bn_at_test_time import eval_with_estimates

    n = trained()
    with pytest.raises(ValueError, match="kept estimates"):
        eval_with_estimates(n, np.zeros(3), X, y)


def test_the_three_conventions_write_the_number_the_network_holds():
    from bnviz.lessons.bn_conventions import CONVENTIONS, convention, last_update, written
    from bnviz.train.bn_record import RunningRecord

    n = MLP([4, 8, 3], activation="relu", batchnorm=True, seed=0, dtype=np.float64)
    rec = RunningRecord()
    for step in (1, 2, 3):
        n.loss_and_flat_grads(X[:20], y[:20])
        rec.record(step, n, 20)
    u = last_update(rec.trace(1), unit=2)
    assert u.step == 3 and u.m == 20 and u.k == 0.9
    assert u.mean_after == n.buffers["running_mean1"][2]
    for conv in CONVENTIONS:
        text, mean = written(conv, u.k, u.mean_before, u.batch_mean)
        assert abs(mean - u.mean_after) < 1e-12, conv.key
        _, var = written(conv, u.k, u.var_before, u.batch_var, m=u.m)
        assert abs(var - u.var_after) < 1e-12, conv.key  # unbiased, as bnviz keeps it
    _, biased = written(convention("keras"), u.k, u.var_before, u.batch_var)
    assert abs((u.var_after - biased) - 0.1 * u.batch_var / 19) < 1e-12  # Keras 3: biased
    torch_text, _ = written(convention("pytorch"), 0.9, 0.5, 0.25)
    course_text, _ = written(convention("course"), 0.9, 0.5, 0.25)
    assert torch_text == "(1 − 0.1) × 0.5 + 0.1 × 0.25 = 0.475"
    assert course_text == "0.9 × 0.5 + (1 − 0.9) × 0.25 = 0.475"
    assert last_update(None) is None
    with pytest.raises(ValueError, match="course, keras, pytorch"):
        convention("tf")
