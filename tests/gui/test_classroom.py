"""The classroom: a preset opens with its guidance shown, classroom mode hides controls and
scales fonts and lines and round-trips through a settings file, Save as lesson writes a file
--preset opens, the report is one self-contained HTML file, and every view has its "?"."""

from __future__ import annotations

import base64
from html.parser import HTMLParser

import pyqtgraph as pg
import pytest

from bnviz.gui import classroom_menus as cm
from bnviz.gui import menus
from bnviz.gui.classroom import control_rows
from bnviz.gui.help_button import FORMULAS, HelpButton
from bnviz.gui.main_window import MIN_WINDOW
from bnviz.lessons.presets import Classroom, load_preset


@pytest.fixture
def win(small_window):
    return small_window


def _small(name: str):
    """A shipped preset on fewer samples, so the test trains fast (its lesson unchanged)."""
    from dataclasses import replace

    p = load_preset(name)
    return replace(p, config=replace(p.config, n_samples=200))


def test_a_preset_opens_with_its_guidance_beside_the_plots(win, qtbot):
    preset = _small("no-hidden-layer")
    assert win.reset(preset.config)
    cm.show_preset(win, preset)
    strip = win.lesson_strip
    assert strip.isVisible() and "No hidden layer" in strip.label.text()
    assert "softmax regression" in strip.label.text().lower()
    assert win.config.hidden == () and win.tabs.currentWidget() is win.training_tab
    win.resize(*MIN_WINDOW)  # the smallest window: the strip stays a few lines high
    qtbot.waitUntil(lambda: win.width() <= MIN_WINDOW[0] + 1)
    assert strip.height() < 0.2 * win.height()
    assert win.training_tab.height() > 0.55 * win.height()
    strip.close_button.click()
    assert not strip.isVisible()
    win.guidance_action.trigger()  # View > Lesson guidance brings it back
    assert strip.isVisible()


def test_open_preset_by_name_from_the_menu(win, qtbot):
    titles = [a.text() for a in _presets_menu(win).actions() if a.text()]
    assert titles[0] == "Deep sigmoid net, BN vs plain" and "Open lesson file..." in titles
    assert cm.open_preset(win, "c-2-logistic-regression")
    assert win.config.n_classes == 2 and win.preset.name == "c-2-logistic-regression"
    assert not cm.open_preset(win, "nope")
    assert "no preset named 'nope'" in win.status_message.text()
    assert win.config.n_classes == 2  # the open run goes on


def _presets_menu(win):
    lessons = next(a.menu() for a in win.menuBar().actions() if a.text() == "&Lessons")
    return next(a.menu() for a in lessons.actions() if a.text() == "Presets")


def _widths(win) -> list[float]:
    """Every plot's line widths, each tab's as it is when shown (another tab's plots are
    scaled when their tab is shown)."""
    current, widths = win.tabs.currentIndex(), []
    for index in range(win.tabs.count()):
        win.tabs.setCurrentIndex(index)
        widths += [
            pg.mkPen(i.opts["pen"]).widthF()
            for v in win.tabs.widget(index).findChildren(pg.GraphicsView)
            for i in v.scene().items()
            if isinstance(i, pg.PlotDataItem) and i.opts.get("pen") is not None
        ]
    win.tabs.setCurrentIndex(current)
    return widths


def test_classroom_mode_round_trips_through_a_settings_file(win, qtbot, tmp_path):
    qtbot.waitUntil(lambda: win.frame is not None, timeout=10000)
    rows = control_rows(win.controls)
    assert {"noise", "seed", "lr", "play_button", "bn"} <= set(rows)
    font0, widths0 = win.font().pointSizeF(), _widths(win)
    state = Classroom(True, ("noise", "seed", "bn_momentum", "eps"), 2.0)
    cm.set_classroom(win, state)
    assert not win.controls.noise.isVisible() and not win.controls.seed.isVisible()
    assert win.controls.lr.isVisible()
    assert win.font().pointSizeF() == pytest.approx(2 * font0)
    assert sorted(_widths(win)) == pytest.approx(sorted(2 * max(1.0, w) for w in widths0))
    path = tmp_path / "class.json"
    assert menus.save_settings(win, str(path))
    cm.set_classroom(win, Classroom(False, state.hidden, 2.0))  # off: all back as it was
    assert win.controls.noise.isVisible() and win.font().pointSizeF() == pytest.approx(font0)
    assert sorted(_widths(win)) == pytest.approx(sorted(widths0))
    # every tab shown since: no plot is left at the old scale, and the refresh timer stops
    qtbot.waitUntil(lambda: not win.classroom._timer.isActive(), timeout=3000)
    assert menus.open_settings(win, str(path))  # the teacher's file opens in classroom mode
    assert win.classroom.state == state and win.classroom_action.isChecked()
    assert not win.controls.noise.isVisible() and not win.controls.eps.isVisible()
    assert win.font().pointSizeF() == pytest.approx(2 * font0)


