"""Batch norm at test time: three ways to evaluate one network."""

from __future__ import annotations

import numpy as np

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
