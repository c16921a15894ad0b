"""Which hyperparameter matters: one bar per sampled parameter.

The bar is |Spearman| between the parameter's axis coordinate and the validation loss
(:func:`bnviz.search.importance.importance`): near 1, ordering trials by this parameter orders
them by loss; near 0, it hardly matters over the range searched. A zoomed round narrows the
range, so its bars shrink: that is the point of zooming. Beside each name, the course's rank
for it (alpha 1; momentum beta, mini-batch size, hidden units 2; layers, decay 3; Adam's beta2
4), and the tooltip says where the study agrees with that order. A parameter no trial could
feel (beta sampled under plain SGD) gets no bar: the title says so, the tooltip why. Each bar
carries its 95% bootstrap interval (how sure the ranking is: rho's interval mapped to |rho|, so it
reaches 0 when the parameter may not matter); under MIN_TRIALS trials a bar is grey, "too few
trials".
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from bnviz.gui import style
from bnviz.search.importance import (
    COURSE_ORDER,
    MIN_TRIALS,
    agreement,
    course_tier,
    importance,
    importance_interval,
    noise_band,
)

BAR_BRUSH = pg.mkBrush(230, 126, 34, 200)
FEW_BRUSH = pg.mkBrush(200, 200, 200, 200)  # too few trials to say
INTERVAL_PEN = pg.mkPen((40, 40, 40), width=1.5)
FANOVA_BRUSH = pg.mkBrush(52, 120, 220)
TITLE = (
    "<span style='color:#222;font-size:9pt'>|rank corr.| with val loss (n: the course's rank)"
    "</span><br><span style='color:#555;font-size:8pt'>95% bootstrap intervals; grey: "
    f"&lt; {MIN_TRIALS} trials; <span style='color:#3478dc'>&#9670;</span> fANOVA</span>"
)
UNFELT_NOTE = (
    "<br><span style='color:#a05000;font-size:8pt'>not ranked: {} (idle: see tooltip)</span>"
)


class ImportanceView(pg.PlotWidget):
    """A bar chart of importance per parameter; the bar item is made once and updated."""

    def __init__(self) -> None:
        super().__init__()
        self.setBackground(style.BACKGROUND)
        p = self.getPlotItem()
        p.setTitle(TITLE)
        p.setMouseEnabled(x=False, y=False)
        p.hideButtons()
        p.setMenuEnabled(False)
        for name in ("left", "bottom"):
            p.getAxis(name).setPen("k")
            p.getAxis(name).setTextPen("k")
        p.setYRange(0, 1, padding=0.02)
        self.bars = pg.BarGraphItem(x=[0], height=[0], width=0.6, brush=BAR_BRUSH, pen="k")
        p.addItem(self.bars)
        self.errors = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), beam=0.25, pen=INTERVAL_PEN)
        p.addItem(self.errors)
        self.fanova_marks = pg.ScatterPlotItem(symbol="d", size=11, brush=FANOVA_BRUSH, pen="k")
        p.addItem(self.fanova_marks)
        self.fanova: dict[str, float] = {}
        self.fanova_note = ""
        self.values: dict[str, float] = {}
        self.intervals: dict[str, tuple[float, float]] = {}
        self.counts: dict[str, int] = {}
        self.unfelt: dict[str, str] = {}
        self.summary = agreement({})
        self.setToolTip(f"{COURSE_ORDER}.")

    def set_trials(
        self,
        columns: dict[str, tuple[np.ndarray, np.ndarray]],
        unfelt: dict[str, str] | None = None,
    ) -> None:
        """Recompute from (axis coordinates, losses) per parameter (inf = diverged), each over
        the trials that sampled that parameter and could feel it
        (:func:`bnviz.search.points.sampled_coords`); ``unfelt`` names the sampled parameters
        no trial could feel (beta under plain SGD), left out and said why
        (:func:`bnviz.search.points.unfelt`)."""
        self.values = {n: importance({n: c}, losses)[n] for n, (c, losses) in columns.items()}
        self.intervals = {n: importance_interval(c, losses) for n, (c, losses) in columns.items()}
        self.counts = {n: len(c) for n, (c, _) in columns.items()}
        self.unfelt = dict(unfelt or {})
        names = list(self.values)
        heights = [0.0 if math.isnan(v) else v for v in self.values.values()]
        x = np.arange(len(names), dtype=float)
        brushes = [BAR_BRUSH if self.counts[n] >= MIN_TRIALS else FEW_BRUSH for n in names]
        self.bars.setOpts(x=x if names else [0], height=heights if names else [0], width=0.6,
                          brushes=brushes if names else [BAR_BRUSH])  # fmt: skip
        known = [i for i, n in enumerate(names) if not math.isnan(self.intervals[n][0])]
        lo = np.array([self.intervals[names[i]][0] for i in known])
        hi = np.array([self.intervals[names[i]][1] for i in known])
        y = np.array([heights[i] for i in known])
        self.errors.setData(
            x=x[known], y=y, top=np.maximum(hi - y, 0), bottom=np.maximum(y - lo, 0)
        )
        labels = [n if course_tier(n) is None else f"{n} ({course_tier(n)})" for n in names]
        self.getPlotItem().getAxis("bottom").setTicks([list(zip(x, labels))])
        self.summary = agreement(self.values)
        left_out = "".join(f"\nNot ranked: {n}: {why}." for n, why in self.unfelt.items())
        course = f"{COURSE_ORDER[0].upper()}{COURSE_ORDER[1:]}"
        each = "".join(f"\n{self._describe(n)}" for n in names)
        self._tooltip = f"{self.summary}.{each}\n{course}.{left_out}"
        self._draw_fanova()
        note = UNFELT_NOTE.format(", ".join(self.unfelt)) if self.unfelt else ""
        self.getPlotItem().setTitle(TITLE + note)
        self.getPlotItem().setXRange(-0.6, max(len(names), 1) - 0.4, padding=0)

    def set_fanova(self, values: dict[str, float] | None, note: str = "") -> None:
        """fANOVA's importances (Optuna's evaluator, a share of the loss's variance each): a
        blue diamond on each bar; None while it is computed or when it cannot be (``note``)."""
        self.fanova, self.fanova_note = dict(values or {}), note
        self._draw_fanova()

    def _draw_fanova(self) -> None:
        names = list(self.values)
        at = [(i, self.fanova[n]) for i, n in enumerate(names) if n in self.fanova]
        self.fanova_marks.setData(x=[i for i, _ in at], y=[v for _, v in at])
        if self.fanova:
            shown = ", ".join(f"{n} {v:.2f}" for n, v in self.fanova.items())
            line = f"fANOVA (Optuna's evaluator, blue diamonds): {shown}"
        else:
            line = (
                self.fanova_note
                or f"fANOVA: after a round ends (needs Optuna and {MIN_TRIALS} trials)"
            )
        self.setToolTip(f"{getattr(self, '_tooltip', COURSE_ORDER)}\n{line}")

    def _describe(self, name: str) -> str:
        """One parameter in the tooltip: its value and interval, or why it has none."""
        n, v = self.counts[name], self.values[name]
        if n < MIN_TRIALS:
            return f"{name}: too few trials ({n} < {MIN_TRIALS}) to say how sure"
        lo, hi = self.intervals[name]
        if math.isnan(v) or math.isnan(lo):
            return f"{name}: no ranking ({n} trials, a constant value or loss)"
        return (
            f"{name}: {v:.2f}, 95% interval [{lo:.2f}, {hi:.2f}] over {n} trials (bootstrap; "
            f"a parameter that does nothing reads up to {noise_band(n):.2f} by chance)"
        )
