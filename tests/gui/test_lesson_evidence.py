"""The evidence panel: Seeds, Run / Cancel, and an Evidence drawn as points, means with their
intervals, the paired difference and the verdict beside the course's claim."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import Qt

from bnviz.gui.lessons.evidence_panel import (
    UNFOLD_MIN_HEIGHT,
    VERDICT_COLORS,
    EvidencePanel,
    seeds_for,
)
from bnviz.lessons.catalog import find_lesson_info
from bnviz.lessons.seeded import landscape_evidence
from bnviz.train.config import TrainConfig
from bnviz.train.evidence import SeedResult, Unit, summarize
from tests.gui import evidence_stub

SMALL = TrainConfig(n_samples=200, hidden=(8, 8), seed=4)


class FakeView:
    """What the panel reads of its lesson view."""

    def __init__(self) -> None:
        self.paused: list[str] = []
        self.config_provider = lambda: SMALL
        self.pause_training = self.paused.append


def evidence(per_seed, direction=1, units=()):
    return summarize("loss-landscape", "the claim", "share of steps (higher is better)", {},
                     direction, per_seed=per_seed, units=units)  # fmt: skip


@pytest.fixture
def panel(qtbot):
    view = FakeView()
    p = EvidencePanel("loss-landscape", evidence_stub.quick_evidence, view)
    qtbot.addWidget(p)
    p.show()
    yield p
    p.shutdown()


def points(item) -> int:
    return len(item.getData()[0]) if item.getData()[0] is not None else 0


def test_draws_every_seed_the_means_and_the_verdict(panel):
    ev = evidence([SeedResult(0, 0.9, 0.5), SeedResult(1, 0.8, 0.45), SeedResult(2, 0.85, 0.6)])
    assert ev.verdict == "supports"
    panel.evidence = ev
    panel.draw(ev)
    assert points(panel.seed_points[True]) == 3 and points(panel.seed_points[False]) == 3
    assert points(panel.diff_points) == 3
    assert points(panel.pairs) == 6  # one line per seed: BN to plain
    assert list(panel.diff_points.getData()[1]) == pytest.approx([0.4, 0.35, 0.25])
    assert len(panel.bars.opts["x"]) == 2 and len(panel.diff_bar.opts["x"]) == 1
    lo, hi = ev.difference.ci95
    assert panel.diff_bar.opts["top"][0] == pytest.approx(hi - ev.difference.mean)
    assert panel.diff_bar.opts["bottom"][0] == pytest.approx(ev.difference.mean - lo)
    text = panel.text.text()
    assert ">supports</span>" in text and VERDICT_COLORS["supports"] in text
    assert find_lesson_info("loss-landscape").claim in text  # the course's words, not ours
    assert "t over 3 seeds (2 df)" in text
    assert f"{ev.difference.mean:+.3g}" in text


def test_one_seed_has_no_interval_and_is_inconclusive(panel):
    ev = evidence([SeedResult(0, 0.9, 0.5)])
    panel.evidence = ev
    panel.draw(ev)
    assert points(panel.seed_points[True]) == 1
    assert len(panel.bars.opts["x"]) == 0 and len(panel.diff_bar.opts["x"]) == 0
    assert points(panel.means) == 2  # the means are shown, without bars
    assert ">inconclusive</span>" in panel.text.text() and "no interval" in panel.text.text()


def test_refuting_evidence_says_so(panel):
    units = [Unit(s, 0.2 + 0.01 * i, 0.6 + 0.01 * i) for s in (0, 1) for i in range(5)]
    ev = evidence((), units=units)
    panel.evidence = ev
    panel.draw(ev)
    assert ev.verdict == "refutes"
    assert points(panel.seed_points[True]) == 2  # per seed, not per unit
    assert ">refutes</span>" in panel.text.text() and "bootstrap over 10 pairs" in panel.text.text()
    assert VERDICT_COLORS["refutes"] in panel.text.text()


def test_a_nan_seed_is_drawn_without_its_line(panel):
    ev = evidence([SeedResult(0, math.nan, 0.5), SeedResult(1, 0.8, 0.45)])
    panel.draw(ev)
    assert points(panel.pairs) == 2


def test_run_in_worker_processes_ends_with_a_verdict(panel, qtbot):
    """A real lesson experiment, tiny: two seeds of the loss landscape's twins, 40 steps."""
    panel.experiment = landscape_evidence
    panel.options = lambda: {"steps": 40, "every": 20}
    panel.seeds.setValue(2)
    panel.resize(1000, UNFOLD_MIN_HEIGHT + 50)
    assert not panel.details.isVisible()  # folded to one row until there is evidence
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert not panel.run_button.isEnabled() and panel.cancel_button.isEnabled()
    assert panel.view.paused  # live training paused, saying why
    qtbot.waitUntil(lambda: panel.evidence is not None, timeout=120_000)
    ev = panel.evidence
    assert ev.lesson == "loss-landscape" and ev.verdict in ("supports", "refutes", "inconclusive")
    assert ev.seeds == seeds_for(SMALL, 2) == (4, 5)  # from the settings' own seed
    assert ev.setting["hidden"] == [8, 8] and ev.setting["steps"] == 40  # the window's settings
    assert len(ev.units) == 4  # two measurements a seed, paired by step
    assert points(panel.seed_points[True]) == 2 and points(panel.diff_points) == 2
    assert f">{ev.verdict}</span>" in panel.text.text() and "bootstrap" in panel.text.text()
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert f"{ev.verdict}</b> over 2 seeds" in panel.progress.text()
    assert panel.details.isVisible()  # in a high window the evidence unfolds when it arrives


def test_in_a_low_window_the_verdict_line_says_it_folded(panel, qtbot):
    panel.resize(1000, 600)
    assert panel.run()
    qtbot.waitUntil(lambda: panel.evidence is not None, timeout=60_000)
    assert not panel.details.isVisible()
    assert f"{panel.evidence.verdict}</b> over 3 seeds" in panel.progress.text()
    panel.fold.click()
    assert panel.details.isVisible()


def test_a_bad_option_is_one_line_and_nothing_runs(panel, qtbot):
    panel.experiment = landscape_evidence
    panel.options = lambda: {"steps": 10, "every": 20}  # nothing to measure
    assert panel.run()
    qtbot.waitUntil(lambda: panel.run_button.isEnabled(), timeout=60_000)
    assert "nothing to measure" in panel.progress.text() and "#b00000" in panel.progress.text()
    assert panel.evidence is None


def test_cancel_stops_at_once(panel, qtbot):
    panel.experiment = evidence_stub.slow_evidence  # 30 s a seed
    assert panel.run()
    qtbot.waitUntil(lambda: panel._handle is not None, timeout=30_000)
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert panel.run_button.isEnabled() and "cancelled" in panel.progress.text()
    qtbot.waitUntil(lambda: not panel._thread.is_alive(), timeout=10_000)  # workers killed
    qtbot.wait(100)
    assert panel.evidence is None and "cancelled" in panel.progress.text()
    assert panel.run()  # and it runs again
    panel.shutdown()  # closing mid-run returns promptly
    assert not panel._thread.is_alive()
