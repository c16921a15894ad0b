"""Reading a learning-rate range test: the four rules fastai 2.7 suggests a learning rate by.

A range test (Smith 2017) trains with a learning rate that grows geometrically every
mini-batch and records the smoothed loss; the curve falls, flattens and explodes. Where to read
alpha off it is a rule of thumb, and fastai's ``lr_find`` offers four (``valley``, ``slide``,
``minimum``, ``steep`` in its ``callback/schedule.py``). They are written here again from their
definitions, in float64, so a student can compare bnviz's suggestions with fastai's:

- ``valley``: the longest strictly decreasing subsequence of the losses (not necessarily
  contiguous); with ``start`` the index one before its first element and ``end`` its last,
  the suggestion is the lr at ``start + int((end - start) / 3) + int((end - start) / 6)``,
  about half-way down the valley (Python's indexing: -1 is the last point).
- ``slide``: on ``g = np.gradient(losses)``, a window of ``lr_diff`` points slides left from
  the right end while its ends' gradients differ by more than ``thresh``; the suggestion is
  the lr at the window's left end when it stops (the lr ``lr_diff`` from the end if it does not
  move).
- ``minimum``: the lr of the lowest loss, divided by 10 (a margin below where it blows up).
- ``steep``: the lr at the left end of the steepest descent of the loss against log lr.

Each rule returns None where fastai's would fail (too few points).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SLIDE_LR_DIFF = 15
SLIDE_THRESH = 0.005
RULES = ("valley", "slide", "minimum", "steep")
Curve = Sequence[float] | np.ndarray  # lrs or losses


def _arrays(lrs: Curve, losses: Curve) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(lrs, dtype=np.float64).ravel()
    y = np.asarray(losses, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"lrs and losses differ in length ({x.size} vs {y.size})")
    return x, y


def longest_valley(losses: np.ndarray) -> tuple[int, int]:
    """``(start, end)``: ``end`` the first index where the longest strictly decreasing
    subsequence of ``losses`` ends, ``start = end - its length`` (one before its first point,
    -1 when it starts at 0). ``(0, 0)`` for one point."""
    n = len(losses)
    run = np.ones(n, dtype=np.int64)  # run[i]: longest decreasing subsequence ending at i
    for i in range(1, n):
        higher = losses[:i] > losses[i]
        if higher.any():
            run[i] = run[:i][higher].max() + 1
    if n == 0:
        return 0, 0
    end = int(np.argmax(run))  # the first index of the longest: fastai keeps the first
    if end == 0:
        return 0, 0
    return end - int(run[end]), end


def valley(lrs: Curve, losses: Curve) -> float | None:
    """The lr about half-way down the longest valley of the loss (see the module)."""
    x, y = _arrays(lrs, losses)
    if x.size == 0:
        return None
    start, end = longest_valley(y)
    sections = (end - start) / 3
    return float(x[start + int(sections) + int(sections / 2)])


def slide(
    lrs: Curve,
    losses: Curve,
    lr_diff: int = SLIDE_LR_DIFF,
    thresh: float = SLIDE_THRESH,
) -> float | None:
    """The interval slide rule on the loss's gradient (see the module); None with fewer than
    ``lr_diff + 1`` points."""
    x, y = _arrays(lrs, losses)
    n = x.size
    if n < max(2, lr_diff + 1):
        return None
    g = np.gradient(y)
    right, left = n - 1, n - 1 - lr_diff
    found = x[left]
    while left >= 0 and abs(g[right] - g[left]) > thresh:
        found = x[left]
        right -= 1
        left -= 1
    return float(found)


def minimum(lrs: Curve, losses: Curve) -> float | None:
    """A tenth of the lr of the lowest loss (the first, if several)."""
    x, y = _arrays(lrs, losses)
    if x.size == 0:
        return None
    return float(x[int(np.argmin(y))]) / 10


def steep(lrs: Curve, losses: Curve) -> float | None:
    """The lr where the loss falls fastest against log lr: the left end of the segment with the
    most negative ``(L[i+1] - L[i]) / (log lr[i+1] - log lr[i])``."""
    x, y = _arrays(lrs, losses)
    if x.size < 2:
        return None
    slopes = np.diff(y) / np.diff(np.log(x))
    return float(x[int(np.argmin(slopes))])


def lr_suggestions(lrs: Curve, losses: Curve) -> dict[str, float | None]:
    """The four suggestions, ``{"valley", "slide", "minimum", "steep"}``, of one range test's
    learning rates and smoothed losses (already trimmed, see
    :func:`bnviz.lessons.lr_range.suggestion_window`); a rule with too few points gives None.

    Parameters
    ----------
    lrs : (n,) learning rates, increasing.  losses : (n,) smoothed losses, finite.
    """
    return {
        "valley": valley(lrs, losses),
        "slide": slide(lrs, losses),
        "minimum": minimum(lrs, losses),
        "steep": steep(lrs, losses),
    }


def loss_at(lrs: Curve, losses: Curve, lr: float) -> float:
    """The curve's loss at ``lr``, interpolated linearly in log10 lr (where a plot marks a
    suggestion, as fastai's plot marks ``slide``)."""
    x, y = _arrays(lrs, losses)
    return float(np.interp(np.log10(lr), np.log10(x), y))
