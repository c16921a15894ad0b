"""The running-estimate record: what the trainer keeps of past BN statistics, per run."""

from __future__ import annotations

import numpy as np

from bnviz.lessons import bn_trace
from bnviz.nn import MLP
from bnviz.train.bn_record import KEEP_AT, RunningRecord
from bnviz.train.config import TrainConfig
from bnviz.train.trainer import Trainer

SMALL = TrainConfig(hidden=(8, 8), n_samples=200)


def test_the_estimates_after_step_10_are_kept_as_they_were():
    t = Trainer(SMALL)
    t.run(10)
    r = t.runs[0]
    then = r.net.flat_buffers.copy()
    np.testing.assert_array_equal(r.bn_record.kept[10], then)
    t.run(5)
    assert not np.array_equal(r.net.flat_buffers, then)  # the network moved on ...
    np.testing.assert_array_equal(r.bn_record.kept[10], then)  # ... the copy did not
    assert set(r.bn_record.kept) == {10} and KEEP_AT == (10, 100, 1000)


def test_each_step_records_the_batch_statistics_and_the_average_they_enter():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3))
    y = rng.integers(0, 3, 64)
    net = MLP([3, 6, 5, 3], activation="tanh", batchnorm=True, seed=1, dtype=np.float64)
    rec = RunningRecord(units=4)
    mus, vars_ = [], []
    for step in range(1, 8):
        idx = rng.choice(64, 16, replace=False)
        tr = bn_trace(net, X[idx], 2)  # the batch statistics, computed apart from the step
        mus.append(tr.mu[:4])
        vars_.append(tr.var[:4])
        net.loss_and_flat_grads(X[idx], y[idx])
        rec.record(step, net, 16)
    t = rec.trace(2)
    assert t.steps.tolist() == list(range(1, 8)) and t.batch_size.tolist() == [16] * 7
    np.testing.assert_allclose(t.batch_mean, mus, atol=1e-12)
    np.testing.assert_allclose(t.batch_var, vars_, atol=1e-12)
    k = net.bn_momentum
    # the running estimates are the exponentially weighted average of what was recorded
    np.testing.assert_allclose(
        t.running_mean[1:], k * t.running_mean[:-1] + (1 - k) * t.batch_mean[1:], atol=1e-12
    )
    np.testing.assert_allclose(
        t.running_var[1:], k * t.running_var[:-1] + (1 - k) * t.batch_var[1:] * 16 / 15,
        atol=1e-12,
    )  # fmt: skip
    np.testing.assert_array_equal(t.running_mean[-1], net.buffers["running_mean2"][:4])
    assert rec.trace(3) is None  # the output layer has no BN


def test_the_first_steps_stay_and_the_last_ones_ring():
    net = MLP([2, 4, 2], batchnorm=True, seed=0, dtype=np.float64)
    X = np.random.default_rng(1).standard_normal((8, 2))
    rec = RunningRecord(units=2, first=3, last=4)
    for step in range(1, 21):
        net.loss_and_flat_grads(X, np.arange(8) % 2)
        rec.record(step, net, 8)
    t = rec.trace(1)
    assert t.steps.tolist() == [1, 2, 3, 17, 18, 19, 20]
    np.testing.assert_array_equal(t.running_mean[-1], net.buffers["running_mean1"][:2])


def test_nothing_is_recorded_without_bn_and_a_bn_switch_starts_again():
    t = Trainer(TrainConfig(hidden=(8, 8), n_samples=200, compare=True))
    t.run(12)
    bn, plain = t.runs
    assert 10 in bn.bn_record.kept and plain.bn_record.trace(1) is None
    assert plain.bn_record.kept == {}
    single = Trainer(SMALL)
    single.run(12)
    single.set_batchnorm(False)
    single.set_batchnorm(True)
    assert single.runs[0].bn_record.kept == {} and single.runs[0].bn_record.trace(1) is None
    single.run(1)
    assert single.runs[0].bn_record.trace(1).steps.tolist() == [13]
