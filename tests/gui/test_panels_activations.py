"""The activation histograms and the percentile bands, fed by the real core (model -> view)."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import pytest

from bnviz.gui import style
from bnviz.gui.panel import Frame
from bnviz.gui.panels.activations import FAR, ActivationsPanel, density
from bnviz.gui.panels.percentiles import PercentilePanel
from bnviz.train.config import TrainConfig
from bnviz.train.history import RunHistory
from bnviz.train.snapshot import Histogram, saturation
from bnviz.train.trainer import Trainer


def make_frames(config: TrainConfig, steps: int = 20, frames: int = 3) -> list[Frame]:
    """``frames`` successive frames of one trainer, histories shared as in the app."""
    t = Trainer(config)
    histories = {r.name: RunHistory(r.name) for r in t.runs}
    out = []
    for _ in range(frames):
        t.run(steps)
        t.evaluate()
        snaps = t.snapshot()
        for s in snaps:
            histories[s.run].add(s)
        out.append(Frame(snaps, histories))
    return out


@pytest.fixture(scope="module")
def frames() -> list[Frame]:
    return make_frames(
        TrainConfig(compare=True, hidden=(16, 8), activation="sigmoid", n_samples=200)
    )


@pytest.fixture(scope="module")
def diverged_frame() -> Frame:
    (frame,) = make_frames(
        TrainConfig(
            compare=True,
            optimizer="sgd",
            lr=5.0,
            n_samples=200,
            activation="relu",
            hidden=(64, 64),
            batch_size=64,
        ),  # fmt: skip
        steps=100,
        frames=1,
    )
    assert frame.snapshots[1].diverged and not frame.snapshots[0].diverged
    return frame


@pytest.fixture
def act(qtbot) -> ActivationsPanel:
    panel = ActivationsPanel()
    qtbot.addWidget(panel)
    return panel


@pytest.fixture
def pct(qtbot) -> PercentilePanel:
    panel = PercentilePanel()
    qtbot.addWidget(panel)
    return panel


def curve_data(curve) -> tuple[np.ndarray, np.ndarray]:
    x, y = curve.getData()
    return np.asarray(x), np.asarray(y)


# -- activations ---------------------------------------------------------------------------------
def test_one_plot_per_hidden_layer(act, frames):
    act.render(frames[-1])
    assert [lp.layer for lp in act.plots] == [1, 2]
    assert act.title == "Activations"
    assert act.export_items() == [act.layout_item]


def test_bn_curve_is_the_density_of_the_z_tilde_counts(act, frames):
    frame = frames[-1]
    act.render(frame)
    assert act.kind == "z_tilde"
    bn = frame.snapshots[0]
    for lp, stats in zip(act.plots, bn.layers):
        h = stats.hist["z_tilde"]
        x, y = curve_data(lp.curves["bn"])
        np.testing.assert_array_equal(x, h.edges)
        np.testing.assert_allclose(y, density(h.edges, h.counts))
        assert np.sum(y * np.diff(x)) == pytest.approx(1.0)  # comparable across networks
        assert lp.curves["bn"].opts["pen"].color().getRgb()[:3] == style.BN_COLOR
        assert lp.curves["plain"].opts["pen"].color().getRgb()[:3] == style.PLAIN_COLOR


def test_combo_switches_the_histogram_to_a(act, frames):
    frame = frames[-1]
    act.render(frame)
    act.combo.setCurrentIndex(act.combo.findData("a"))  # re-renders the last frame at once
    for s in frame.snapshots:
        h = s.layers[0].hist["a"]
        x, y = curve_data(act.plots[0].curves[s.run])
        np.testing.assert_array_equal(x, h.edges)
        np.testing.assert_allclose(y, density(h.edges, h.counts))
    assert act.plots[0].regions[0].isVisible()  # sigmoid: saturated zones shaded


def test_items_are_kept_across_renders(act, frames):
    act.render(frames[0])
    plots = [lp.plot for lp in act.plots]
    curves = [dict(lp.curves) for lp in act.plots]
    act.render(frames[1])
    act.render(frames[2])
    assert [lp.plot for lp in act.plots] == plots
    assert [dict(lp.curves) for lp in act.plots] == curves


def test_stats_text_shows_saturation_and_gamma_beta(act, frames):
    act.render(frames[-1])
    text = act.plots[0].label.text
    assert "BN" in text and "plain" in text
    assert "sat&nbsp;" in text and "\u03b3" in text and "\u03b2" in text
    assert "with BN" in act.legend.text and "without BN" in act.legend.text


def test_compare_off_hides_the_other_network(act, frames):
    act.render(frames[-1])
    bn_only = Frame(frames[-1].snapshots[:1], frames[-1].histories)
    act.render(bn_only)
    assert act.plots[0].curves["bn"].isVisible()
    assert not act.plots[0].curves["plain"].isVisible()
    assert "without BN" not in act.legend.text


def test_widened_edges_are_followed(act, frames):
    frame = frames[-1]
    act.render(frame)
    bn = frame.snapshots[0]
    h = bn.layers[0].hist["z_tilde"]
    wide = Histogram(h.edges * 2, h.counts, h.mean, h.std)
    layer = replace(bn.layers[0], hist={**bn.layers[0].hist, "z_tilde": wide})
    snap = replace(bn, layers=(layer, *bn.layers[1:]))
    act.render(Frame((snap, frame.snapshots[1]), frame.histories))
    x, y = curve_data(act.plots[0].curves["bn"])
    np.testing.assert_array_equal(x, h.edges * 2)
    np.testing.assert_allclose(y, density(h.edges * 2, h.counts))


def test_diverged_network_is_hidden_with_a_message(act, diverged_frame):
    act.render(diverged_frame)
    step = diverged_frame.snapshots[1].diverged_step
    lp = act.plots[0]
    assert not lp.curves["plain"].isVisible()
    assert lp.curves["bn"].isVisible()
    assert f"diverged at step {step}" in lp.label.text
    assert lp.plot.titleLabel.text == "layer 1"  # a note in the title widened the plots


def _plot_widths(act: ActivationsPanel) -> list[float]:
    return [lp.plot.geometry().width() for lp in act.plots]


def test_divergence_and_reset_keep_every_plot_in_the_panel(act, qtbot):
    """Defect 5: "layer N diverged at step 4" titles widened the plots (layer 3 went off the
    panel), and they stayed wide after a reset."""
    healthy = TrainConfig(compare=True, hidden=(32,) * 4, n_samples=200, activation="relu")
    (frame,) = make_frames(healthy, 5, 1)
    (blown,) = make_frames(replace(healthy, optimizer="sgd", lr=1e4), 30, 1)
    assert all(s.diverged for s in blown.snapshots)
    act.resize(520, 420)
    act.show()
    qtbot.waitExposed(act)

    def widths(f: Frame) -> list[float]:
        act.render(f)
        qtbot.waitUntil(lambda: act.view.width() > 0)
        act.view.ci.layout.activate()
        return _plot_widths(act)

    before = widths(frame)
    assert len(before) == 4 and max(before) - min(before) < 2  # equal columns
    after = widths(blown)
    assert after == pytest.approx(before, abs=1)
    assert "diverged at step" in act.plots[2].label.text
    right = act.view.ci.geometry().right()
    assert all(lp.plot.geometry().right() <= right + 1 for lp in act.plots)
    assert widths(frame) == pytest.approx(before, abs=1)  # after the reset


def test_a_wide_first_layer_keeps_the_columns_equal(act, qtbot):
    """hidden [2000, 16] clipped the second plot like a divergence did."""
    (frame,) = make_frames(TrainConfig(hidden=(2000, 16), n_samples=200), 5, 1)
    act.resize(520, 420)
    act.show()
    qtbot.waitExposed(act)
    act.render(frame)
    act.view.ci.layout.activate()
    a, b = _plot_widths(act)
    assert abs(a - b) < 2
    assert act.plots[1].plot.geometry().right() <= act.view.ci.geometry().right() + 1


def test_a_short_panel_scrolls_instead_of_squashing(act, qtbot, frames):
    """At 1024 x 640 the panel is ~220 px tall: the rows keep a readable height and scroll."""
    (frame,) = make_frames(TrainConfig(hidden=(16,) * 4, n_samples=200), 5, 1)
    act.resize(400, 220)
    act.show()
    qtbot.waitExposed(act)
    act.render(frame)
    qtbot.waitUntil(lambda: act.view.height() >= 2 * 150)
    assert act.scroll.verticalScrollBar().maximum() > 0
    act.view.ci.layout.activate()
    assert min(lp.plot.geometry().height() for lp in act.plots) >= 90


def test_no_hidden_layer_shows_a_message(act, pct):
    (frame,) = make_frames(TrainConfig(compare=True, hidden=(), n_samples=200), 2, 1)
    act.render(frame)
    pct.render(frame)
    assert act.plots == []
    labels = [act.layout_item.getItem(0, 0)]
    assert labels[0].text == "no hidden layer"
    assert pct.message.toPlainText() == "no hidden layer"


def test_set_dataset_rebuilds(act, frames):
    act.render(frames[-1])
    old = act.plots[0].plot
    act.set_dataset(None)
    assert act.plots == []
    act.render(frames[-1])
    assert act.plots[0].plot is not old and len(act.plots) == 2


def test_activation_and_its_saturation_come_from_the_snapshot(act, frames):
    frame = frames[-1]  # sigmoid networks
    act.combo.setCurrentIndex(act.combo.findData("a"))
    act.render(frame)
    assert act.activation == "sigmoid" and "sigmoid saturates" in act.legend.text
    low, high = (r.getRegion() for r in act.plots[0].regions)
    assert low == pytest.approx((-FAR, 0.02)) and high == pytest.approx((0.98, 1 + FAR))

    def told(activation: str) -> Frame:
        sat = saturation(activation)
        snaps = tuple(replace(s, activation=activation, saturation=sat) for s in frame.snapshots)
        return Frame(snaps, frame.histories)

    act.render(told("tanh"))  # the same histograms: only what the snapshot says changed
    assert "tanh saturates" in act.legend.text
    assert act.plots[0].regions[0].getRegion() == pytest.approx((-1 - FAR, -0.98))
    act.combo.setCurrentIndex(act.combo.findData("z_tilde"))
    z = math.atanh(0.98)
    assert act.plots[0].regions[1].getRegion() == pytest.approx((z, FAR))
    act.render(told("relu"))
    assert not any(r.isVisible() for r in act.plots[0].regions)
    assert "saturates" not in act.legend.text and "dead&nbsp;" in act.plots[0].label.text


def test_render_is_fast(act, qtbot):
    frames = make_frames(
        TrainConfig(compare=True, hidden=(32, 32, 32, 32), activation="tanh", n_samples=200), 5, 2
    )
    act.render(frames[0])
    n = 40
    start = time.perf_counter()
    for i in range(n):
        act.render(frames[i % 2])
    # 5 ms is the budget; the margin keeps a loaded test machine from failing this.
    assert (time.perf_counter() - start) / n < 0.015


# -- percentiles ---------------------------------------------------------------------------------
def test_median_follows_the_history(pct, frames):
    frame = frames[-1]
    pct.render(frame)
    assert pct.title == "Distribution over time"
    assert pct.export_items() == [pct.plot]
    for run in ("bn", "plain"):
        lo, mid, hi = frame.histories[run].percentiles[1]
        x, y = pct.bands[run].median.getData()
        np.testing.assert_array_equal(x, mid.x)
        np.testing.assert_array_equal(y, mid.y)
        np.testing.assert_array_equal(pct.bands[run].hi.getData()[1], hi.y)
        np.testing.assert_array_equal(pct.bands[run].lo.getData()[1], lo.y)


def test_layer_and_unit_selectors(pct, frames):
    frame = frames[-1]
    pct.render(frame)
    band = pct.bands["plain"]
    assert pct.layer_spin.maximum() == 2
    pct.layer_spin.setValue(2)
    np.testing.assert_array_equal(
        band.median.getData()[1], frame.histories["plain"].percentiles[2][1].y
    )
    pct.units.setCurrentIndex(pct.units.findData(True))
    unit = frame.histories["plain"].unit_percentiles[2][1].y
    np.testing.assert_array_equal(band.median.getData()[1], unit)
    assert "layer 2" in pct.plot.titleLabel.text and "unit 0" in pct.plot.titleLabel.text
    assert pct.plot.titleLabel.minimumWidth() <= 40  # a long title never widens the plot


def test_percentile_items_are_kept_and_compare_off_hides(pct, frames):
    pct.render(frames[0])
    bands = dict(pct.bands)
    items = [b.median for b in bands.values()]
    pct.render(frames[1])
    assert [b.median for b in pct.bands.values()] == items
    pct.render(Frame(frames[2].snapshots[:1], frames[2].histories))
    assert pct.bands["bn"].median.isVisible()
    assert not pct.bands["plain"].median.isVisible()
    assert not pct.bands["plain"].fill.isVisible()


def test_percentiles_mark_a_diverged_network(pct, diverged_frame):
    pct.render(diverged_frame)
    step = diverged_frame.snapshots[1].diverged_step
    band = pct.bands["plain"]
    assert band.diverged.isVisible() and band.diverged.value() == step
    assert f"diverged at step {step}" in band.diverged.label.format
    assert not band.median.isVisible()
    assert pct.bands["bn"].median.isVisible()


def test_the_z_tilde_axis_keeps_one_unit(pct, qtbot):
    """+-0.9 and +-1.2 both read "z~" (pyqtgraph's SI prefix made the first "z~ (x0.001)",
    ticks of 900 meaning 0.9)."""
    pct.show()
    labels = set()
    for lo, hi in ((-0.9, 0.9), (-1.2, 1.2), (-0.004, 0.004), (-40.0, 40.0)):
        pct.plot.setYRange(lo, hi, padding=0)
        qtbot.wait(10)
        labels.add(pct.plot.getAxis("left").labelString())
    assert len(labels) == 1 and "x0.001" not in labels.pop()
