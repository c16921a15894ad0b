"""Search spaces: right scale, random beats grid, coarse to fine, strict parsing."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bnviz.search.plan import sample_configs
from bnviz.search.spaces import (
    DEFAULT_SPACES,
    MIN_BOX_WIDTH,
    Space,
    SpaceError,
    narrow_spaces,
    parse_space,
)

N = 2000
KS_CRIT_1PCT = 1.63 / math.sqrt(N)


def ks_uniform(x: np.ndarray, lo: float, hi: float) -> float:
    """Kolmogorov-Smirnov distance between the sample and U[lo, hi], by hand."""
    u = np.sort((np.asarray(x) - lo) / (hi - lo))
    n = len(u)
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - u), np.max(u - (i - 1) / n)))


def test_ks_helper_can_fail() -> None:
    # Uniform samples of lr itself (the classic mistake) are far from uniform in log10.
    lr = np.random.default_rng(0).uniform(1e-4, 1.0, N)
    assert ks_uniform(np.log10(lr), -4, 0) > KS_CRIT_1PCT


def test_log_samples_are_log_uniform() -> None:
    lr = np.array(DEFAULT_SPACES["lr"].sample(np.random.default_rng(1), N))
    assert lr.min() >= 1e-4 and lr.max() <= 1.0
    assert ks_uniform(np.log10(lr), -4, 0) < KS_CRIT_1PCT
    # A quarter of the decades, so ~25% -- a linear sampler would put ~90% here.
    frac = np.mean((lr >= 0.1) & (lr <= 1.0))
    assert 0.22 < frac < 0.28


def test_one_minus_samples_are_uniform_in_log_one_minus() -> None:
    beta = np.array(DEFAULT_SPACES["beta"].sample(np.random.default_rng(2), N))
    assert beta.min() >= 0.9 and beta.max() <= 0.999
    assert ks_uniform(np.log10(1 - beta), -3, -1) < KS_CRIT_1PCT
    # Half the samples are in [0.99, 0.999]: the region where beta is most sensitive.
    assert 0.46 < np.mean(beta >= 0.99) < 0.54


def test_discrete_kinds() -> None:
    rng = np.random.default_rng(3)
    p2 = parse_space("batch_size", "16:512:pow2").sample(rng, 500)
    assert all(isinstance(v, int) and v & (v - 1) == 0 and 16 <= v <= 512 for v in p2)
    assert set(p2) == {16, 32, 64, 128, 256, 512}
    ints = parse_space("width", "16:20:int").sample(rng, 500)
    assert all(isinstance(v, int) for v in ints) and set(ints) == {16, 17, 18, 19, 20}
    cats = parse_space("activation", "relu,tanh,sigmoid:cat").sample(rng, 300)
    assert set(cats) == {"relu", "tanh", "sigmoid"}
    assert parse_space("bn", "true,false:cat").sample(rng, 50)[0] in (True, False)


def test_values_are_plain_and_json_serializable() -> None:
    spaces = [*DEFAULT_SPACES.values(), parse_space("batch_size", "16:512:pow2")]
    spaces += [parse_space("activation", "relu,tanh:cat"), parse_space("l2", "0.01")]
    for method in ("random", "grid"):
        configs = sample_configs(spaces, 20, seed=0, method=method)
        json.dumps(configs)
        assert all(type(v) in (float, int, str, bool) for c in configs for v in c.values())


def test_grid_tries_few_values_random_tries_many() -> None:
    spaces = list(DEFAULT_SPACES.values())
    grid = sample_configs(spaces, 25, seed=0, method="grid")
    rand = sample_configs(spaces, 25, seed=0, method="random")
    assert len(grid) == 25 and len(rand) == 25
    assert len({c["lr"] for c in grid}) == 5
    assert len({c["lr"] for c in rand}) == 25


def test_grid_is_capped_by_distinct_values() -> None:
    spaces = [DEFAULT_SPACES["lr"], parse_space("activation", "relu,tanh:cat")]
    grid = sample_configs(spaces, 100, seed=0, method="grid")
    assert len(grid) == 20  # 10 lr values x 2 activations
    assert parse_space("width", "1:3:int").grid(10) == [1, 2, 3]


def test_seed_reproducible() -> None:
    spaces = [*DEFAULT_SPACES.values(), parse_space("width", "16:128:int")]
    a = sample_configs(spaces, 30, seed=7)
    assert a == sample_configs(spaces, 30, seed=7)
    assert a != sample_configs(spaces, 30, seed=8)


def test_sample_configs_rejects_bad_requests() -> None:
    with pytest.raises(SpaceError, match="number of trials must be >= 1, got 0"):
        sample_configs(list(DEFAULT_SPACES.values()), 0, seed=0)
    with pytest.raises(SpaceError, match="unknown sampling method"):
        sample_configs(list(DEFAULT_SPACES.values()), 5, seed=0, method="sobol")
    with pytest.raises(SpaceError, match="duplicate"):
        sample_configs([DEFAULT_SPACES["lr"], DEFAULT_SPACES["lr"]], 5, seed=0)


@settings(max_examples=60, deadline=None)
@example(a=0.0, b=-5.5e-95, seed=0)  # collapsed to 1.0:1.0 before MIN_BOX_WIDTH
@example(a=-3.0, b=-3.0 + 2e-9, seed=0)
@given(a=st.floats(-5, 1), b=st.floats(-5, 1), seed=st.integers(0, 2**32 - 1))
def test_narrowed_box_restricts_samples(a: float, b: float, seed: int) -> None:
    lr = DEFAULT_SPACES["lr"]
    lo, hi = sorted((a, b))
    lo_c, hi_c = max(lo, -4.0), min(hi, 0.0)
    if hi_c - lo_c <= MIN_BOX_WIDTH:
        with pytest.raises(SpaceError, match="leaves nothing"):
            lr.narrowed(a, b)
        return
    narrow = lr.narrowed(a, b)
    x = np.array(narrow.sample(np.random.default_rng(seed), 200))
    assert x.min() >= lr.low and x.max() <= lr.high
    axis = lr.to_axis(x)
    assert axis.min() >= lo_c - 1e-12 and axis.max() <= hi_c + 1e-12


def test_narrow_one_minus_and_discrete() -> None:
    (beta,) = narrow_spaces([DEFAULT_SPACES["beta"]], {"beta": (-2.5, -1.5)})
    assert beta.kind == "1m" and beta.axis_range == pytest.approx((-2.5, -1.5))
    x = np.array(beta.sample(np.random.default_rng(0), 500))
    assert np.all((np.log10(1 - x) >= -2.5 - 1e-12) & (np.log10(1 - x) <= -1.5 + 1e-12))
    bs = parse_space("batch_size", "16:512:pow2")
    assert bs.narrowed(5.2, 7.9) == Space("batch_size", "pow2", 64, 128)
    only = bs.narrowed(6.1, 6.4)  # no whole exponent inside: keep the nearest one
    assert only.low == only.high == 64 and set(only.sample(np.random.default_rng(0), 9)) == {64}
    assert bs.narrowed(20, 30) == Space("batch_size", "pow2", 512, 512)
    assert parse_space("width", "16:128:int").narrowed(20.5, 40.2) == Space("width", "int", 21, 40)
    act = parse_space("activation", "relu,tanh:cat")
    assert act.narrowed(0, 0) is act
    with pytest.raises(SpaceError, match="unknown"):
        narrow_spaces([act], {"lr": (-3, -1)})


@pytest.mark.parametrize(
    "text",
    ["1e-4:1:log", "0.9:0.999:1m", "16:512:pow2", "16:128:int", "0:1:linear", "-2:3.5:linear"]
    + ["relu,tanh,sigmoid:cat", "relu,tanh:cat", "true,false:cat", "0.01", "32", "relu"],
)
def test_parse_round_trips(text: str) -> None:
    space = parse_space("x", text)
    assert parse_space("x", space.to_text()) == space
    assert Space.from_dict(json.loads(json.dumps(space.to_dict()))) == space


def test_parse_values() -> None:
    assert parse_space("lr", "1e-4:1:log") == DEFAULT_SPACES["lr"]
    assert parse_space("beta", "0.9:0.999:1m") == DEFAULT_SPACES["beta"]
    fixed = parse_space("lr", "0.01")
    assert fixed.kind == "fixed" and fixed.sample(np.random.default_rng(0), 3) == [0.01] * 3
    assert parse_space("activation", "tanh").value == "tanh"
    assert parse_space("a", "relu,tanh:cat").choices == ("relu", "tanh")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("1:1e-4:log", "min must be < max"),
        ("0.1:0.1:linear", "min must be < max"),
        ("0:1:log", r"log scale needs 0 < min < max, got 0:1"),
        ("-1:1:log", "log scale needs 0 < min"),
        ("0.9:1:1m", "1 - value > 0"),
        ("-0.5:0.9:1m", "1m"),
        ("20:512:pow2", "powers of two.*16 or 32"),
        ("1.5:8:int", "whole numbers"),
        ("1:2:lgo", "unknown kind 'lgo'.*log, 1m, int, pow2, linear"),
        ("abc:1:log", "min 'abc' is not a number"),
        ("1:2", "cannot parse"),
        ("1:2:3:log", "cannot parse"),
        ("", "empty"),
        (":cat", "distinct choices"),
        ("a,a:cat", "distinct choices"),
        ("0:inf:linear", "finite"),
        ("nan", "finite"),
    ],
)
def test_parse_errors(text: str, words: str) -> None:
    with pytest.raises(SpaceError, match=words) as info:
        parse_space("lr", text)
    assert str(info.value).startswith("lr: ")


def test_axis_coordinates() -> None:
    lr, beta = DEFAULT_SPACES["lr"], DEFAULT_SPACES["beta"]
    assert lr.axis_label == "log10(lr)" and beta.axis_label == "log10(1 - beta)"
    assert parse_space("batch_size", "16:64:pow2").axis_label == "log2(batch_size)"
    assert lr.axis_range == (-4.0, 0.0) and beta.axis_range == pytest.approx((-3.0, -1.0))
    for space, values in [
        (lr, [1e-3, 0.5]),
        (beta, [0.95, 0.999]),
        (parse_space("b", "16:64:pow2"), [16, 32]),
        (parse_space("w", "1:9:int"), [3, 7]),
    ]:
        np.testing.assert_allclose(space.from_axis(space.to_axis(values)), values)
    act = parse_space("activation", "relu,tanh,sigmoid:cat")
    assert list(act.to_axis(["tanh", "relu"])) == [1.0, 0.0]
    assert list(act.from_axis([2.2, -1])) == ["sigmoid", "relu"]


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("lr", "abc", "lr must be a number, got 'abc'"),
        ("batch_size", "1e-4:1e9:log", "batch_size takes whole numbers: use int or pow2"),
        ("batch_size", "0:8:int", "batch size must be >= 1"),
        ("width", "0:8:int", "width: must be a whole number 1..4096"),
        ("layers", "1:40:int", "layers: must be a whole number 0..16"),
        ("activation", "relu,foo:cat", "activation must be one of relu, tanh, sigmoid, linear"),
        ("activation", "1:3:int", "activation is a choice: list the values"),
        ("eps", "0:1e-3:linear", "eps must be in (0, 1], got 0"),
        ("optimizer", "nesterov", "optimizer must be one of"),
    ],
)
def test_a_space_the_setting_cannot_take_is_refused_when_parsed(name, text, words):
    """Up front, not as one failed trial per sample (the registry says what each takes)."""
    with pytest.raises(SpaceError) as info:
        parse_space(name, text)
    assert words in str(info.value)


def test_every_default_space_passes_its_own_check():
    from bnviz.train.config import SAMPLED

    for name, (_, sampled) in SAMPLED.items():
        assert parse_space(name, sampled.space).name == name
