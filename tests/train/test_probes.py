"""Probes in-process: the registry, rates, errors, and the app's own probes."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from bnviz.train import probes
from bnviz.train.config import TrainConfig
from bnviz.train.probes import ProbeContext, ProbeError, ProbeRunner, Rate, request
from bnviz.train.protocol import ProbeRequest
from bnviz.train.trainer import Trainer
from tests import session_probes  # noqa: F401 (registers the test probes)


def test_rates():
    assert Rate().due((5, 1.0), 5, 1.0)  # on request: always
    assert Rate(steps=3).due(None, 0, 0.0)  # never ran: at once
    assert not Rate(steps=3).due((5, 0.0), 7, 99.0) and Rate(steps=3).due((5, 0.0), 8, 0.0)
    assert not Rate(seconds=1.0).due((0, 2.0), 9, 2.5) and Rate(seconds=1.0).due((0, 2.0), 0, 3.0)
    assert not Rate(steps=1, seconds=1.0).due((0, 0.0), 5, 0.5)  # both must hold


def test_registry_and_requests():
    req = request("test_every_5_steps", offset=3)
    assert req == ProbeRequest("test_every_5_steps", (("offset", 3),), "tests.session_probes")
    assert pickle.loads(pickle.dumps(req)) == req and hash(req) == hash(request(req.name, offset=3))
    with pytest.raises(ProbeError, match="no probe named 'nope'"):
        request("nope")
    with pytest.raises(TypeError):
        request("test_every_5_steps", offset=[1])  # arguments must be hashable
    with pytest.raises(ValueError, match="already registered"):
        probes.register("test_step_count", lambda ctx: 0)
    probes.register("test_step_count", session_probes.step_count)  # the same function again: fine


def test_runner_runs_what_is_due_and_reports_an_error_once():
    t = Trainer(TrainConfig(n_samples=200, hidden=(8,)))
    ctx, runner = ProbeContext(t), ProbeRunner()
    every5, broken = request("test_every_5_steps"), request("test_raises")
    assert runner.collect([every5, broken], ctx, 0.0) == (
        {every5: 0},
        ["probe test_raises: ValueError: broken on purpose"],
    )
    t.run(4)
    assert runner.collect([every5, broken], ctx, 1.0) == ({}, [])
    t.run(1)
    assert runner.collect([every5], ctx, 2.0) == ({every5: 5}, [])
    runner.reset()
    assert runner.collect([every5, broken], ctx, 3.0)[1] != []  # a new run reports again


def test_context_is_read_only():
    t = Trainer(TrainConfig(n_samples=200, hidden=(8,), compare=True))
    t.run(3)
    ctx = ProbeContext(t)
    X, y = ctx.last_batch
    assert ctx.step == 3 and list(ctx.nets) == ["bn", "plain"] and len(X) == len(y)
    for a in (X, y, ctx.probe_batch):
        with pytest.raises(ValueError):
            a[0] = 0
    with pytest.raises(AttributeError):
        ctx.step = 4


def test_decision_grid_covers_the_data_for_every_live_network():
    t = Trainer(TrainConfig(n_samples=200, hidden=(8,), compare=True, n_classes=3))
    t.run(5)
    grids = probes.decision_grid(ProbeContext(t), points=9)
    assert [g.run for g in grids] == ["bn", "plain"]
    g = grids[0]
    assert g.logits.shape == (9, 9, 3) and not g.logits.flags.writeable
    pts = np.column_stack([np.tile(g.x, 9), np.repeat(g.y, 9)])
    expected = t.runs[0].net.predict_proba(pts).reshape(9, 9, 3)
    np.testing.assert_allclose(g.proba(), expected, rtol=1e-5)
    np.testing.assert_allclose(g.proba(0.1).sum(axis=2), 1, rtol=1e-12)
    np.testing.assert_array_equal(g.proba(0.1).argmax(axis=2), g.proba(10.0).argmax(axis=2))
    X = np.vstack([t.data.X_train, t.data.X_val])
    assert g.x[0] < X[:, 0].min() and g.y[-1] > X[:, 1].max()
    digits = Trainer(TrainConfig(dataset="digits", hidden=(8,)))
    assert probes.decision_grid(ProbeContext(digits)) == ()
