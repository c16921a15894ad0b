"""Hostile settings files: every one is a TrainConfig or one ConfigError naming the file;
property-based fuzzing of the parser with hypothesis."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnviz.lessons.presets import load_preset
from bnviz.train.config import (
    MAX_SETTINGS_BYTES,
    PARAMS,
    ConfigError,
    TrainConfig,
    read_settings_json,
)
from bnviz.train.params import RUN_PARAMS
from tests.hostile_corpus import deep_json, settings_file

TMP_PATH_REUSED = HealthCheck.function_scoped_fixture  # each example overwrites its file


@pytest.mark.parametrize(
    "content, words",
    [
        (deep_json(100_000), "deep.json: nested 100001 levels deep (at most 16)"),
        ({"bnviz_settings": 1, "hidden": [32.5]}, "whole numbers, got 32.5"),
        ({"bnviz_settings": 1, "hidden": [True]}, "whole numbers, got True"),
        ({"bnviz_settings": 1, "hidden": "wide"}, "hidden layers must be widths"),
        ({"bnviz_settings": 1, "hidden": 5}, "hidden must be a list"),
        ({"bnviz_settings": 1, "hidden": [8] * 17}, "at most 16 hidden layers"),
        ({"bnviz_settings": 1, "optimizer": 5},
         "optimizer must be one of sgd, momentum, rmsprop, adam, got 5"),
        ({"bnviz_settings": 1, "activation": None}, "activation must be one of"),
        ({"bnviz_settings": 1, "dataset": ["x"]}, "dataset must be text"),
        ({"bnviz_settings": 1, "seed": 1e30}, "seed must be 0..4294967295, got 1e+30"),
        ({"bnviz_settings": 1, "seed": 2.5}, "seed must be a whole number"),
        ({"bnviz_settings": 1, "n_samples": 10**12}, "must be <= 1,000,000, got 1,000,000,"),
        ({"bnviz_settings": 1, "lr": 1e300}, "learning rate must be <= 10,000, got 1e+300"),
        ('{"bnviz_settings": 1, "lr": NaN}', "learning rate must be finite"),
        ({"bnviz_settings": 1, "batch_size": 10**9}, "batch size must be <= 1,000,000"),
        ({"bnviz_settings": 7}, "written by a newer bnviz (version 7); this one reads up to 1"),
        ({"bnviz_settings": "1"}, "not a bnviz settings file (version '1')"),
        ({"bnviz_settings": True}, "not a bnviz settings file (version True)"),
        ({"lr": 0.1}, 'no "bnviz_settings" version'),
        ("[1, 2]", 'no "bnviz_settings" version'),
        ("", "not valid JSON"),
        ('{"bnviz_settings": 1, "seed": 1' + "0" * 5000 + "}", "not valid JSON"),
        ({"bnviz_settings": 1, "colour": "red"}, "unknown setting(s): colour"),
    ],
)  # fmt: skip
def test_a_hostile_settings_file_is_one_line_naming_it(tmp_path, content, words):
    path = settings_file(tmp_path / "deep.json", content)
    with pytest.raises(ConfigError) as e:
        TrainConfig.load(path)
    message = str(e.value)
    assert message.startswith("deep.json: ") and words in message and "\n" not in message


def test_files_that_are_not_settings_at_all(tmp_path):
    big = tmp_path / "big.json"
    big.write_text('{"bnviz_settings": 1, "x": "' + "a" * MAX_SETTINGS_BYTES + '"}')
    with pytest.raises(ConfigError, match="big.json: .* bytes is too big"):
        TrainConfig.load(big)
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="bin.json: not a bnviz settings file"):
        TrainConfig.load(binary)
    with pytest.raises(ConfigError, match="is a folder"):
        TrainConfig.load(tmp_path)
    with pytest.raises(ConfigError, match="nope.json: no such file"):
        TrainConfig.load(tmp_path / "nope.json")
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps({"bnviz_settings": 1, "lr": 0.1}).encode())
    assert TrainConfig.load(bom).lr == 0.1


def test_a_preset_reads_the_file_once_with_the_same_checks(tmp_path):
    path = settings_file(tmp_path / "lesson.json", deep_json(50))
    with pytest.raises(ConfigError, match="lesson.json: nested 51 levels deep"):
        load_preset(str(path))
    with pytest.raises(ConfigError, match="cannot be read|no preset file"):
        load_preset(str(tmp_path / ("x" * 300)) + ".json")


def test_every_numeric_setting_and_run_flag_has_an_upper_bound():
    """The registry states a top for everything numeric (Robustness in the README)."""
    for name, p in {**PARAMS, **RUN_PARAMS}.items():
        if p.kind in ("int", "float"):
            top = p.high if p.high is not None else p.cap
            assert top is not None and math.isfinite(top), name


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),  # fmt: skip
    max_leaves=20,
)
KEYS = st.sampled_from([*PARAMS, "bnviz_settings", "lesson", "classroom", "other"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(KEYS, JSON, max_size=6))
def test_fuzzed_settings_are_a_config_or_one_config_error(data):
    try:
        config = TrainConfig.from_dict({k: v for k, v in data.items() if k in PARAMS})
    except ConfigError as e:
        assert "\n" not in str(e)
    else:
        assert config == config.validated()


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=300) | st.builds(json.dumps, st.dictionaries(KEYS, JSON, max_size=6)))
def test_fuzzed_settings_files_are_a_config_or_one_config_error(tmp_path, text):
    path = tmp_path / "fuzz.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        read_settings_json(path)
        TrainConfig.load(path)
    except ConfigError as e:
        assert str(e).startswith("fuzz.json: ") and "\n" not in str(e)