def test_an_unknown_control_in_a_file_is_reported(win):
    cm.set_classroom(win, Classroom(True, ("noise", "colour"), 1.5))
    assert "no control named colour" in win.status_message.text()
    assert not win.controls.noise.isVisible()


def test_save_as_lesson_writes_a_file_that_opens_as_a_preset(win, qtbot, tmp_path):
    cm.set_classroom(win, Classroom(True, ("seed",), 1.25))
    name = next(iter(win.lessons))
    win.open_lesson(name)
    path = tmp_path / "mine"
    assert cm.save_lesson(win, str(path), "My BN lesson", "Press B and watch the loss.")
    preset = load_preset(str(path) + ".json")
    assert preset.lesson.name == "my-bn-lesson" and preset.lesson.title == "My BN lesson"
    assert preset.lesson.guidance == "Press B and watch the loss."
    assert preset.lesson.view == win.lessons[name].slug()
    assert preset.classroom == Classroom(True, ("seed",), 1.25)
    assert preset.config == win.controls.config()


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href", "srcset", "poster", "data"):
                self.links.append((tag, k, v or ""))


def test_report_is_one_self_contained_html_file(win, qtbot, tmp_path):
    preset = _small("softmax-4-classes")
    assert win.reset(preset.config)
    cm.show_preset(win, preset)
    qtbot.waitUntil(
        lambda: win.frame is not None and win.frame.snapshots[0].evaluation is not None,
        timeout=15000,
    )
    path = tmp_path / "r.html"
    assert cm.export_report(win, str(path))
    text = path.read_text()
    parser = _Collect()
    parser.feed(text)
    parser.close()
    assert parser.tags[:3] == ["html", "head", "meta"] and "table" in parser.tags
    imgs = [v for tag, k, v in parser.links if tag == "img"]
    assert len(imgs) >= len(win.panels)  # every visible panel's plot
    assert all(v.startswith("data:image/png;base64,") for v in imgs)
    assert all(base64.b64decode(v.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n" for v in imgs)
    assert [link for link in parser.links if not link[2].startswith("data:")] == []
    assert "http://" not in text and "https://" not in text
    assert "Softmax with 4 classes" in text and "a = t / sum(t)" in text  # the guidance
    assert "val accuracy" in text and "<td>BN</td>" in text  # metrics per network
    assert "<td>blobs</td>" in text and "bnviz 0." in text
    assert not cm.export_report(win, str(tmp_path / "no" / "dir" / "r.html"))
    assert "does not exist" in win.status_message.text()


def test_every_view_has_a_help_button_with_its_formula(win, qtbot):
    views = [*win.panels.values(), win.explorer]  # built after the first paint: now
    buttons = {b.parent(): b for b in win.findChildren(HelpButton)}
    assert all(v in buttons for v in views)
    expected = {
        "activations": "z<sub>norm</sub>",
        "loss": "(1 - &beta;<sup>t</sup>)",
        "softmax": "t = e<sup>z</sup>",
        "hyperparameters": "&alpha; = 10<sup>r</sup>",
    }
    for name, fragment in expected.items():
        assert fragment in FORMULAS[name][1]
    for name, button in win.help_buttons.items():
        box = button.message_box()
        assert FORMULAS[name][0] in box.text() and box.textFormat().name == "RichText"
        box.deleteLater()
    soft = win.help_buttons["softmax"]
    assert soft.isVisible() and soft.x() + soft.width() <= win.panels["softmax"].width()


def test_preset_flag_gives_the_app_its_settings_view_and_guidance(monkeypatch, capsys):
    from bnviz import cli

    seen = []
    monkeypatch.setattr(
        "bnviz.gui.app.run_app", lambda config, **kw: seen.append((config, kw)) or 0
    )
    assert cli.main(["--preset", "loss-landscape", "--lr", "0.2"]) == 0
    config, kw = seen[-1]
    assert (config.dataset, config.hidden, config.lr) == ("digits", (100, 100, 100), 0.2)
    assert kw["preset"].lesson.title == "Loss landscape" and kw["lesson"] == "LandscapeView"
    assert cli.main(["--preset", "no-hidden-layer", "--lesson", "covariate-shift"]) == 0
    assert seen[-1][1]["lesson"] == "CovariateShiftView"  # --lesson wins over the preset's view
    monkeypatch.setattr("bnviz.gui.lessons.find_lesson", lambda slug: None)
    assert cli.main(["--preset", "mini-batch-noise"]) == 0  # its view missing: a warning only
    assert seen[-1][1]["lesson"] is None
    assert "'mini-batch-noise' is not installed" in capsys.readouterr().err


@pytest.mark.slow
def test_report_flag_trains_writes_and_exits(tmp_path):
    import os
    import subprocess
    import sys

    out = tmp_path / "r.html"
    proc = subprocess.run(
        [sys.executable, "-m", "bnviz", "--preset", "no-hidden-layer", "--samples", "200",
         "--report", str(out), "--run-for", "1"],
        capture_output=True, text=True, timeout=120,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path)),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "No hidden layer" in text and text.count("data:image/png;base64,") >= 4
