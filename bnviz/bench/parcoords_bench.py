"""``bnviz bench --parcoords``: how long the explorer's parallel coordinates take to redraw
1,000 trials.

Issue 20's target is a redraw under 100 ms for 1,000 trials (reported, never asserted). A
redraw is what the explorer does when a result arrives (``Explorer._refresh_parallel``): place
every trial on the axes (:func:`bnviz.search.parallel.parallel_data`), colour it on the metric's
colour scale, feed the view (:meth:`ParallelView.set_data`), and paint it: timed from the
placement to the end of a synchronous repaint of the plot's viewport. ``brush_ms`` is a band
dragged along an axis (no new placement: the line items re-fed and painted).

Synthetic trials on the explorer's usual axes (lr log, beta 1m, batch size pow2, activation
categorical, then the loss), so the figure depends on the drawing alone. Qt's platform is
``$QT_QPA_PLATFORM`` when set, else ``offscreen``; Qt is imported only inside the function.
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np

from bnviz.search.spaces import parse_space
from bnviz.search.study import TrialRecord

TRIALS = 1000
REPEATS = 30
TARGET_MS = 100.0
VIEW_SIZE = (900, 560)
SPACES = (("lr", "1e-4:1:log"), ("beta", "0.9:0.999:1m"), ("batch_size", "16:512:pow2"),
          ("activation", "relu,tanh,sigmoid:cat"))  # fmt: skip


def synthetic_trials(n: int, seed: int = 0) -> tuple[list[TrialRecord], list[dict]]:
    """``n`` trials sampled from :data:`SPACES`, a loss that depends on lr, 5% diverged."""
    spaces = [parse_space(name, text) for name, text in SPACES]
    rng = np.random.default_rng(seed)
    columns = {s.name: s.sample(rng, n) for s in spaces}
    trials = []
    for i in range(n):
        params = {name: values[i] for name, values in columns.items()}
        diverged = bool(rng.uniform() < 0.05)
        loss = None if diverged else float(0.2 + abs(np.log10(params["lr"]) + 2) / 3)
        trials.append(TrialRecord(
            params=params, val_loss=loss, val_acc=None, best_val_loss=loss, best_val_acc=None,
            diverged=diverged, diverged_step=5 if diverged else None, seconds=1.0, steps=10,
            id=i + 1, round=1, finished_at="now",
        ))  # fmt: skip
    return trials, [{"id": 1, "spaces": spaces}]


def measure_parcoords(trials: int = TRIALS, repeats: int = REPEATS) -> dict:
    """Median and worst redraw (and brush) time in ms over ``repeats``, after one warm-up."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QApplication

    from bnviz.gui.search.parallel_view import ParallelView
    from bnviz.search.parallel import parallel_data
    from bnviz.search.points import metric_value

    app = QApplication.instance() or QApplication([])
    view = ParallelView()
    view.resize(*VIEW_SIZE)
    view.show()
    app.processEvents()
    cmap = pg.colormap.get("viridis")
    data, rounds = synthetic_trials(trials)
    redraw, brush = [], []
    for r in range(repeats + 1):
        t0 = time.perf_counter()
        placed = parallel_data(data, rounds, "val_loss")
        values = np.array([metric_value(t, "val_loss") for t in data], dtype=float)
        lo, hi = placed.metric_range
        norm = np.clip((values - lo) / max(hi - lo, 1e-12), 0, 1)
        colors = [QColor(c) for c in cmap.map(np.nan_to_num(norm, nan=1.0), mode="qcolor")]
        view.set_data(placed, colors)
        view.view.viewport().repaint()
        t1 = time.perf_counter()
        view._brush(0, (0.2 + 0.01 * (r % 10), 0.7), False)  # a band being dragged
        view.view.viewport().repaint()
        t2 = time.perf_counter()
        view._brush(0, None, False)
        if r:  # the first round warms caches up
            redraw.append((t1 - t0) * 1e3)
            brush.append((t2 - t1) * 1e3)
    view.close()
    return {
        "trials": trials,
        "axes": len(placed.names),
        "repeats": repeats,
        "platform": QApplication.platformName(),
        "view_px": list(VIEW_SIZE),
        "redraw_ms_p50": round(statistics.median(redraw), 1),
        "redraw_ms_max": round(max(redraw), 1),
        "brush_ms_p50": round(statistics.median(brush), 1),
        "target_ms": TARGET_MS,
        "meets_target": statistics.median(redraw) < TARGET_MS,
    }


def format_parcoords(r: dict) -> str:
    """One line: the medians, the worst redraw, and whether the target is met."""
    ok = "ok" if r["meets_target"] else "MISS"
    return (
        f"Parallel coordinates, {r['trials']:,} trials on {r['axes']} axes "
        f"({r['view_px'][0]}x{r['view_px'][1]} px, {r['platform']}, median of {r['repeats']}): "
        f"redraw {r['redraw_ms_p50']} ms (worst {r['redraw_ms_max']}), brush "
        f"{r['brush_ms_p50']} ms; target < {r['target_ms']:g} ms: {ok}"
    )
