"""File > Export report...: one self-contained HTML file of what the window shows.

Every visible view's plots as PNG data URIs (no other file, no network), the settings, the data
set, the last metrics of each network, the open lesson's guidance, the date and the version.
The training panels are drawn from the last frame before they are grabbed, so a report taken
while a lesson's tab is in front still shows them.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget

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


def view_images(win: AppWindow) -> list[tuple[str, list[QImage]]]:
    """(title, images) of every view the report shows: the training panels the layout has not
    folded away, the explorer when it has trials, and every open lesson tab."""
    out: list[tuple[str, list[QImage]]] = []
    current = win.tabs.currentWidget()
    try:
        win.tabs.setCurrentWidget(win.training_tab)
        QApplication.processEvents()
        for panel in win.panels.values():
            if panel.width() <= 1 or not panel.isVisibleTo(win.training_tab):
                continue  # folded at a narrow width, or hidden
            if win.frame is not None:
                panel.render(win.frame)
            out.append((panel.title, [item_image(i) for i in panel.export_items()]))
        explorer = getattr(win, "explorer", None)
        if explorer is not None and getattr(explorer, "trials", None):
            out.append(("Hyperparameters", [item_image(i) for i in explorer.export_items()]))
        for i in range(win.tabs.count()):
            view = win.tabs.widget(i)
            if isinstance(view, LessonView):
                win.tabs.setCurrentWidget(view)
                QApplication.processEvents()
                items = view.export_items()
                images = [item_image(x) for x in items] if items else [_grab(view)]
                out.append((view.title, images))
    finally:
        win.tabs.setCurrentWidget(current)
    return [(t, imgs) for t, imgs in out if imgs]


def _grab(widget: QWidget) -> QImage:
    return widget.grab().toImage()


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
    """The report's HTML text (see the module docstring)."""
    now = now or dt.datetime.now()
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
    for title, images in view_images(win):
        figs = "".join(
            f"<figure><img alt='{html.escape(title)} {i + 1}' src='{png_data_uri(img)}'></figure>"
            for i, img in enumerate(images)
        )
        parts.append(f"<h3>{html.escape(title)}</h3>{figs}")
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
