"""Record and replay: every frame the live window drew, replayed, puts the same data in every
plot of every panel (lines, points, images, bars, texts), frame by frame; the scrubber and the
command line around it."""

from __future__ import annotations

import hashlib

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QLabel

from bnviz.cli import main
from bnviz.gui import export_menus
from bnviz.gui.replay import ReplayWindow, recorded_data
from bnviz.train.recording import Recording

FRAMES = 12


def _digest(*arrays) -> str:
    h = hashlib.sha1()
    for a in arrays:
        if a is not None:
            a = np.asarray(a)
            h.update(repr((a.dtype.str, a.shape)).encode() + a.tobytes())
    return h.hexdigest()


def plotted(panel) -> list[str]:
    """What ``panel`` shows, item by item: the data of its visible plot items and its texts
    (sorted: the comparison is of contents, not of the scene's stacking order). A text item
    counts shown or hidden: the loss panel hides a change's label where the view's size leaves
    it no room, and the replay window is not the live window's size."""
    out = []
    for view in panel.findChildren(pg.GraphicsView):
        for item in view.scene().items():
            if not item.isVisible() and not isinstance(item, pg.TextItem):
                continue
            if isinstance(item, pg.PlotCurveItem):
                out.append("curve " + _digest(*item.getData()))
            elif isinstance(item, pg.ScatterPlotItem):
                x, y = item.getData()
                out.append(f"points {_digest(x, y)} {len(item.data)}")
            elif isinstance(item, pg.ImageItem):
                out.append("image " + _digest(item.image))
            elif isinstance(item, pg.BarGraphItem):
                opts = item.opts
                out.append("bars " + _digest(*(opts.get(k) for k in ("x", "height", "y0"))))
            elif isinstance(item, pg.TextItem):
                out.append("text " + item.textItem.toPlainText())
            elif isinstance(item, pg.LabelItem):
                out.append("label " + item.text)
    out += ["qlabel " + w.text() for w in panel.findChildren(QLabel) if w.isVisible()]
    return sorted(out)


def test_replay_draws_every_recorded_frame_as_it_was_drawn(
    small_window, qtbot, tmp_path, monkeypatch
):
    # The activations panel refreshes its stats text a few times a second only (a rate, not
    # data): drawn every frame here, live and replayed, so each frame's text is compared.
    monkeypatch.setattr("bnviz.gui.panels.activations.TEXT_INTERVAL_S", 0.0)
    win, path, live = small_window, tmp_path / "run.bnrec", []
    assert export_menus.start_recording(win, str(path))
    recorder = win.recorder
    add = recorder.add

    def add_and_capture(*args, **kwargs):
        add(*args, **kwargs)
        for panel in win.panels.values():  # every panel, whatever its own drawing rate
            panel.render(win.frame)
        live.append({name: plotted(p) for name, p in win.panels.items()})

    recorder.add = add_and_capture
    qtbot.waitUntil(lambda: len(live) >= FRAMES // 2, timeout=20000)
    win.toggle_bn()  # an event mid-recording (B)
    qtbot.waitUntil(lambda: len(live) >= FRAMES, timeout=20000)
    assert export_menus.stop_recording(win)
    assert win.recorder is None and not win.record_action.isChecked()

    recording = Recording.open(path)
    assert len(recording) == len(live)
    assert recording.steps == sorted(set(recording.steps))
    last = recording.frame(recording.steps[-1])
    assert set(last) == {"net"} and any(e.kind in ("bn_on", "bn_off") for e in last["net"].events)
    replay = ReplayWindow(recording, recorded_data(recording))
    qtbot.addWidget(replay)
    replay.show()
    for i, drawn in enumerate(live):
        replay.timeline.go_to(i)  # the scrubber drives the panels
        for name, panel in replay.panels.items():
            assert plotted(panel) == drawn[name], f"frame {i}, panel {name}"
    assert any("image" in e for e in live[-1]["softmax"])  # the decision regions came along


def _recorded_and_replayed(win, qtbot, tmp_path, frames: int):
    """Record ``frames`` frames of the live window, and a replay window on them."""
    path = tmp_path / "run.bnrec"
    assert export_menus.start_recording(win, str(path))
    qtbot.waitUntil(
        lambda: win.recorder is not None and win.recorder.frames >= frames, timeout=20000
    )
    export_menus.stop_recording(win)
    recording = Recording.open(path)
    replay = ReplayWindow(recording, recorded_data(recording))
    qtbot.addWidget(replay)
    return recording, replay


def test_timeline_plays_at_a_speed_and_stops_at_the_end(small_window, qtbot, tmp_path):
    recording, replay = _recorded_and_replayed(small_window, qtbot, tmp_path, 6)
    t = replay.timeline
    t.speed.setCurrentIndex(t.speed.findData(8.0))
    t.set_playing(True)
    qtbot.waitUntil(lambda: not t.timer.isActive(), timeout=5000)
    assert t.index == len(recording) - 1 and t.play_button.text() == "Play"
    assert replay.frame.snapshots[0].step == recording.step_at(len(recording) - 1)


def test_record_menu_refuses_a_missing_folder(small_window, tmp_path):
    assert not export_menus.set_recording(small_window, True, str(tmp_path / "no" / "r.bnrec"))
    assert "does not exist" in small_window.status_message.text()
    assert not small_window.record_action.isChecked()


def _future_file(path) -> None:
    import json
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        z.writestr("header.json", json.dumps({"format": "bnviz_recording", "version": 2}))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_text("hello"), "not a bnviz recording"),
        (None, "no such file"),
        (_future_file, "comes from a newer bnviz"),
    ],
)
def test_replay_of_a_bad_file_is_one_line_exit_2(tmp_path, capsys, make, message):
    path = tmp_path / "bad.bnrec"
    if make:
        make(path)
    assert main(["--replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_keys_step_and_jump(small_window, qtbot, tmp_path):
    from PySide6.QtCore import Qt

    recording, replay = _recorded_and_replayed(small_window, qtbot, tmp_path, 4)
    replay.show()
    qtbot.waitExposed(replay)
    for key, index in ((Qt.Key_End, len(recording) - 1), (Qt.Key_Left, len(recording) - 2),
                       (Qt.Key_Home, 0), (Qt.Key_Right, 1)):  # fmt: skip
        qtbot.keyClick(replay.timeline.slider, key)
        assert replay.timeline.index == index
        assert replay.frame.snapshots[0].step == recording.step_at(index)
