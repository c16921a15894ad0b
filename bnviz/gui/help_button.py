"""A small "?" in the top-right corner of each view that shows its formula and what it means.

The texts are Qt rich text (no web engine), kept here in one place (:data:`FORMULAS`, keyed by
the panel names of the main window and "hyperparameters" for the explorer). The button floats
over its view (an overlay, kept in the corner as the view resizes), so adding one touches no
panel module: :func:`add_help_buttons` puts one on every view that has a text.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtWidgets import QMessageBox, QToolButton, QWidget

from bnviz.gui.window_api import AppWindow

MARGIN = 2

_F = "<p style='font-family: serif; font-size: 14px; margin-left: 12px;'>{}</p>"

FORMULAS: dict[str, tuple[str, str]] = {
    "activations": (
        "Batch norm, unit by unit",
        "<p>For one hidden unit over a mini-batch of m examples, batch norm takes z = W a + b and"
        " computes:</p>"
        + _F.format(
            "&mu; = (1/m) &Sigma;<sub>i</sub> z<sup>(i)</sup><br>"
            "&sigma;<sup>2</sup> = (1/m) &Sigma;<sub>i</sub> (z<sup>(i)</sup> - &mu;)<sup>2</sup>"
            "<br>z<sub>norm</sub> = (z - &mu;) / &radic;(&sigma;<sup>2</sup> + &epsilon;)<br>"
            "z&#771; = &gamma; z<sub>norm</sub> + &beta;, &nbsp; a = g(z&#771;)"
        )
        + "<p>The histograms show z before BN and z&#771; after it on a fixed probe batch. "
        "Without BN the inputs of a sigmoid drift into its flat tails (shaded), where g'(z) is "
        "nearly 0 and learning stalls; with BN each unit's input stays centred while &gamma; and"
        " &beta; learn its scale and shift.</p>",
    ),
    "loss": (
        "Smoothed loss: an exponentially weighted average",
        "<p>The thin line is each mini-batch's cross-entropy J; the thick one its exponentially "
        "weighted moving average with bias correction:</p>"
        + _F.format(
            "v<sub>t</sub> = &beta; v<sub>t-1</sub> + (1 - &beta;) J<sub>t</sub>, &nbsp; "
            "v<sub>0</sub> = 0, &nbsp; &beta; = 0.98<br>"
            "v&#770;<sub>t</sub> = v<sub>t</sub> / (1 - &beta;<sup>t</sup>)"
        )
        + "<p>It averages over about 1/(1 - &beta;) = 50 steps. Without the correction the first"
        " values would be pulled towards 0. The accuracy plot is the share of validation "
        "examples whose argmax a is the true class, in eval mode.</p>",
    ),
    "percentiles": (
        "The distribution of z&#771; over time",
        "<p>The band is the 15th to 85th percentile and the line the median of the activation "
        "input z&#771; of one layer, over training steps (the BN paper's Figure 1):</p>"
        + _F.format(
            "z&#771; = &gamma; (z - &mu;) / &radic;(&sigma;<sup>2</sup> + &epsilon;)"
            " + &beta; &nbsp; (with BN), &nbsp; z&#771; = z = W a + b (without)"
        )
        + "<p>Without BN the band wanders and widens as the layers below learn (the "
        "distribution a layer sees keeps shifting); with BN it stays put and moves only as "
        "&gamma; and &beta; learn.</p>",
    ),
    "softmax": (
        "Softmax: scores to probabilities",
        "<p>The output layer has one unit per class, C in all. For the picked example:</p>"
        + _F.format(
            "z = W a + b &nbsp; (C scores)<br>t = e<sup>z</sup> &nbsp; (element-wise, all "
            "positive)<br>a = t / &Sigma;<sub>j</sub> t<sub>j</sub> &nbsp; (sums to 1)<br>"
            "prediction = argmax a, &nbsp; loss = -log a<sub>y</sub>"
        )
        + "<p>The bars show z, t and a linked. The map colours each point of the plane by the "
        "argmax class, paler where the largest a is small (the network is unsure). With C = 2, "
        "a<sub>1</sub> = 1 / (1 + e<sup>-(z1 - z0)</sup>): logistic regression.</p>",
    ),
    "confusion": (
        "The confusion matrix",
        "<p>Row = true class y, column = predicted class argmax a, counted on the validation set"
        " in eval mode (BN uses its running averages):</p>"
        + _F.format(
            "accuracy = &Sigma;<sub>c</sub> N<sub>cc</sub> / &Sigma;<sub>c,k</sub> "
            "N<sub>ck</sub> &nbsp; (the diagonal over all)"
        )
        + "<p>Off-diagonal cells show which classes the network mixes up; a row spread across "
        "many columns is a class it has not learned yet.</p>",
    ),
    "hyperparameters": (
        "Sampling on a log scale",
        "<p>A learning rate between 10<sup>a</sup> and 10<sup>b</sup> is sampled as</p>"
        + _F.format(
            "r ~ uniform[a, b], &nbsp; &alpha; = 10<sup>r</sup><br>"
            "r ~ uniform[a, b], &nbsp; &beta; = 1 - 10<sup>r</sup> &nbsp; (momentum)"
        )
        + "<p>so every decade gets the same share of trials (uniform in &alpha; would put 90% of"
        " 1e-4..1 in [0.1, 1]). &beta; near 1 is sampled through 1 - &beta;, because the average"
        " covers about 1/(1 - &beta;) steps: 0.9 to 0.9005 changes little, 0.999 to 0.9995 "
        "doubles it. Search coarse to fine: a wide round, then a box around the good region.</p>",
    ),
}


class HelpButton(QToolButton):
    """A "?" floating in the top-right corner of ``view``; a click shows ``title`` and
    ``text`` in a message box (rich text)."""

    def __init__(self, view: QWidget, title: str, text: str) -> None:
        super().__init__(view)
        self.title, self.text_html = title, text
        self.setText("?")
        self.setObjectName("help_button")
        self.setToolTip(f"{title}: the formula behind this view")
        self.setAutoRaise(True)
        self.setCursor(Qt.CursorShape.WhatsThisCursor)
        self.setStyleSheet(
            "#help_button { font-weight: bold; color: #1f5fa8; border: 1px solid #9db7d8;"
            " border-radius: 8px; background: #f4f8fd; padding: 0 4px; }"
        )
        self.clicked.connect(self.show_help)
        self._follower = _CornerFollower(self, view)
        self.raise_()

    def message_box(self) -> QMessageBox:
        """The box :meth:`show_help` shows (built apart so a test can read it)."""
        box = QMessageBox(self.window())
        box.setWindowTitle(self.title)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(f"<b>{self.title}</b>{self.text_html}")
        box.setIcon(QMessageBox.Icon.Information)
        return box

    def show_help(self) -> None:
        box = self.message_box()
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # not modal over the training: the plots go on while it is read


class _CornerFollower(QObject):
    """Keeps the button in its view's top-right corner, above the view's own children."""

    def __init__(self, button: QToolButton, view: QWidget) -> None:
        super().__init__(button)
        self.button, self.view = button, view
        view.installEventFilter(self)
        self.place()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show, QEvent.Type.LayoutRequest):
            self.place()
        return False

    def place(self) -> None:
        self.button.adjustSize()
        x = self.view.width() - self.button.width() - MARGIN
        self.button.move(QPoint(max(0, x), MARGIN))
        self.button.raise_()


def add_help_buttons(win: AppWindow) -> dict[str, HelpButton]:
    """One "?" on each training panel and on the explorer, by :data:`FORMULAS`' names."""
    views: dict[str, QWidget] = dict(win.panels)
    explorer = getattr(win, "explorer", None)  # the tab exists when its module is present
    if explorer is not None:
        views["hyperparameters"] = explorer
    return {
        name: HelpButton(view, *FORMULAS[name]) for name, view in views.items() if name in FORMULAS
    }
