"""The parameter registry: one description per setting, from which flags, checks, sweeps and
live changes are generated, so they agree by construction (and these tests fail if one of
them is hand-written again and drifts)."""

from __future__ import annotations

import math
from dataclasses import fields

import pytest

from bnviz.cli import build_parser, main
from bnviz.search.points import DEFAULT_RANGES
from bnviz.search.spaces import DEFAULT_SPACES, parse_space
from bnviz.search.sweep import apply_params
from bnviz.train.config import PARAMS, SAMPLED, ConfigError, TrainConfig
from bnviz.train.trainer import Trainer

NUMERIC = [n for n, p in PARAMS.items() if p.kind in ("int", "float")]


def test_every_config_field_is_described_once():
    assert list(PARAMS) == [f.name for f in fields(TrainConfig)]
    for name, p in PARAMS.items():
        assert p.name == name and p.help and p.label
        assert p.default == getattr(TrainConfig(), name)
        assert p.check(p.default) == p.default  # every default is valid


def _flags(parser) -> dict:
    return {s: a for a in parser._actions for s in a.option_strings}


@pytest.mark.parametrize("command", [[], ["train"]])
def test_app_and_train_have_a_flag_for_every_setting(command):
    parser = build_parser()
    if command:
        parser = parser._subparsers._group_actions[0].choices[command[0]]
    flags = _flags(parser)
    for p in PARAMS.values():
        assert p.cli_flag in flags, p.cli_flag
        if p.choices:
            assert list(flags[p.cli_flag].choices) == list(p.choices)
    assert "--no-bn" in flags


def _just_outside(p) -> list:
    """Values just outside the valid range, on each side that has a bound."""
    out = []
    if p.low is not None:
        out.append(p.low if p.low_open else p.low - (1 if p.kind == "int" else 1e-3))
    if p.high is not None:
        out.append(p.high if p.high_open else p.high + (1 if p.kind == "int" else 1e-3))
    return out


@pytest.mark.parametrize("name", NUMERIC)
def test_flag_and_config_refuse_the_same_values_with_the_same_words(name, capsys):
    p = PARAMS[name]
    bad = _just_outside(p)
    assert bad, f"{name} has no bound at all"
    for value in bad:
        text = str(int(value)) if p.kind == "int" else repr(float(value))
        with pytest.raises(ConfigError) as config_err:
            TrainConfig(**{name: value}).validated()
        with pytest.raises(SystemExit) as e:
            main(["train", p.cli_flag, text, "--steps", "1"])
        assert e.value.code == 2
        err = capsys.readouterr().err
        assert str(config_err.value) in err, (err, str(config_err.value))


def test_a_value_inside_the_range_passes_flag_and_config(tmp_path):
    for name in NUMERIC:
        p = PARAMS[name]
        lo = p.low if p.low is not None else 0.0
        hi = p.top if p.top is not None else lo + 10
        mid = (lo + hi) / 2 if math.isfinite(hi) else lo + 1
        value = int(mid) if p.kind == "int" else mid
        assert PARAMS[name].parse(str(value)) == value
        TrainConfig(**{name: value}).validated()


def test_typed_text_that_is_not_a_number_names_the_setting():
    with pytest.raises(ConfigError, match="learning rate: expected a number, got 'fast'"):
        PARAMS["lr"].parse("fast")
    with pytest.raises(ConfigError, match="batch size: expected a whole number, got '3.5'"):
        PARAMS["batch_size"].parse("3.5")
    with pytest.raises(ConfigError, match="learning rate must be finite"):
        PARAMS["lr"].parse("inf")


def test_set_hparams_takes_exactly_the_live_settings():
    trainer = Trainer(TrainConfig(hidden=(8,), n_samples=60))
    live = {n for n, p in PARAMS.items() if p.live}
    assert live == {"lr", "momentum", "beta2", "lr_decay", "batch_size", "bn_momentum", "eps"}
    for name in live:
        value = PARAMS[name].default
        trainer.set_hparams(**{name: value})  # accepted
    for name in set(PARAMS) - live:
        with pytest.raises(ConfigError, match="reset"):
            trainer.set_hparams(**{name: getattr(trainer.config, name)})


def test_sweep_flags_explorer_ranges_and_default_round_come_from_the_registry():
    sweep = build_parser()._subparsers._group_actions[0].choices["sweep"]
    flags = _flags(sweep)
    for name, (field, sampled) in SAMPLED.items():
        flag = "--" + name.replace("_", "-")
        assert flags[flag].dest == f"space_{name}"
        assert DEFAULT_RANGES[name] == sampled.space
        parse_space(name, sampled.space)  # every default space is valid
        config = apply_params(TrainConfig(), {name: parse_space(name, sampled.space).grid(2)[0]})
        assert field in PARAMS and config.validated() == config
    assert set(DEFAULT_SPACES) == {"lr", "beta"}  # the course tunes alpha, then beta
    assert "--hidden" in flags and "--momentum" not in flags and "--compare" not in flags


def test_the_sweep_default_spaces_agree_with_the_course():
    assert DEFAULT_SPACES["lr"] == parse_space("lr", "1e-4:1:log")  # alpha = 10^r, r in [-4, 0]
    assert DEFAULT_SPACES["beta"] == parse_space("beta", "0.9:0.999:1m")  # 1 - 10^r, [-3, -1]


def test_settings_that_do_nothing_are_named_with_the_reason():
    from bnviz.train.config import idle_settings

    assert idle_settings(TrainConfig(optimizer="adam")) == {}
    idle = idle_settings(TrainConfig(optimizer="sgd", batchnorm=False, dataset="digits"))
    assert set(idle) == {"momentum", "beta2", "bn_momentum", "eps", "n_classes", "noise",
                         "n_samples"}  # fmt: skip
    assert idle["momentum"] == (
        "momentum beta does nothing with optimizer sgd (it needs optimizer momentum/adam)"
    )
    assert "beta2" not in idle_settings(TrainConfig(optimizer="rmsprop"))
    assert "momentum" in idle_settings(TrainConfig(optimizer="rmsprop"))
    assert "eps" not in idle_settings(TrainConfig(batchnorm=False, compare=True))
    # a setting a sweep samples counts as possibly on
    assert "momentum" not in idle_settings(TrainConfig(optimizer="sgd"), frozenset({"optimizer"}))


def test_a_sweep_refuses_an_axis_that_does_nothing(tmp_path, capsys):
    study = str(tmp_path / "s.sqlite")
    with pytest.raises(SystemExit) as e:
        main(["sweep", "--optimizer", "sgd", "--beta", "0.9:0.99:1m", "--study", study])
    assert e.value.code == 2
    assert "--beta: momentum beta does nothing with optimizer sgd" in capsys.readouterr().err
    # the default round leaves beta out for plain SGD, and says so
    assert main(["sweep", "--optimizer", "sgd", "--trials", "2", "--epochs", "1",
                 "--study", study, "--quiet", "--json"]) == 0  # fmt: skip
    out = capsys.readouterr()
    assert "not sampling beta" in out.err and '"beta"' not in out.out
