"""The output panels (loss & accuracy, softmax, confusion) drawn from real trainer snapshots."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from bnviz.gui import style
from bnviz.gui.panel import Frame
from bnviz.gui.panels.confusion import ConfusionPanel
from bnviz.gui.panels.loss import LossPanel
from bnviz.gui.panels.loss_curves import decimate
from bnviz.gui.panels.percentiles import PercentilePanel
from bnviz.gui.panels.softmax import GRID_POINTS, REGIONS, SoftmaxPanel, softmax_steps
from bnviz.gui.panels.softmax_maps import plotted_indices
from bnviz.train.config import TrainConfig
from bnviz.train.history import RunHistory
from bnviz.train.probes import ProbeContext, ProbeRunner
from bnviz.train.trainer import Trainer

# Plain SGD with ReLU at this rate blows the network without BN up within ~10 steps; BN keeps
# the other one finite (its scale-invariance absorbs the huge updates).


DIVERGING = {
    "optimizer": "sgd", "lr": 5.0, "activation": "relu", "hidden": (64, 64), "batch_size": 64,
    "n_samples": 600,
}  # fmt: skip


class Feed:
    """A trainer and the histories a main window would keep, producing frames (with the
    decision regions the softmax panel asks for, unless ``grid=False``)."""

    def __init__(self, **config) -> None:
        config = {"compare": True, "hidden": (16,), "n_samples": 200, **config}
        self.t = Trainer(TrainConfig(**config))
        self.histories: dict[str, RunHistory] = {}
        self.probes = ProbeRunner()

    def frame(self, steps: int = 30, evaluate: bool = True, grid: bool = True) -> Frame:
        self.t.run(steps)
        if evaluate:
            self.t.evaluate()
        snaps = self.t.snapshot()
        for s in snaps:
            self.histories.setdefault(s.run, RunHistory(s.run)).add(s)
        probes, errors = self.probes.collect([REGIONS] if grid else [], ProbeContext(self.t), 0.0)
        self.probes.reset()  # every frame gets new regions
        assert not errors
        return Frame(snaps, self.histories, probes)


def _panel(qtbot, cls, feed: Feed):
    panel = cls()
    qtbot.addWidget(panel)
    panel.resize(900, 500)
    panel.show()
    panel.set_dataset(feed.t.data)
    return panel


def _snap(frame: Frame, run: str):
    return next(s for s in frame.snapshots if s.run == run)


# -- loss ----------------------------------------------------------------------------------------
def test_loss_curves_show_the_history(qtbot):
    feed = Feed()
    panel = _panel(qtbot, LossPanel, feed)
    panel.render(feed.frame())
    panel.render(feed.frame())
    assert set(panel.runs) == {"bn", "plain"}
    for run, h in feed.histories.items():
        c = panel.runs[run]
        for item, series in (
            (c.raw, h.loss),
            (c.smoothed, h.smoothed),
            (c.val, h.val_loss),
            (c.acc, h.val_acc),
        ):
            np.testing.assert_array_equal(item.xData, series.x)
            np.testing.assert_array_equal(item.yData, series.y)
        assert c.val.opts["clipToView"] and c.val.opts["autoDownsample"]
    assert len(feed.histories["bn"].val_loss) == 2
    assert panel.runs["bn"].smoothed.opts["pen"].color().getRgb()[:3] == (230, 126, 34)
    assert panel.runs["plain"].smoothed.opts["pen"].color().getRgb()[:3] == (52, 120, 220)
    assert panel.export_items() == [panel.loss_plot, panel.acc_plot]


def test_loss_items_are_reused_across_renders(qtbot):
    feed = Feed()
    panel = _panel(qtbot, LossPanel, feed)
    panel.render(feed.frame())
    before = {run: c.items() for run, c in panel.runs.items()}
    n_items = len(panel.loss_plot.items)
    for _ in range(5):
        panel.render(feed.frame(steps=5))
    assert {run: c.items() for run, c in panel.runs.items()} == before
    assert len(panel.loss_plot.items) == n_items


def test_log_y_checkbox_sets_log_mode(qtbot):
    feed = Feed()
    panel = _panel(qtbot, LossPanel, feed)
    panel.render(feed.frame())
    panel.log_y.setChecked(True)
    assert panel.loss_plot.getAxis("left").logMode
    assert panel.runs["bn"].val.opts["logMode"][1]
    # raw and smoothed loss apply log10 themselves (PlotCurveItem has no log mode)
    h = feed.histories["bn"]
    np.testing.assert_allclose(panel.runs["bn"].smoothed.yData, np.log10(h.smoothed.y))
    panel.log_y.setChecked(False)
    assert not panel.loss_plot.getAxis("left").logMode


def test_long_loss_series_are_clipped_and_peak_decimated():
    x = np.arange(10_000, dtype=float)
    y = np.sin(x / 50.0)
    y[5_003] = 7.0  # a spike must survive decimation
    xd, yd = decimate(x, y, (1_000.0, 9_000.0), 400)
    assert len(xd) <= 2 * 400 + 40
    assert xd[0] <= 1_000 and xd[-1] >= 9_000 and np.all(np.diff(xd) >= 0)
    assert yd.max() == 7.0 and yd.min() == y[999:9_002].min()
    np.testing.assert_array_equal(decimate(x[:50], y[:50], (0.0, 100.0), 400)[1], y[:50])


def _event_lines(panel: LossPanel, text: str) -> list:
    return [
        item
        for item in panel.loss_plot.items
        if isinstance(item, pg.InfiniteLine)
        and item.label is not None
        and text in item.label.toPlainText()
    ]


def test_an_event_gets_exactly_one_marker(qtbot):
    feed = Feed()
    panel = _panel(qtbot, LossPanel, feed)
    panel.render(feed.frame())
    feed.t.set_hparams(lr=0.02)
    step = feed.t.step_count
    for _ in range(6):
        panel.render(feed.frame(steps=3))
    # Both networks log the change; it is one event on the shared step axis.
    lines = _event_lines(panel, "lr 0.5 -> 0.02")
    assert len(lines) == 1
    assert lines[0].value() == step
    feed.t.set_batchnorm(False, run="bn")
    for _ in range(3):
        panel.render(feed.frame(steps=3))
    assert len(_event_lines(panel, "BN off")) == 1
    assert len(_event_lines(panel, "lr 0.5 -> 0.02")) == 1


def test_set_dataset_clears_curves_and_markers(qtbot):
    feed = Feed()
    panel = _panel(qtbot, LossPanel, feed)
    panel.render(feed.frame())
    feed.t.set_hparams(lr=0.02)
    panel.render(feed.frame())
    assert _event_lines(panel, "lr")
    panel.set_dataset(feed.t.data)
    assert not _event_lines(panel, "lr")
    assert panel.runs["bn"].raw.xData is None or len(panel.runs["bn"].raw.xData) == 0


def test_diverged_run_is_marked(qtbot):
    feed = Feed(**DIVERGING)
    panel = _panel(qtbot, LossPanel, feed)
    panel.render(feed.frame(steps=100))
    diverged = {r: h.diverged_step for r, h in feed.histories.items() if h.diverged_step}
    assert diverged, "lr=20 with plain SGD should make a network diverge"
    for run, step in diverged.items():
        line = panel.runs[run].diverged
        assert line.isVisible()
        assert line.value() == step
        assert f"diverged at step {step}" in line.label.toPlainText()
    panel.render(feed.frame(steps=5))  # keeps working with evaluation None for that run


def test_runs_disappearing(qtbot):
    feed = Feed()
    panel = _panel(qtbot, LossPanel, feed)
    panel.render(feed.frame())
    single = Feed(compare=False)
    panel.set_dataset(single.t.data)
    panel.render(single.frame())
    assert not panel.runs["bn"].smoothed.isVisible()
    assert panel.runs["net"].smoothed.isVisible()
    assert len(panel.legend.items) == 2


# -- softmax -------------------------------------------------------------------------------------
def test_regions_image_matches_the_grid(qtbot):
    feed = Feed()
    panel = _panel(qtbot, SoftmaxPanel, feed)
    frame = feed.frame()
    panel.render(frame)
    img = panel.regions.image
    grid = next(g for g in frame.probes[REGIONS] if g.run == "bn")
    XS, YS = grid.x, grid.y
    assert img.shape == (len(YS), len(XS), 3)
    cls = grid.proba().argmax(axis=-1)
    sure = grid.proba().max(axis=-1) > 0.99
    colors = np.array(style.CLASS_COLORS[:3])
    # Sure pixels lean towards their class colour: the class channel order survives blending.
    for k in range(3):
        px = img[sure & (cls == k)]
        if len(px):
            assert (np.argsort(px[0]) == np.argsort(colors[k])).all()
    rect = panel.regions.mapRectToParent(panel.regions.boundingRect())
    dx = XS[1] - XS[0]
    assert rect.left() == pytest.approx(XS[0] - dx / 2, rel=1e-4)
    assert rect.width() == pytest.approx(dx * len(XS), rel=1e-4)
    # Frames without a grid keep the last image.
    panel.render(feed.frame(grid=False))
    assert panel.regions.image is img


def test_bars_show_softmax_of_the_probe_example(qtbot):
    feed = Feed()
    panel = _panel(qtbot, SoftmaxPanel, feed)
    frame = feed.frame()
    panel.render(frame)
    ev = _snap(frame, "bn").evaluation
    n = _snap(frame, "bn").shown_examples
    assert panel.probe.maximum() == n - 1 == len(ev.val_logits) - 1
    for i in (0, 5):
        panel.probe.setValue(i)
        a = panel.bars["a"].opts["height"]
        np.testing.assert_allclose(a, softmax_steps(ev.val_logits[i])[1])
        assert a.sum() == pytest.approx(1.0)
        np.testing.assert_allclose(panel.bars["z"].opts["height"], ev.val_logits[i])
        assert panel.bars["t"].opts["height"].max() == pytest.approx(1.0)
        true = int(feed.t.data.y_val[i])
        pens = panel.bars["a"].opts["pens"]
        assert pens[true].widthF() > max(p.widthF() for k, p in enumerate(pens) if k != true)
        k = int(np.argmax(a))
        assert f"predicted {k} (p={a[k]:.2f}), true {true}" in panel.status.text()


def test_bars_follow_the_chosen_network(qtbot):
    feed = Feed()
    panel = _panel(qtbot, SoftmaxPanel, feed)
    frame = feed.frame()
    panel.render(frame)
    assert panel.net_combo.count() == 2 and not panel.net_combo.isHidden()
    panel.net_combo.setCurrentIndex(panel.net_combo.findData("plain"))
    z = _snap(frame, "plain").evaluation.val_logits[0]
    np.testing.assert_allclose(panel.bars["z"].opts["height"], z)


def test_clicking_a_training_point_selects_it(qtbot):
    feed = Feed()
    panel = _panel(qtbot, SoftmaxPanel, feed)
    frame = feed.frame()
    panel.render(frame)
    qtbot.waitExposed(panel)
    QApplication.processEvents()  # let the view box apply its auto-range before mapping
    i = 7
    x, y = (float(v) for v in feed.t.data.X_train[i])
    under = {int(pt.data()) for pt in panel.points.pointsAt(QPointF(x, y))}
    vb = panel.left_plot.getViewBox()
    pos = panel.view.mapFromScene(vb.mapViewToScene(QPointF(x, y)))
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert panel.index in under  # i itself, or a neighbour drawn on top of it
    assert panel.source == "train"
    i = panel.index
    z = _snap(frame, "bn").evaluation.train_logits[i]
    np.testing.assert_allclose(panel.bars["a"].opts["height"], softmax_steps(z)[1])
    assert f"training example #{i}" in panel.status.text()
    assert f"training #{i}" in panel.probe.text()  # not "probe example #0" beside it
    panel.probe.setValue(2)
    assert panel.probe.text() == "validation example #2"
    assert "validation example #2" in panel.status.text()
    panel.select_training_example(i)
    mx, my = panel.marker.getData()
    assert (mx[0], my[0]) == pytest.approx(tuple(feed.t.data.X_train[i]))


def test_waiting_for_the_first_evaluation(qtbot):
    feed = Feed()
    panel = _panel(qtbot, SoftmaxPanel, feed)
    panel.render(feed.frame(steps=1, evaluate=False))
    assert "waiting for the first evaluation" in panel.status.text()
    assert not panel.bars["a"].opts["height"].any()


def test_diverged_network_has_no_outputs(qtbot):
    feed = Feed(**DIVERGING)
    panel = _panel(qtbot, SoftmaxPanel, feed)
    frame = feed.frame(steps=100)
    panel.render(frame)
    gone = [s.run for s in frame.snapshots if s.diverged]
    assert gone
    panel.net_combo.setCurrentIndex(panel.net_combo.findData(gone[0]))
    assert "diverged" in panel.status.text()
    assert panel.regions.image is None


def test_digits_show_the_image(qtbot):
    spirals = Feed(compare=False)
    panel = _panel(qtbot, SoftmaxPanel, spirals)
    panel.render(spirals.frame())
    assert len(panel.marker.getData()[0]) == 1  # the ring on the spirals' probe point
    feed = Feed(dataset="digits", compare=False)
    panel.set_dataset(feed.t.data)  # switching to the digits takes the ring away
    panel.render(feed.frame())
    assert panel.net_combo.isHidden()
    assert panel.digit.isVisible() and not panel.points.isVisible()
    assert not panel.marker.isVisible() and len(panel.marker.getData()[0]) == 0
    data = feed.t.data
    panel.probe.setValue(3)
    expected = data.raw(data.X_val[3]).reshape(8, 8)[::-1]
    np.testing.assert_allclose(panel.digit.image, expected, rtol=1e-5)
    shown = data.raw(data.X_train[plotted_indices(len(data.X_train))])  # the grey scale's ends
    assert panel.left_plot.digit_levels == (float(shown.min()), float(shown.max()))
    assert len(panel.bars["a"].opts["height"]) == 10
    assert panel.bars["a"].opts["height"].sum() == pytest.approx(1.0)


@pytest.mark.parametrize("n_classes", [2, 10])
def test_softmax_with_2_to_10_classes(qtbot, n_classes):
    feed = Feed(dataset="blobs", n_classes=n_classes)
    panel = _panel(qtbot, SoftmaxPanel, feed)
    panel.render(feed.frame())
    n = GRID_POINTS
    assert panel.regions.image.shape == (n, n, 3)
    assert len(panel.bars["a"].opts["height"]) == n_classes


def test_softmax_items_are_reused(qtbot):
    feed = Feed()
    panel = _panel(qtbot, SoftmaxPanel, feed)
    panel.render(feed.frame())
    items = (panel.regions, panel.points, *panel.bars.values())
    n = len(panel.left_plot.items)
    for _ in range(3):
        panel.render(feed.frame(steps=5))
    assert (panel.regions, panel.points, *panel.bars.values()) == items
    assert len(panel.left_plot.items) == n


# -- confusion -----------------------------------------------------------------------------------
def test_confusion_image_and_counts(qtbot):
    feed = Feed()
    panel = _panel(qtbot, ConfusionPanel, feed)
    frame = feed.frame()
    panel.render(frame)
    ev = _snap(frame, "bn").evaluation
    np.testing.assert_array_equal(panel.image.image, ev.confusion)
    for i in range(3):
        for j in range(3):
            assert panel.texts[i][j].toPlainText() == str(ev.confusion[i, j])
    assert f"{ev.val_acc:.1%}" in panel.plot.titleLabel.text
    texts = [t for row in panel.texts for t in row]
    panel.net_combo.setCurrentIndex(panel.net_combo.findData("plain"))
    plain = _snap(frame, "plain").evaluation.confusion
    np.testing.assert_array_equal(panel.image.image, plain)
    panel.render(feed.frame())
    assert [t for row in panel.texts for t in row] == texts


def test_confusion_follows_the_number_of_classes(qtbot):
    feed = Feed()
    panel = _panel(qtbot, ConfusionPanel, feed)
    panel.render(feed.frame())
    digits = Feed(dataset="digits", compare=False)
    panel.set_dataset(digits.t.data)
    # the 3 classes' cell texts go; the 10 x 10 come with the first matrix (not in File > Open's
    # turn), so the plot holds no text item but the new cells'
    assert panel.texts == [] and not any(isinstance(i, pg.TextItem) for i in panel.plot.items)
    frame = digits.frame()
    panel.render(frame)
    m = frame.snapshots[0].evaluation.confusion
    np.testing.assert_array_equal(panel.image.image, m)
    assert [len(row) for row in panel.texts] == [10] * 10
    assert sum(isinstance(i, pg.TextItem) for i in panel.plot.items) == 100
    cells = [[t.toPlainText() for t in row] for row in panel.texts]
    assert cells == m.astype(int).astype(str).tolist()
    assert panel.net_combo.isHidden()


def test_confusion_of_a_diverged_network(qtbot):
    feed = Feed(**DIVERGING)
    panel = _panel(qtbot, ConfusionPanel, feed)
    frame = feed.frame(steps=100)
    panel.render(frame)
    gone = next(s for s in frame.snapshots if s.diverged)
    panel.net_combo.setCurrentIndex(panel.net_combo.findData(gone.run))
    assert f"diverged at step {gone.diverged_step}" in panel.plot.titleLabel.text
    assert all(t.toPlainText() == "" for row in panel.texts for t in row)


# -- segments, twins, the step axis ----------------------------------------------------------------
def _rgb(item) -> tuple:
    return item.opts["pen"].color().getRgb()[:3]


def test_a_bn_switch_keeps_each_segment_in_its_own_colour(qtbot):
    feed = Feed(compare=False, batchnorm=True)
    panel = _panel(qtbot, LossPanel, feed)
    panel.render(feed.frame())
    switched = feed.t.step_count
    feed.t.set_batchnorm(False)
    panel.render(feed.frame())
    before, after = panel.runs["net"], panel.runs["net#1"]
    assert _rgb(before.smoothed) == style.BN_COLOR and _rgb(after.smoothed) == style.PLAIN_COLOR
    assert before.smoothed.series[0].max() == switched  # up to the switch, trained with BN
    assert after.smoothed.series[0].min() == switched  # from it on, without (joined at it)
    legend = [label.text for _, label in panel.legend.items]
    assert "BN: train (smoothed)" in legend and "no BN: train (smoothed)" in legend
    feed.t.set_batchnorm(True)
    panel.render(feed.frame())
    assert _rgb(panel.runs["net#2"].smoothed) == style.BN_COLOR
    assert len(panel.legend.items) == 4  # one pair of entries per state, not per segment
    bands = PercentilePanel()
    qtbot.addWidget(bands)
    bands.set_dataset(feed.t.data)
    bands.render(feed.frame())
    assert [b.color for b in bands.bands.values()] == [
        style.BN_COLOR,
        style.PLAIN_COLOR,
        style.BN_COLOR,
    ]
    assert bands.bands["net"].median.xData.max() == switched


def test_twins_of_another_setting_are_told_apart_by_their_values(qtbot):
    feed = Feed(compare_setting="lr", compare_value="0.05")
    panel = _panel(qtbot, LossPanel, feed)
    panel.render(feed.frame())
    assert list(panel.runs) == ["lr=0.5", "lr=0.05"]
    legend = [label.text for _, label in panel.legend.items]
    assert legend[0] == "lr=0.5: train (smoothed)" and "lr=0.05: validation" in legend
    first, second = (_rgb(panel.runs[r].smoothed) for r in ("lr=0.5", "lr=0.05"))
    assert (first, second) == style.TWIN_COLORS


def test_log_x_and_the_first_n_steps(qtbot):
    feed = Feed()
    panel = _panel(qtbot, LossPanel, feed)
    panel.render(feed.frame(steps=400))
    panel.first_steps.setValue(50)
    assert panel.loss_plot.getViewBox().viewRange()[0][1] == pytest.approx(50)
    panel.log_x.setChecked(True)
    assert panel.loss_plot.getAxis("bottom").logMode and panel.runs["bn"].val.opts["logMode"][0]
    assert panel.loss_plot.getViewBox().viewRange()[0][1] == pytest.approx(np.log10(50))
    np.testing.assert_allclose(panel.runs["bn"].smoothed.xData[:3], np.log10([1, 2, 3]))
    panel.first_steps.setValue(0)
    assert panel.loss_plot.getViewBox().viewRange()[0][1] >= np.log10(400)


def test_the_scatter_draws_a_fixed_capped_subset_of_a_large_training_set(qtbot):
    from bnviz.data.dataset import standardize_split
    from bnviz.gui.panels.softmax import MAX_POINTS, plotted_indices

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50_000, 2))
    y = (X[:, 0] > 0).astype(np.intp)
    data = standardize_split(X, y, val_fraction=0.2, seed=0, name="big")
    panel = SoftmaxPanel()
    qtbot.addWidget(panel)
    panel.set_dataset(data)
    first = panel.points.data["data"].astype(np.intp)
    assert len(first) == MAX_POINTS < len(data.X_train)
    panel.set_dataset(data)  # the same points again: nothing jumps
    np.testing.assert_array_equal(panel.points.data["data"].astype(np.intp), first)
    np.testing.assert_array_equal(first, plotted_indices(len(data.X_train)))
    np.testing.assert_allclose(panel.points.data["x"], data.X_train[first, 0])


# -- softmax explained: temperature, hardmax, per-class maps, C = 2, no hidden layer -----------
def test_temperature_sharpens_or_flattens_the_bars_and_keeps_the_argmax(qtbot):
    feed = Feed()
    panel = _panel(qtbot, SoftmaxPanel, feed)
    frame = feed.frame(steps=60)
    panel.render(frame)
    z = np.asarray(_snap(frame, "bn").evaluation.val_logits[0], dtype=np.float64)
    a1 = panel.bars["a"].opts["height"].copy()
    k = int(np.argmax(z))
    np.testing.assert_array_equal(panel.bars["hardmax"].opts["height"], np.eye(len(z))[k])
    assert "at T = 1: the loss trained on" in panel.notes.loss_label.text()
    panel.set_temperature(0.1)
    sharp = panel.bars["a"].opts["height"].copy()
    panel.temperature.slider.setValue(panel.temperature.slider.maximum())  # T = 20
    assert panel.temperature.temperature == pytest.approx(20.0)
    flat = panel.bars["a"].opts["height"].copy()
    assert sharp[k] > a1[k] > flat[k]  # the top probability sharpens / flattens
    assert np.ptp(flat) < np.ptp(a1) < np.ptp(sharp)
    for a in (sharp, flat):
        assert int(np.argmax(a)) == k and a.sum() == pytest.approx(1.0)
    # a = softmax(z / T), from the formula itself
    np.testing.assert_allclose(flat, np.exp(z / 20) / np.exp(z / 20).sum(), rtol=1e-9)
    y = int(feed.t.data.y_val[0])
    assert f"-log a_y = {-np.log(flat[y]):.4g} at T = 20" in panel.notes.loss_label.text()
    assert "argmax unchanged" in panel.notes.loss_label.text()
    np.testing.assert_array_equal(panel.bars["hardmax"].opts["height"], np.eye(len(z))[k])


def test_temperature_redraws_the_regions_but_not_their_borders(qtbot):
    feed = Feed()
    panel = _panel(qtbot, SoftmaxPanel, feed)
    panel.render(feed.frame(steps=60))
    base = panel.region_proba.copy()
    img = panel.regions.image.copy()
    for T in (0.05, 0.5, 5.0, 20.0):
        panel.set_temperature(T)
        np.testing.assert_array_equal(panel.region_proba.argmax(-1), base.argmax(-1))
        assert "same borders" in panel.left_plot.titleLabel.text
    # flatter at T = 20: every pixel's top probability nearer chance, so the colours paler
    assert (panel.region_proba.max(-1) <= base.max(-1) + 1e-12).all()
    assert panel.regions.image.astype(int).sum() > img.astype(int).sum()


def test_per_class_maps_hold_each_class_probability(qtbot):
    feed = Feed(dataset="blobs", n_classes=4)
    panel = _panel(qtbot, SoftmaxPanel, feed)
    assert not panel.per_class.isChecked() and panel.maps not in panel.export_items()
    panel.per_class.setChecked(True)
    panel.render(feed.frame())
    panel.set_temperature(3.0)
    assert len(panel.maps.images) == 4 and panel.maps in panel.export_items()
    maps = np.stack([im.image for im in panel.maps.images], axis=-1)
    assert maps.shape == (GRID_POINTS, GRID_POINTS, 4)
    np.testing.assert_allclose(maps.sum(axis=-1), 1.0, rtol=1e-9)
    np.testing.assert_array_equal(maps.argmax(-1), panel.region_proba.argmax(-1))
    assert all(tuple(im.levels) == (0.0, 1.0) for im in panel.maps.images)
    # in their own window, each map at least 160 px with its colour scale 0..1
    window = panel.maps_window
    assert window.isVisible() and window.maps is panel.maps
    qtbot.waitUntil(lambda: all(p.vb.width() >= 160 for p in panel.maps.plots), timeout=3000)
    assert all(p.vb.height() >= 160 for p in panel.maps.plots), [
        p.vb.height() for p in panel.maps.plots
    ]
    assert [tuple(b.levels()) for b in panel.maps.bars] == [(0.0, 1.0)] * 4
    panel.per_class.setChecked(False)
    assert panel.maps not in panel.export_items() and not window.isVisible()
    panel.per_class.setChecked(True)
    window.close()  # closing the window unticks the box
    assert not panel.per_class.isChecked() and panel.maps not in panel.export_items()


def test_two_classes_show_softmax_equals_the_sigmoid_of_the_logit_difference(qtbot):
    from bnviz.gui.panels.softmax import LINE

    feed = Feed(dataset="moons", n_classes=2)
    panel = _panel(qtbot, SoftmaxPanel, feed)
    assert LINE in panel.probe_requests()
    frame = feed.frame()
    frame.probes.update(feed.probes.collect([LINE], ProbeContext(feed.t), 0.0)[0])
    panel.render(frame)
    for T in (1.0, 0.2):
        panel.set_temperature(T)
        z = np.asarray(_snap(frame, "bn").evaluation.val_logits[0], dtype=np.float64)
        a1, sig = panel.logistic
        assert a1 == pytest.approx(sig, abs=1e-9)
        assert a1 == pytest.approx(1 / (1 + np.exp(-(z[1] - z[0]) / T)), abs=1e-12)
        assert f"a_1 = {a1:.10f}" in panel.notes.logistic_label.text()
        c = panel.curves.curves
        assert c.temperature == T and len(c.t) > 10
        np.testing.assert_allclose(c.softmax_p1, c.sigmoid_diff, atol=1e-9)
        np.testing.assert_allclose(panel.curves.softmax.yData, c.softmax_p1)
    assert len(panel.line.xData) == 2  # the line the curves run along, on the map
    assert panel.curves.plot in panel.export_items()
    three = Feed()
    panel.set_dataset(three.t.data)
    panel.render(three.frame())
    assert panel.logistic is None and not panel.notes.logistic_label.isVisible()
    assert panel.curves.plot not in panel.export_items() and LINE not in panel.probe_requests()


def test_no_hidden_layer_softmax_regression_on_4_blobs(qtbot):
    feed = Feed(dataset="blobs", n_classes=4, hidden=(), compare=False)
    panel = _panel(qtbot, SoftmaxPanel, feed)
    panel.per_class.setChecked(True)
    panel.render(feed.frame(steps=200))
    grid = next(iter(feed.probes.collect([REGIONS], ProbeContext(feed.t), 0.0)[0].values()))[0]
    # softmax regression: z is affine in x, so the logits on the grid are a plane per class
    z = np.asarray(grid.logits, dtype=np.float64)
    np.testing.assert_allclose(np.diff(z, 2, axis=1), 0, atol=1e-4)
    np.testing.assert_allclose(np.diff(z, 2, axis=0), 0, atol=1e-4)
    assert panel.regions.image.shape == (GRID_POINTS, GRID_POINTS, 3)
    assert len(panel.bars["a"].opts["height"]) == 4 and "predicted" in panel.status.text()


def test_bn_off_marker_says_why_the_loss_may_jump(qtbot):
    feed = Feed()
    panel = _panel(qtbot, LossPanel, feed)
    panel.render(feed.frame())
    feed.t.set_batchnorm(False, run="bn")
    panel.render(feed.frame(steps=3))
    (line,) = _event_lines(panel, "BN off")
    assert "the loss may jump" in line.label.toPlainText()
    assert "learning rate chosen with BN" in line.toolTip()
    feed.t.set_hparams(lr=0.02)  # another kind of change carries no such note
    panel.render(feed.frame(steps=3))
    (other,) = _event_lines(panel, "lr 0.5 -> 0.02")
    assert "jump" not in other.label.toPlainText() and "jump" not in other.toolTip()


def test_softmax_bars_carry_numbers_that_check_by_hand(qtbot):
    """Under each bar its z, t and a: t = e^(z - max z) and a = t / sum(t) hold for the printed
    numbers, to their printed precision."""
    from bnviz.gui.panels.softmax_bars import SoftmaxBars

    view = pg.GraphicsLayoutWidget()
    qtbot.addWidget(view)
    bars = SoftmaxBars(view.ci, col=0)
    bars.set_classes(["0", "1", "2"], list(style.CLASS_COLORS[:3]))
    z = np.array([-2.76, 2.26, 1.39])
    bars.show(z, 1.0, true=2)

    def printed(name: str) -> np.ndarray:
        (major,) = bars.plots[name].getAxis("bottom")._tickLevels
        return np.array([float(text.split("\n")[0]) for _, text in major])

    zp, tp, ap = printed("z"), printed("t"), printed("a")
    np.testing.assert_allclose(zp, z, atol=0.005)
    np.testing.assert_allclose(tp, np.exp(zp - zp.max()), rtol=0.06)  # 2 significant digits
    np.testing.assert_allclose(ap, tp / tp.sum(), rtol=0.06)
    assert [t.split("\n")[1] for _, t in bars.a_plot.getAxis("bottom")._tickLevels[0]] == [
        "0",
        "1",
        "2",
    ]
    # ten classes: the true and the predicted class carry numbers, the others keep quiet
    bars.set_classes([str(c) for c in range(10)], [style.CLASS_COLORS[0]] * 10)
    z10 = np.linspace(-1, 1, 10)
    bars.show(z10, 1.0, true=3)
    (major,) = bars.z_plot.getAxis("bottom")._tickLevels
    assert [c for c, text in major if text] == [3.0, 9.0]


@pytest.mark.parametrize("temperature", [1.0, 0.2])
def test_the_c_2_line_is_never_cut(qtbot, temperature):
    """Both lines of "C = 2 is logistic regression" fit the softmax panel's width at 1024 x 640
    (about 390 pixels; it read "(differer" even at 1920 as one line)."""
    from bnviz.gui.panels.softmax_notes import ExampleNotes

    notes = ExampleNotes()
    qtbot.addWidget(notes)
    notes.set_classes(2)
    notes.resize(390, 80)
    notes.show()
    notes.describe("validation example #0", np.array([0.3, -1.7]), np.array([0.88, 0.12]), 0,
                   ["0", "1"], temperature)  # fmt: skip
    label = notes.logistic_label
    lines = label.text().split("\n")
    assert len(lines) == 2 and "diff." in lines[1]
    width = label.contentsRect().width()
    assert all(label.fontMetrics().horizontalAdvance(line) <= width for line in lines)
    qtbot.waitUntil(lambda: label.height() >= 2 * label.fontMetrics().lineSpacing(), timeout=2000)


def test_bar_numbers_stay_short():
    from bnviz.gui.panels.softmax_bars import value_text

    assert value_text("z", -3.14159) == "-3.14"
    assert [value_text("t", v) for v in (1.0, 0.0123, 1.9e-5, 0.0)] == ["1", ".012", "2e-5", "0"]
    assert all(len(value_text("a", v)) <= 5 for v in np.geomspace(1e-12, 1, 50))
