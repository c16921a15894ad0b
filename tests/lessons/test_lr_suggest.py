"""fastai 2.7's four learning-rate suggestions, each on curves whose answer is worked out by hand
from the rule's definition (fastai's ``callback/schedule.py``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bnviz.lessons.lr_suggest import (
    longest_valley,
    loss_at,
    lr_suggestions,
    minimum,
    slide,
    steep,
    valley,
)

LRS8 = [0.1 * (i + 1) for i in range(8)]


def test_valley_takes_the_longest_decreasing_subsequence_not_a_contiguous_run():
    # Longest strictly decreasing subsequence ending at each point: 1 2 1 3 4 1 5 1
    # (5 > 4 > 3 > 2 > 1 at indices 0 1 3 4 6), so end = 6, start = 6 - 5 = 1, sections = 4/3...
    losses = [5, 4, 6, 3, 2, 7, 1, 8]
    assert longest_valley(np.array(losses, float)) == (1, 6)
    # sections = (6 - 1) / 3 = 1.67: idx = 1 + int(1.67) + int(0.83) = 2
    assert valley(LRS8, losses) == pytest.approx(LRS8[2])


def test_valley_keeps_the_first_longest_and_pythons_negative_index():
    # runs 1 2 1 2: the first longest ends at 1 and starts one before index 0 (start = -1);
    # sections = 2/3, idx = -1 + 0 + 0 = -1: fastai's lrs[-1] is the last learning rate.
    assert longest_valley(np.array([3, 2, 5, 4], float)) == (-1, 1)
    assert valley([1, 2, 3, 4], [3, 2, 5, 4]) == 4


def test_valley_of_a_rising_curve_is_its_first_point():
    assert valley([1, 2, 3], [1, 2, 3]) == 1
    assert valley([7], [1]) == 7


def test_slide_stops_where_the_window_reaches_the_plateau():
    # 25 points: flat (gradient 0) up to index 18, then 1 - 0.02 (i - 18)^2. np.gradient is 0
    # before 18, -0.01 at 18 (central difference), more negative after. The window
    # (right, left = right - 15) slides left from (24, 9) while |g[right] - g[left]| > 0.005:
    # through (18, 3), where |-0.01 - 0| > 0.005, and stops at (17, 2): the answer is lr[3].
    i = np.arange(25)
    losses = np.where(i <= 18, 1.0, 1.0 - 0.02 * (i - 18.0) ** 2)
    lrs = 10.0 ** (i / 4 - 6)
    assert slide(lrs, losses) == pytest.approx(lrs[3])


def test_slide_does_not_move_on_a_straight_line():
    lrs = np.geomspace(1e-4, 1, 20)
    losses = 3 - 0.1 * np.arange(20)  # every gradient -0.1: the first window already agrees
    assert slide(lrs, losses) == pytest.approx(lrs[20 - 1 - 15])


def test_slide_runs_off_the_left_end_keeping_the_last_window():
    # y = 0.01 i^2: gradients 0.01 (edge), 0.02 i inside, 0.33 at the right edge (n = 18);
    # every window's ends differ by > 0.005, so it slides until left < 0: lr[0].
    lrs = np.geomspace(1e-3, 1, 18)
    assert slide(lrs, 0.01 * np.arange(18.0) ** 2) == pytest.approx(lrs[0])


def test_minimum_is_a_tenth_of_the_first_lowest():
    assert minimum([1e-3, 1e-2, 1e-1, 1.0], [3, 1, 2, 1]) == pytest.approx(1e-3)


def test_steep_divides_by_the_log_of_the_lr_step():
    # slopes per ln lr: -0.1/ln 2 = -0.144, -0.2/ln 2 = -0.289, -0.6/ln 25 = -0.186 -> lr 2
    # (by raw differences -0.1, -0.2, -0.6 it would be lr 4)
    assert steep([1, 2, 4, 100], [1, 0.9, 0.7, 0.1]) == 2
    assert steep([1e-3, 1e-2, 1e-1, 1, 10], [2, 1.9, 1.0, 0.8, 3]) == pytest.approx(1e-2)


def test_all_four_with_too_few_points():
    s = lr_suggestions([1e-3] * 0, [])
    assert s == {"valley": None, "slide": None, "minimum": None, "steep": None}
    short = lr_suggestions([0.1, 0.2], [2.0, 1.0])
    assert short["slide"] is None and short["minimum"] == pytest.approx(0.02)
    assert short["steep"] == pytest.approx(0.1) and short["valley"] == pytest.approx(0.2)


def test_lengths_must_match():
    with pytest.raises(ValueError, match="length"):
        lr_suggestions([1, 2, 3], [1, 2])


def test_loss_at_interpolates_in_log_lr():
    assert loss_at([1e-2, 1.0], [2.0, 0.0], 0.1) == pytest.approx(1.0)
    assert math.isclose(loss_at([1e-2, 1.0], [2.0, 0.0], 1e-2), 2.0)


def _brute_force_valley(losses: list[float]) -> tuple[int, int]:
    """The definition read literally: over every strictly decreasing subsequence (every subset
    of indices), the longest; among equally long ones the one that ends first."""
    from itertools import combinations

    best_len, best_end = 1, 0
    n = len(losses)
    for size in range(2, n + 1):
        for idx in combinations(range(n), size):
            if all(losses[a] > losses[b] for a, b in zip(idx, idx[1:])):
                if size > best_len or (size == best_len and idx[-1] < best_end):
                    best_len, best_end = size, idx[-1]
    return (0, 0) if best_end == 0 else (best_end - best_len, best_end)


@pytest.mark.parametrize("seed", range(40))
def test_longest_valley_against_every_subsequence(seed):
    rng = np.random.default_rng(seed)
    losses = rng.integers(0, 5, size=rng.integers(1, 9)).astype(float).tolist()  # ties too
    assert longest_valley(np.array(losses)) == _brute_force_valley(losses)
