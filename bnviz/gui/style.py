"""Colours and pens used by every panel: BN and plain keep one colour each everywhere."""

from __future__ import annotations

# Orange and blue stay apart under every common colour blindness (tests/gui/test_screens.py).
BN_COLOR = (230, 126, 34)  # orange: the network with batch norm
PLAIN_COLOR = (52, 120, 220)  # blue: the network without
EVENT_COLOR = (120, 120, 120)
DIVERGED_COLOR = (200, 30, 30)
FAILED_COLOR = (140, 140, 140)  # a trial whose worker raised: no result, not a bad one
BACKGROUND = "w"
FOREGROUND = "k"
# Class colours (decision regions, probability bars, points): the Okabe-Ito palette, told apart
# by viewers with red-green colour blindness too (Okabe & Ito 2008, "Color Universal Design"),
# then grey and brown for a ninth and tenth class. matplotlib's tab10, used before, put green
# beside orange and red as classes 2-4: under deuteranopia they looked alike.
CLASS_COLORS = [
    (0, 114, 178),  # blue
    (230, 159, 0),  # orange
    (0, 158, 115),  # bluish green
    (204, 121, 167),  # reddish purple
    (213, 94, 0),  # vermillion
    (86, 180, 233),  # sky blue
    (240, 228, 66),  # yellow
    (0, 0, 0),  # black
    (127, 127, 127),
    (140, 86, 75),
]


# The first and second twin when they differ in a setting other than BN: not orange and blue,
# which mean "with BN" and "without BN" everywhere.
TWIN_COLORS = ((46, 160, 67), (148, 103, 189))


def run_color(batchnorm: bool, run: str = "net", index: int = 0) -> tuple[int, int, int]:
    """The colour of a network: "bn" orange and "plain" blue; a single network ("net") by
    whether it has batch norm; twins that differ in another setting by their order
    (``index`` 0 or 1 in the frame)."""
    if run == "bn" or (run == "net" and batchnorm):
        return BN_COLOR
    if run in ("plain", "net"):
        return PLAIN_COLOR
    return TWIN_COLORS[index % len(TWIN_COLORS)]


def run_label(run: str, batchnorm: bool) -> str:
    """A network's name in legends: "with BN"/"without BN" in BN vs plain, "BN"/"no BN" for a
    single network, the twin's value ("lr=0.5") when the twins differ in another setting."""
    if run == "net":
        return "BN" if batchnorm else "no BN"
    return {"bn": "with BN", "plain": "without BN"}.get(run, run)


def run_short(run: str, batchnorm: bool) -> str:
    """The shortest name that tells the networks apart (beside a legend that says more)."""
    if run in ("bn", "plain", "net"):
        return "BN" if batchnorm else "plain"
    return run
