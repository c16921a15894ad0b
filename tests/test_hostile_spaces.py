"""Hostile search spaces and CSV files, fuzzed with hypothesis: a Space (every value valid for
its setting) or one SpaceError; a Dataset or one DataError."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnviz.data.dataset import DataError
from bnviz.data.files import load_file
from bnviz.search.plan import plan_configs
from bnviz.search.spaces import SpaceError, parse_space
from bnviz.search.trial import apply_params
from bnviz.train.config import SAMPLED, ConfigError, TrainConfig

TMP_PATH_REUSED = HealthCheck.function_scoped_fixture  # each example overwrites its file


@pytest.mark.parametrize(
    "name, text, words",
    [
        ("lr", "1e-4:1e300:log", "learning rate must be <= 10,000, got 1e+300"),
        ("lr", "1e-4:11:log", "a search of learning rate goes up to 10, got 11"),
        ("lr", "1e-4:inf:log", "needs finite min and max"),
        ("batch_size", "16:4194304:pow2", "batch size must be <= 1,000,000, got 4,194,304"),
        ("width", "8:100000:int", "width: must be a whole number 1..4096"),
        ("layers", "1:1000:int", "layers: must be a whole number 0..16"),
        ("beta", "0.9:1:1m", "needs 0 <= min < max < 1"),
        ("lr", "1:2:3:4", "cannot parse"),
        ("lr", "a:b:log", "is not a number"),
        ("lr", "9" * 5000 + ":1:log", "min must be < max"),
    ],
)
def test_a_hostile_space_is_one_line(name, text, words):
    with pytest.raises(SpaceError) as e:
        parse_space(name, text)
    assert words in str(e.value) and "\n" not in str(e.value)


SPACE_TEXT = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda a, b, k: f"{a}:{b}:{k}",
        st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**6), 10**12),
        st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**6), 10**12),
        st.sampled_from(["log", "1m", "int", "pow2", "linear", "cat", "", "x"]),
    ),
    st.builds(lambda xs: ",".join(xs) + ":cat", st.lists(st.text(max_size=8), max_size=4)),
)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(list(SAMPLED)), SPACE_TEXT)
def test_fuzzed_spaces_are_valid_for_their_setting_or_one_space_error(name, text):
    try:
        space = parse_space(name, text)
    except SpaceError as e:
        assert "\n" not in str(e)
        return
    # every value the space can give makes a valid config: checked when parsed, not per trial
    for params in plan_configs([space], 3, seed=0):
        try:
            apply_params(TrainConfig(batchnorm=False, optimizer="adam"), params)
        except ConfigError as e:  # pragma: no cover - the failure this test looks for
            pytest.fail(f"{name} {text!r} parsed but gave {params}: {e}")


CELL = st.one_of(
    st.integers(-5, 5).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet="0123456789.-e ,\"'\t\r;x", max_size=6),
)
ROW = st.lists(CELL, min_size=0, max_size=4).map(",".join)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(ROW, max_size=30).map("\n".join) | st.binary(max_size=200))
def test_fuzzed_csv_files_are_a_dataset_or_one_data_error(tmp_path, content):
    path = tmp_path / "fuzz.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    try:
        ds = load_file(path)
    except DataError as e:
        assert str(e).startswith("fuzz.csv: ") and "\n" not in str(e)
    else:
        assert ds.n_classes >= 2 and len(ds.y_train) >= 4
