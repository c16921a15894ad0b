"""Actions: the registry (shared with the probes), in-process and through a real training
process, where an action changes the live network and every probe is due again at once."""

from __future__ import annotations

import pickle

import pytest

from bnviz.train import actions, probes
from bnviz.train.actions import ActionContext, ActionError, request
from bnviz.train.config import TrainConfig
from bnviz.train.protocol import ActionRequest, ProbeRequest, Replied, RunAction, Step
from bnviz.train.trainer import Trainer
from tests import session_probes
from tests.train.test_session import child  # noqa: F401 (the fixture)


def test_registry_and_requests():
    req = request("test_add_to_first_weight", value=0.5)
    args, module = (("value", 0.5),), "tests.session_probes"
    assert req == ActionRequest("test_add_to_first_weight", args, module)
    assert pickle.loads(pickle.dumps(req)) == req
    # a probe and an action never stand for each other, even with the same fields
    assert req != ProbeRequest(req.name, req.args, req.module)
    with pytest.raises(ActionError, match="no action named 'nope'"):
        request("nope")
    with pytest.raises(ActionError, match="no action named 'test_step_count'"):
        request("test_step_count")  # a probe is not an action
    with pytest.raises(probes.ProbeError, match="no probe named"):
        probes.request("test_add_to_first_weight")
    with pytest.raises(TypeError):
        request("test_add_to_first_weight", value=[1])
    with pytest.raises(ValueError, match="action 'test_action_raises' is already registered"):
        actions.register("test_action_raises", lambda ctx: 0)
    actions.register("test_action_raises", session_probes.action_raises)  # the same: fine
    with pytest.raises(ActionError, match="looked in nothing"):
        actions.resolve(ActionRequest("nope"))


def test_an_action_changes_the_live_network():
    t = Trainer(TrainConfig(n_samples=200, hidden=(8,), compare=True))
    ctx = ActionContext(t)
    w = float(t.runs[0].net.params["W1"][0, 0])
    assert actions.run(request("test_add_to_first_weight", value=2.0), ctx) == w
    assert float(t.runs[0].net.params["W1"][0, 0]) == pytest.approx(w + 2.0)
    assert ctx.run("plain") is t.runs[1]
    with pytest.raises(ValueError, match="no network named 'x'; the networks are 'bn', 'plain'"):
        ctx.run("x")


def test_run_action_through_the_training_process(child):  # noqa: F811 (the fixture)
    c = child()
    every5 = probes.request("test_every_5_steps")
    first = probes.request("test_first_weight")
    taken = c.snapshot(every5, first)
    w0 = taken.probes[first]
    assert c.snapshot(every5, first).probes == {first: w0}  # every5: not due without steps
    c.send(RunAction(41, request("test_add_to_first_weight", value=1.5)))
    reply = c.expect(Replied)
    assert reply == Replied(41, True, w0)
    # the change is in the network, and every probe asked for is due again at once
    taken = c.snapshot(every5, first)
    assert taken.probes[every5] == 0 and taken.probes[first] == pytest.approx(w0 + 1.5)
    c.send(Step())
    assert c.value(first) != pytest.approx(w0 + 1.5)  # and it trains on from there
    # a raising or unknown action is an answer, not a crash
    c.send(RunAction(42, request("test_action_raises")))
    assert c.expect(Replied) == Replied(42, False, "action test_action_raises: ValueError: "
                                                   "refused on purpose")  # fmt: skip
    c.send(RunAction(43, ActionRequest("no_such_action")))
    reply = c.expect(Replied)
    assert not reply.ok and "no action named 'no_such_action'" in str(reply.value)
    assert c.errors() == []
