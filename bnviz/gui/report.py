"""File > Export report...: one self-contained HTML file of what the window shows.

Every visible view's plots as PNG data URIs (no other file, no network), the settings, the data
set, the last metrics of each network, the open lesson's guidance, the date and the version.
A playing run is paused while the report is made, so every plot shows the step the metrics table
gives; each tab is brought up and drawn from the latest frame (with its probes) before it is
grabbed, and a lesson's plots are captioned with that step and the numbers of its status line.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage, QTextDocument
from PySide6.QtWidgets import QLabel, QWidget

from bnviz.gui.export import brought_up, wait_for_frame
from bnviz.gui.lessons import LessonView
from bnviz.gui.style import run_label
from bnviz.gui.window_api import AppWindow


def bnviz_version() -> str:
    """The installed package's version (the gui may not import the package's face)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bnviz")
    except PackageNotFoundError:
        return "unknown"


STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 24px auto; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #f2f2f2; text-align: left; } td.num { text-align: right; }
.guidance { background: #eaf2fb; border-left: 4px solid #6d9bd1; padding: 8px 12px; }
.caption { color: #444; font-size: 13px; }
figure { display: inline-block; margin: 6px; vertical-align: top; }
img { max-width: 100%; border: 1px solid #ddd; }
"""


def png_data_uri(image: QImage) -> str:
    """``data:image/png;base64,...`` of ``image``."""
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    # PySide6 6.11 stubs type the format as bytes; at run time only a str is accepted
    if not image.save(buf, "PNG"):  # type: ignore[call-overload]
        raise OSError("a plot could not be encoded as PNG")
    return "data:image/png;base64," + base64.b64encode(data.data()).decode("ascii")


def item_image(item: Any) -> QImage:
    """A plot item (PlotItem / GraphicsLayout) rendered like File > Export plot's PNG."""
    import pyqtgraph.exporters as ex

    image = ex.ImageExporter(item).export(toBytes=True)
    if image is None or image.isNull():
        raise OSError("a plot could not be rendered")
    return image


def view_images(win: AppWindow) -> list[tuple[str, list[QImage], str]]:
    """(title, images, caption) of every view the report shows: the training panels the layout
    has not folded away, the explorer when it has trials, and every open lesson tab. Each view
    is brought up and drawn from the latest frame first (:func:`~bnviz.gui.export.brought_up`):
    a hidden tab keeps what it last drew. A lesson's caption is its step and the numbers its
    status line shows."""
    out: list[tuple[str, list[QImage], str]] = []
    panels = [p for p in win.panels.values() if p.width() > 1 and p.isVisibleTo(win.training_tab)]
    with brought_up(win, win.training_tab, panels):  # folded panels (width 0) are left out
        for panel in panels:
            out.append((panel.title, [item_image(i) for i in panel.export_items()], ""))
    explorer = getattr(win, "explorer", None)
    if explorer is not None and getattr(explorer, "trials", None):
        out.append(("Hyperparameters", [item_image(i) for i in explorer.export_items()], ""))
    lessons = [win.tabs.widget(i) for i in range(win.tabs.count())]
    for view in [v for v in lessons if isinstance(v, LessonView)]:
        with brought_up(win, view, [view]):
            items = view.export_items()
            images = [item_image(x) for x in items] if items else [_grab(view)]
            out.append((view.title, images, lesson_caption(win, view)))
    return [(t, imgs, c) for t, imgs, c in out if imgs]


def lesson_caption(win: AppWindow, view: LessonView) -> str:
    """ "at step N" of the frame the view was drawn from, and its status line's numbers."""
    step = f"at step {win.frame.snapshots[0].step:,}" if win.frame is not None else ""
    status = getattr(view, "status", None)
    text = status.text() if isinstance(status, QLabel) else ""
    if text:
        doc = QTextDocument()
        doc.setHtml(text)
        text = doc.toPlainText().strip()
    return ": ".join(part for part in (step, text) if part)


def paused_for_report(win: AppWindow) -> bool:
    """Pause a playing run and wait until the frames stop moving, so every plot of the report
    shows one step (the one its metrics table gives); True when it was playing."""
    if not win.playing:
        return False
    win.toggle_play()
    last = None
    for _ in range(40):  # the pause reaches the trainer a step or two later
        if not wait_for_frame(win, [], timeout_s=0.5):
            break
        assert win.frame is not None  # wait_for_frame saw a new one
        steps = [s.step for s in win.frame.snapshots]
        if steps == last:
            break
        last = steps
    return True


def _grab(widget: QWidget) -> QImage:
    """The widget as drawn; a lesson's whole page, not the part its scroll area shows."""
    scroll = getattr(widget, "page_scroll", None)
    page = scroll.widget() if scroll is not None else None
    return (page or widget).grab().toImage()


def metrics_rows(win: AppWindow) -> list[dict[str, str]]:
    """The last metrics of each network on screen (one row per network)."""
    rows = []
    for s in win.frame.snapshots if win.frame is not None else ():
        ev = s.evaluation
        rows.append({
            "network": run_label(s.run, s.batchnorm),
            "step": f"{s.step:,}",
            "epoch": str(s.epoch),
            "smoothed loss": _num(s.smoothed_loss),
            "train loss": _num(ev.train_loss if ev else math.nan),
            "val loss": _num(ev.val_loss if ev else math.nan),
            "val accuracy": f"{ev.val_acc:.1%}" if ev else "-",
            "diverged": f"at step {s.diverged_step}" if s.diverged_step is not None else "no",
        })  # fmt: skip
    return rows


def _num(v: float) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v:.4f}"


def _table(rows: list[dict[str, str]]) -> str:
    if not rows:
        return "<p>(no metrics yet)</p>"
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r.values()) + "</tr>" for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def build_report(win: AppWindow, now: dt.datetime | None = None) -> str:
    """The report's HTML text (see the module docstring). A playing run is paused while the
    plots are drawn (and resumed after), so plots and metrics show the same step."""
    now = now or dt.datetime.now()
    resume = paused_for_report(win)
    try:
        plots = view_images(win)
    finally:
        if resume:
            win.toggle_play()
    config, data = win.config, win.data
    parts = [
        f"<h1>bnviz report: {html.escape(data.name)}</h1>",
        f"<p>{now:%Y-%m-%d %H:%M} &middot; bnviz {html.escape(bnviz_version())}</p>",
    ]
    preset = getattr(win, "preset", None)
    if preset is not None and preset.lesson is not None:
        lesson = preset.lesson
        parts += [f"<h2>Lesson: {html.escape(lesson.title)}</h2>",
                  f"<p class='guidance'>{html.escape(lesson.guidance)}</p>"]  # fmt: skip
    parts += ["<h2>Final metrics</h2>", _table(metrics_rows(win))]
    parts.append("<h2>Plots</h2>")
    for title, images, caption in plots:
        figs = "".join(
            f"<figure><img alt='{html.escape(title)} {i + 1}' src='{png_data_uri(img)}'></figure>"
            for i, img in enumerate(images)
        )
        cap = f"<p class='caption'>{html.escape(caption)}</p>" if caption else ""
        parts.append(f"<h3>{html.escape(title)}</h3>{cap}{figs}")
    n_train, n_val = len(data.y_train), len(data.y_val)
    parts += ["<h2>Data set</h2>", _table([{
        "name": data.name, "features": str(data.n_features), "classes": str(data.n_classes),
        "training examples": f"{n_train:,}", "validation examples": f"{n_val:,}",
    }])]  # fmt: skip
    settings = [{"setting": k, "value": _value(v)} for k, v in config.to_dict().items()]
    parts += ["<h2>Settings</h2>", _table(settings)]
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>bnviz report: {html.escape(data.name)}</title><style>{STYLE}</style></head>"
        f"<body>\n{body}\n</body></html>\n"
    )


def _value(v: object) -> str:
    if isinstance(v, list | tuple):
        return ",".join(map(str, v)) or "none"
    return f"{v:g}" if isinstance(v, float) else str(v)


def write_report(win: AppWindow, path: str | Path) -> Path:
    """Write :func:`build_report` to ``path``; raises OSError when it cannot."""
    path = Path(path)
    if not path.resolve().parent.is_dir():
        raise OSError(f"folder of {path} does not exist")
    path.write_text(build_report(win), encoding="utf-8")
    return path
