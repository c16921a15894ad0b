"""RunHistory strings snapshots together; its smoothed loss is the trainer's own."""

from __future__ import annotations

import math

import numpy as np

from bnviz.train import trainer as trainer_module
from bnviz.train.config import TrainConfig
from bnviz.train.history import RunHistory, Segment
from bnviz.train.trainer import Trainer


def test_smoothed_loss_is_the_trainers_even_when_it_decimates(monkeypatch):
    monkeypatch.setattr(trainer_module, "MAX_PENDING_LOSSES", 40)  # decimate early
    t = Trainer(TrainConfig(n_samples=200, hidden=(8,)))
    h = RunHistory("net")
    ewma = {}  # step -> the trainer's smoothed loss after it
    for rounds in (1, 3, 1):
        for _ in range(rounds * 60):  # more steps than the trainer keeps for a snapshot
            t.step()
            ewma[t.step_count] = t.runs[0].ewma.corrected
        t.evaluate()
        (snap,) = t.snapshot()
        assert len(snap.losses) < rounds * 60  # the trainer halved what it kept
        h.add(snap)
        assert h.smoothed_loss == t.metrics[-1]["smoothed_loss"]
    np.testing.assert_array_equal(h.smoothed.y, [ewma[int(s)] for s in h.smoothed.x])
    # what a second EWMA over the losses the history was sent would have said: something else
    again = 0.0
    for loss in h.loss.y:
        again = 0.98 * again + 0.02 * loss
    assert abs(again / (1 - 0.98 ** len(h.loss)) - h.smoothed_loss) > 1e-6


def test_segments_follow_the_bn_switches():
    t = Trainer(TrainConfig(n_samples=200, hidden=(8,), batchnorm=False))
    h = RunHistory("net")
    t.run(5)
    h.add(t.snapshot()[0])
    assert h.segments() == [Segment(0.0, math.inf, False)]
    t.set_batchnorm(True)
    t.run(5)
    t.set_batchnorm(False)
    t.run(5)
    h.add(t.snapshot()[0])
    assert h.segments() == [
        Segment(0.0, 5.0, False),
        Segment(5.0, 10.0, True),
        Segment(10.0, math.inf, False),
    ]
