"""Colours and pens used by every panel: BN and plain keep one colour each everywhere."""

from __future__ import annotations

BN_COLOR = (230, 126, 34)  # orange: the network with batch norm
PLAIN_COLOR = (52, 120, 220)  # blue: the network without
EVENT_COLOR = (120, 120, 120)
DIVERGED_COLOR = (200, 30, 30)
FAILED_COLOR = (140, 140, 140)  # a trial whose worker raised: no result, not a bad one
BACKGROUND = "w"
FOREGROUND = "k"
# Ten distinguishable class colours (decision regions, probability bars).
CLASS_COLORS = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
]


def run_color(batchnorm: bool) -> tuple[int, int, int]:
    """The colour of a network, by whether it has batch norm now."""
    return BN_COLOR if batchnorm else PLAIN_COLOR


def run_label(run: str, batchnorm: bool) -> str:
    return {"bn": "with BN", "plain": "without BN"}.get(run, "BN" if batchnorm else "no BN")
