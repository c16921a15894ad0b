"""A paired round (--pair-bn): every sampled point trained with and without BN, same values,
same seed."""

from __future__ import annotations

import json

import pytest

from bnviz.cli import main
from bnviz.search.executors import SerialExecutor
from bnviz.search.spaces import parse_space
from bnviz.search.study import Study
from bnviz.search.sweep import Sweep, SweepError
from bnviz.train.config import TrainConfig

BASE = TrainConfig(n_samples=120, hidden=(8,), optimizer="momentum")


def _pairs(trials):
    groups: dict = {}
    for t in trials:
        key = tuple(sorted((k, v) for k, v in t["params"].items() if k != "bn"))
        groups.setdefault(key, []).append(t["params"]["bn"])
    return groups


def test_every_point_is_trained_both_ways_with_equal_values(tmp_path):
    spaces = [parse_space("lr", "1e-3:1:log"), parse_space("beta", "0.8:0.99:1m")]
    with Study(tmp_path / "s.sqlite") as study:
        sweep = Sweep(study, BASE, spaces, n=3, epochs=1, pair_bn=True)
        specs = sweep.specs()
        assert len(specs) == 6
        assert [s.params["bn"] for s in specs] == [True, False] * 3
        for a, b in zip(specs[::2], specs[1::2]):
            assert {k: v for k, v in a.params.items() if k != "bn"} == {
                k: v for k, v in b.params.items() if k != "bn"
            }
            assert a.config["seed"] == b.config["seed"]
            assert (a.config["batchnorm"], b.config["batchnorm"]) == (True, False)
        sweep.run(SerialExecutor())
        assert len(study.trials()) == 6
        assert "bn" in {s.name for s in study.rounds()[-1]["spaces"]}


def test_sampling_bn_as_well_is_refused(tmp_path):
    with Study(tmp_path / "s.sqlite") as study, pytest.raises(SweepError, match="do not"):
        Sweep(study, BASE, [parse_space("bn", "true,false:cat")], n=2, pair_bn=True)


def test_the_command_line_pairs_and_reports_bn_in_params(tmp_path, capsys):
    study = str(tmp_path / "s.sqlite")
    argv = ["sweep", "--study", study, "--pair-bn", "--trials", "2", "--epochs", "1",
            "--samples", "120", "--hidden", "8", "--workers", "1", "--json", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    trials = json.loads(capsys.readouterr().out)["trials"]
    assert len(trials) == 4
    assert all(sorted(v) == [False, True] for v in _pairs(trials).values())
    assert len(_pairs(trials)) == 2


@pytest.mark.parametrize(
    "extra", [["--trials", "2", "--no-bn"], ["--trials", "2", "--bn"], ["--recheck", "1"]]
)
def test_contradicting_flags_exit_2(tmp_path, capsys, extra):
    with pytest.raises(SystemExit) as e:
        main(["sweep", "--study", str(tmp_path / "s.sqlite"), "--pair-bn", *extra])
    assert e.value.code == 2
    assert "pair-bn" in capsys.readouterr().err


@pytest.mark.parametrize("pair", [False, True])
def test_a_batch_of_one_with_bn_is_refused_before_any_trial(tmp_path, pair):
    base = BASE if pair else TrainConfig(n_samples=120, hidden=(8,), batchnorm=True)
    with Study(tmp_path / "s.sqlite") as study, pytest.raises(SweepError, match="variance"):
        Sweep(study, base, [parse_space("batch_size", "1:8:pow2")], n=2, pair_bn=pair)
    plain = TrainConfig(n_samples=120, hidden=(8,), batchnorm=False)
    with Study(tmp_path / "t.sqlite") as study:
        Sweep(study, plain, [parse_space("batch_size", "1:8:pow2")], n=2)  # true SGD: fine
