"""What bnviz lesson prints for the lessons without a pair: the BN identities, the signals."""

from __future__ import annotations

import pytest

from bnviz.lessons.own_measures import babysitting_signals, unit_checks
from bnviz.train.config import ConfigError, TrainConfig

SMALL = TrainConfig(hidden=(8, 8), n_samples=120)


def test_the_bn_identities_hold_on_a_trained_network_even_with_bn_off_in_the_setting():
    found = unit_checks(TrainConfig(hidden=(8, 8), n_samples=120, batchnorm=False), steps=30)
    assert found["ok"] and {c["layer"] for c in found["checks"]} == {1, 2}
    assert all(c["error"] < 1e-4 * max(c["scale"], 1) for c in found["checks"])


def test_a_diverging_run_gives_its_last_reading_before_it_diverged():
    found = babysitting_signals(TrainConfig(lr=50.0), steps=200)  # measured: diverges at 50
    assert found["diverged_step"] is not None and found["diverged_step"] < 200
    assert [r["layer"] for r in found["layers"]] == [1, 2, 3, 4, 5]
    calm = babysitting_signals(SMALL, steps=20)
    assert calm["diverged_step"] is None and len(calm["layers"]) == 3


def test_no_steps_is_refused():
    with pytest.raises(ConfigError, match="steps must be >= 1"):
        babysitting_signals(SMALL, steps=0)
