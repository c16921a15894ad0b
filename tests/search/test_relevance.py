"""Only what can matter is searched (issue 17, item 6): the round's spaces and the importance
bars both follow the registry's ``used_when`` rules, through one Qt-free function."""

from __future__ import annotations

from bnviz.search import points
from bnviz.search.importance import importance
from bnviz.search.relevance import idle_reason, searchable, trial_values
from bnviz.search.spaces import DEFAULT_SPACES, parse_space
from bnviz.train.config import TrainConfig
from tests.search.records import record as trial

SGD = TrainConfig(optimizer="sgd").to_dict()
MOMENTUM = TrainConfig(optimizer="momentum").to_dict()


def test_plain_sgd_does_not_sample_beta_and_says_why():
    spaces = list(DEFAULT_SPACES.values())
    kept, idle = searchable(TrainConfig(optimizer="sgd"), spaces)
    assert [s.name for s in kept] == ["lr"]
    assert idle == {"beta": "momentum beta does nothing with optimizer sgd "
                            "(it needs optimizer momentum/adam)"}  # fmt: skip
    kept, idle = searchable(TrainConfig(optimizer="adam"), spaces)
    assert [s.name for s in kept] == ["lr", "beta"] and idle == {}


def test_beta_is_kept_when_the_optimizer_is_part_of_the_round():
    spaces = [*DEFAULT_SPACES.values(), parse_space("optimizer", "sgd,momentum:cat")]
    kept, idle = searchable(TrainConfig(optimizer="sgd"), spaces)
    assert [s.name for s in kept] == ["lr", "beta", "optimizer"] and idle == {}


def test_a_trial_feels_beta_only_under_an_optimizer_that_uses_it():
    assert idle_reason("beta", trial_values(SGD, {"beta": 0.95})) is not None
    assert idle_reason("beta", trial_values(MOMENTUM, {"beta": 0.95})) is None
    # the trial's own sampled optimizer wins over its round's fixed one
    assert idle_reason("beta", trial_values(SGD, {"beta": 0.95, "optimizer": "adam"})) is None
    assert idle_reason("beta", trial_values(None, {"beta": 0.95})) is None  # unknown: may matter
    assert idle_reason("width", trial_values(SGD, {"width": 8})) is None
    assert idle_reason("bn_momentum", trial_values(SGD, {"bn": False, "bn_momentum": 0.9}))


def test_importance_never_ranks_beta_across_sgd_trials():
    """The issue's study: beta sampled under plain SGD ties every trial's loss; the bar would
    rank noise. Beta is left out, with the reason; lr keeps its bar."""
    rounds = [{"id": 1, "spaces": list(DEFAULT_SPACES.values()), "fixed": SGD}]
    sgd = [trial(i, {"lr": 10.0**-i, "beta": 0.9 + 0.02 * i}, 0.1 * i) for i in range(1, 6)]
    columns = points.sampled_coords(sgd, rounds)
    assert set(columns) == {"lr"}
    assert importance({"lr": columns["lr"][0]}, columns["lr"][1])["lr"] == 1.0
    why = points.unfelt(sgd, rounds)
    assert set(why) == {"beta"} and "does nothing with optimizer sgd" in why["beta"]


def test_beta_is_ranked_over_the_trials_that_could_feel_it():
    rounds = [
        {"id": 1, "spaces": list(DEFAULT_SPACES.values()), "fixed": SGD},
        {"id": 2, "spaces": list(DEFAULT_SPACES.values()), "fixed": MOMENTUM},
    ]
    sgd = [trial(i, {"lr": 0.1, "beta": 0.9 + 0.01 * i}, 0.5) for i in range(1, 5)]
    momentum = [
        trial(10 + i, {"lr": 0.1, "beta": 0.9 + 0.01 * i}, 0.1 * i, round=2) for i in range(1, 5)
    ]
    columns = points.sampled_coords(sgd + momentum, rounds)
    assert len(columns["beta"][0]) == 4 and len(columns["lr"][0]) == 8
    assert points.unfelt(sgd + momentum, rounds) == {}
    # a round without its fixed settings is judged on the study's (the fallback)
    rounds[0]["fixed"] = None
    assert set(points.unfelt(sgd, rounds[:1], fixed=SGD)) == {"beta"}
    assert points.unfelt(sgd, rounds[:1]) == {}  # unknown optimizer: it may have mattered
