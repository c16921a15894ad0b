"""Compare mode with any one setting: the twins differ in that setting only, start from the
same W, read the same mini-batches; BN vs plain stays the default."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from bnviz.cli import build_parser, config_from_args
from bnviz.train.config import COMPARABLE, ConfigError, TrainConfig
from bnviz.train.trainer import Trainer, write_metrics
from bnviz.train.twins import twin_configs

SMALL = dict(n_samples=200, hidden=(8, 8))
TWINS = [
    ("lr", "0.1", "lr=0.5", "lr=0.1"),
    ("optimizer", "adam", "optimizer=sgd", "optimizer=adam"),
    ("batch_size", "8", "batch=32", "batch=8"),
    ("activation", "relu", "activation=sigmoid", "activation=relu"),
    ("bn_momentum", "0.5", "bn_momentum=0.9", "bn_momentum=0.5"),
]


def _differences(a: TrainConfig, b: TrainConfig) -> set[str]:
    return {f.name for f in fields(TrainConfig) if getattr(a, f.name) != getattr(b, f.name)}


@pytest.mark.parametrize(("setting", "value", "first", "second"), TWINS)
def test_twins_differ_only_in_the_chosen_setting(setting, value, first, second):
    c = TrainConfig(compare=True, compare_setting=setting, compare_value=value, **SMALL)
    t = Trainer(c)
    a, b = t.runs
    assert (a.name, b.name) == (first, second)
    assert _differences(a.config, b.config) == {setting}
    assert str(getattr(b.config, setting)) == str(PARSED.get(value, value))
    if setting != "activation":  # relu is He-initialized, sigmoid Xavier: W differ by a scale
        for name in a.net.params:
            np.testing.assert_array_equal(a.net.params[name], b.net.params[name])
    else:
        ratio = b.net.params["W1"] / a.net.params["W1"]
        np.testing.assert_allclose(ratio, np.sqrt(2.0), rtol=1e-5)  # the same draws, scaled


PARSED = {"0.1": 0.1, "8": 8, "0.5": 0.5}


def test_twins_read_the_same_minibatches():
    t = Trainer(TrainConfig(compare=True, compare_setting="lr", **SMALL))
    assert t.runs[0].stream is t.runs[1].stream  # one stream: each step the same batch
    t.run(20)
    assert t.runs[0].net.sizes == t.runs[1].net.sizes


def test_a_batch_size_twin_reads_the_same_shuffled_order():
    t = Trainer(
        TrainConfig(compare=True, compare_setting="batch_size", compare_value="16", **SMALL)
    )
    a, b = t.runs
    assert a.stream is not b.stream
    np.testing.assert_array_equal(a.stream._perm, b.stream._perm)
    t.run(10)
    assert b.stream.epoch == 1 and a.stream.epoch == 2  # 160 examples: 16 x 10 vs 32 x 10


def test_live_changes_reach_both_except_the_compared_setting():
    t = Trainer(TrainConfig(compare=True, compare_setting="lr", compare_value="0.1", **SMALL))
    t.set_hparams(lr=0.3, momentum=0.5)
    a, b = t.runs
    assert a.opt.hyper.lr == 0.3 and b.opt.hyper.lr == 0.1
    assert a.opt.hyper.beta == b.opt.hyper.beta == 0.5
    assert "keeps" in b.events[-1].text and "keeps" not in a.events[-1].text


def test_compare_alone_is_bn_vs_plain():
    assert TrainConfig(compare=True).compare_setting == "batchnorm"
    names = [name for name, _ in twin_configs(TrainConfig(compare=True))]
    assert names == ["bn", "plain"]
    args = build_parser().parse_args(["--compare"])
    c = config_from_args(args)
    assert c.compare and c.compare_setting == "batchnorm" and c.compare_value == ""


def test_compare_setting_flag_implies_compare_and_names_the_runs(tmp_path):
    args = build_parser().parse_args(["--compare-setting", "lr", "--compare-value", "0.1"])
    c = config_from_args(args)
    assert c.compare and c.compare_setting == "lr"
    t = Trainer(c)
    t.run(3)
    t.evaluate()
    write_metrics(tmp_path / "m.csv", t.metrics)
    assert "lr=0.5" in (tmp_path / "m.csv").read_text()


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        (dict(compare_setting="lr", compare_value="0.5"), "for both"),
        (dict(compare_setting="lr", compare_value="fast"), "expected a number"),
        (dict(compare_value="0.1"), "takes no twin's value"),
        (dict(compare_setting="bn_momentum", batchnorm=False), "needs batch norm"),
    ],
)
def test_twins_that_cannot_differ_are_refused(changes, words):
    with pytest.raises(ConfigError, match=words):
        TrainConfig(compare=True, **changes).validated()


def test_every_comparable_setting_has_a_default_twin():
    for setting in COMPARABLE:
        (_, a), (_, b) = twin_configs(TrainConfig(compare=True, compare_setting=setting))
        assert _differences(a, b) == {setting}


def test_settings_files_keep_the_comparison(tmp_path):
    c = TrainConfig(compare=True, compare_setting="optimizer", compare_value="adam")
    c.save(tmp_path / "s.json")
    assert TrainConfig.load(tmp_path / "s.json") == c
    old = TrainConfig.from_dict({"compare": True})  # a file from before the comparison setting
    assert (old.compare_setting, old.compare_value) == ("batchnorm", "")
