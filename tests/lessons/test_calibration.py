"""Calibration (Guo et al. 2017) against a hand computation, with probabilities exactly on bin
edges; temperature scaling at the NLL minimum (finite differences) and at a T worked out by
hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bnviz.lessons.calibration import calibrate, calibration, fit_temperature, nll
from bnviz.nn.layers import softmax


def test_ece_by_hand_with_edges_in_the_lower_bin():
    # M = 4 bins (0, .25], (.25, .5], (.5, .75], (.75, 1]; 0.5 and 0.75 are edges.
    proba = np.array(
        [
            [0.5, 0.3, 0.2],  # conf 0.5 -> bin 2, right
            [0.4, 0.35, 0.25],  # 0.4 -> bin 2, wrong (label 1)
            [0.1, 0.7, 0.2],  # 0.7 -> bin 3, right
            [0.75, 0.125, 0.125],  # 0.75 -> bin 3, wrong (label 2)
            [0.05, 0.05, 0.9],  # 0.9 -> bin 4, right
            [1.0, 0.0, 0.0],  # 1.0 -> bin 4, right
        ]
    )
    y = np.array([0, 1, 1, 2, 2, 0])
    c = calibration(proba, y, bins=4)
    assert c.count == (0, 2, 2, 2)
    assert math.isnan(c.accuracy[0]) and math.isnan(c.confidence[0])
    assert c.confidence[1:] == pytest.approx((0.45, 0.725, 0.95))
    assert c.accuracy[1:] == pytest.approx((0.5, 0.5, 1.0))
    # ECE = 2/6 * 0.05 + 2/6 * 0.225 + 2/6 * 0.05; MCE = 0.225
    assert c.ece == pytest.approx((0.05 + 0.225 + 0.05) / 3)
    assert c.mce == pytest.approx(0.225)
    assert c.edges == pytest.approx((0, 0.25, 0.5, 0.75, 1))
    assert c.overall_accuracy == pytest.approx(4 / 6)


def test_perfectly_calibrated_bins_have_zero_ece():
    # 10 examples at confidence 0.7 of which 7 right: accuracy = confidence in the one bin
    proba = np.tile([0.7, 0.3], (10, 1))
    y = np.array([0] * 7 + [1] * 3)
    assert calibration(proba, y).ece == pytest.approx(0, abs=1e-12)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="proba"):
        calibration(np.ones((3, 2)) / 2, np.zeros(4, int))
    with pytest.raises(ValueError, match="bins"):
        calibration(np.ones((3, 2)) / 2, np.zeros(3, int), bins=0)


def _overconfident(seed: int = 0, n: int = 400, C: int = 5):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, C)) * 3
    # labels drawn from softmax(z / 2.5): the logits are too sharp by a factor 2.5
    p = softmax(z, 2.5)
    y = np.array([rng.choice(C, p=row) for row in p])
    return z, y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fit_temperature_sits_at_the_nll_minimum(seed):
    z, y = _overconfident(seed)
    t = fit_temperature(z, y)
    assert 1.5 < t < 4.0  # near the 2.5 the labels were drawn with
    best = nll(z, y, t)
    for factor in (1 - 1e-2, 1 + 1e-2):
        assert nll(z, y, t * factor) >= best
    assert nll(z, y, t) < nll(z, y, 1.0)


def test_fit_temperature_by_hand():
    # Two classes, margin d = 2 on every example, 3 of 4 right: NLL(b) = 3/4 log(1 + e^(-2b))
    # + 1/4 log(1 + e^(2b)) with b = 1/T; zero derivative where e^(2b) = 3, T = 2 / ln 3, and
    # there softmax gives the right class 3/4: confidence = accuracy, ECE 0.
    z = np.array([[0.0, 2.0]] * 4)
    y = np.array([1, 1, 1, 0])
    t = fit_temperature(z, y)
    assert t == pytest.approx(2 / math.log(3), rel=1e-3)
    r = calibrate("net", False, 0, z, y)
    assert r.temperature == t and r.after.ece == pytest.approx(0, abs=1e-3)
    assert r.before.ece == pytest.approx(softmax(z)[0, 1] - 0.75)
    assert r.nll_after < r.nll_before


def test_fit_temperature_refuses_bad_logits():
    with pytest.raises(ValueError, match="finite"):
        fit_temperature(np.array([[0.0, np.inf]]), np.array([0]))
    with pytest.raises(ValueError, match="n labels"):
        fit_temperature(np.zeros((2, 3)), np.array([0]))


def test_the_probe_measures_every_live_network_and_changes_none():
    from bnviz.lessons.calibration import calibration_probe
    from bnviz.train.config import TrainConfig
    from bnviz.train.probes import ProbeContext
    from bnviz.train.trainer import Trainer

    trainer = Trainer(TrainConfig(dataset="blobs", n_samples=300, hidden=(8,), compare=True))
    trainer.run(30)
    before = [r.net.flat_params.copy() for r in trainer.runs]
    out = calibration_probe(ProbeContext(trainer), bins=10)
    assert [r.run for r in out] == ["bn", "plain"]
    for r, w, run in zip(out, before, trainer.runs):
        np.testing.assert_array_equal(run.net.flat_params, w)
        assert sum(r.before.count) == len(trainer.data.y_val) and len(r.before.count) == 10
        assert r.temperature > 0 and r.nll_after <= r.nll_before + 1e-12


def test_fit_temperature_stops_at_the_brackets_edge_when_the_best_t_lies_beyond():
    from bnviz.lessons.calibration import T_HIGH, T_LOW

    z = np.array([[0.0, 5.0], [5.0, 0.0]])
    # every prediction right: the NLL falls as T -> 0, so the search ends at the low edge
    assert fit_temperature(z, np.array([1, 0])) == pytest.approx(T_LOW, rel=2e-3)
    # every prediction wrong: the NLL falls as T -> infinity (towards ln 2)
    assert fit_temperature(z, np.array([0, 1])) == pytest.approx(T_HIGH, rel=2e-3)
