"""The explorer's views redrawn and linked: every view from the trials (the scatter, the
histograms, the importance, the curves, the rungs, the parallel coordinates, the re-check),
the parallel view's bands filtering the others, a trial selected in one shown in all.

A mixin of :class:`~bnviz.gui.search.explorer.HparamExplorer`, moved out of it unchanged (one
idea per module). It uses the explorer's widgets and state, which the class body declares for
the type checker, with the methods it calls on the other parts.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from bnviz.gui.search.controls import SweepControls
from bnviz.gui.search.curves import CurvesView
from bnviz.gui.search.explorer_rounds import BASE_KEY
from bnviz.gui.search.fanova import FanovaRunner
from bnviz.gui.search.histograms import SampleHistograms
from bnviz.gui.search.importance_view import ImportanceView
from bnviz.gui.search.ladder_view import LadderView
from bnviz.gui.search.parallel_view import ParallelView
from bnviz.gui.search.recheck_view import RecheckView
from bnviz.gui.search.scatter import HparamScatter, describe
from bnviz.gui.search.table import TrialTable
from bnviz.search import points
from bnviz.search.groups import GroupStats, by_group, spread
from bnviz.search.parallel import parallel_data
from bnviz.search.recheck import latest_recheck_round, recheck_pairs
from bnviz.search.relevance import searchable
from bnviz.search.spaces import Space
from bnviz.search.study import Study, TrialRecord
from bnviz.train.config import ConfigError, TrainConfig


class ExplorerViews:
    """The views' redrawing and linking (see the module docstring)."""

    # What it uses of the explorer (built in HparamExplorer.__init__).
    controls: SweepControls
    scatter: HparamScatter
    table: TrialTable
    histograms: SampleHistograms
    curves: CurvesView
    recheck_view: RecheckView
    ladder_view: LadderView
    parallel: ParallelView
    importance: ImportanceView
    fanova: FanovaRunner
    study: Study | None
    trials: list[TrialRecord]
    rounds: list[dict]
    selected: int | None
    brushed: set[int] | None
    _axes: tuple[Space | None, Space | None]

    if TYPE_CHECKING:  # defined by HparamExplorer and ExplorerRounds

        def base_config(self, round_id: int | None = None) -> TrainConfig: ...
        def _trial(self, trial_id: int | None) -> TrialRecord | None: ...
        def _say(self, text: str) -> None: ...
        def _error(self, text: str) -> bool: ...

    # -- view ----------------------------------------------------------------------------------
    def plotted_spaces(self) -> tuple[Space | None, Space | None]:
        """The spaces that scale the axes: the study's, else the fields', else the defaults."""
        out = []
        for name, field in zip(self.controls.axis_names(), self.controls.field_spaces()):
            out.append(points.axis_space(self.rounds, name, field or points.default_space(name)))
        return out[0], out[1]

    def refresh(self) -> None:
        """Redraw every view from ``self.trials`` (items are reused, only data changes)."""
        xs, ys = self.plotted_spaces()
        metric = self.controls.metric_key()
        new_axes = (xs, ys) != self._axes
        if new_axes:
            self._axes = (xs, ys)
            self.scatter.set_axes(xs, ys)
        shown, groups = by_group(self.trials)  # repeats: one point per group, at its mean
        brushed = [t for t in shown if self.brushed is None or t.id in self.brushed]
        if xs is not None and ys is not None:
            data = points.place(self._with_fixed(brushed), xs, ys, metric)
            if new_axes and len(data.ids):
                self.scatter.plot.enableAutoRange()
            texts = {t.id: describe(t.params, t) for t in self.trials}
            for t in shown:
                g = groups.get(t.group) if t.group is not None else None
                if g is not None and g.whole:
                    _, rest = describe(t.params, t).split("\n", 1)
                    ids = ", ".join(map(str, g.trials))
                    texts[t.id] = f"trials {ids} (round {t.round})\n{rest}\n{_group_line(g)}"
            best = points.best_id(shown, metric)
            sds = spread(self.trials, metric)  # each group's sd over seeds: its halo
            self.scatter.set_points(data, metric, texts, best, self.selected, sds)
        ran = self._with_fixed(shown)  # an unsampled parameter: the value trials ran at
        for axis, space in zip("xy", (xs, ys)):
            name = space.name if space is not None else ""
            values = [t.params[name] for t in ran if name in t.params]
            self.histograms.set_samples(axis, space, values)
        fixed = self.study.get_meta(BASE_KEY) if self.study is not None else None
        self.importance.set_trials(
            points.sampled_coords(shown, self.rounds, fixed),
            points.unfelt(shown, self.rounds, fixed),
        )
        self._note_idle_axes()
        self.refresh_curves()
        results = np.array([points.metric_value(t, metric) for t in self.trials], dtype=float)
        colors = dict(zip((t.id for t in self.trials), self.scatter.colors(results)))
        self.ladder_view.set_trials(self.trials, colors)
        self._refresh_parallel(shown, metric)
        rechecked = latest_recheck_round(self.trials)
        pairs = recheck_pairs(self.trials, rechecked) if rechecked is not None else []
        self.recheck_view.set_pairs(pairs, rechecked)

    def _refresh_parallel(self, shown: list[TrialRecord], metric: str) -> None:
        """The parallel coordinates of every trial (a group of repeats as its mean)."""
        data = parallel_data(shown, self.rounds, metric)
        values = np.array([points.metric_value(t, metric) for t in shown], dtype=float)
        self.parallel.set_data(data, list(self.scatter.colors(values)))
        self.parallel.set_selected(self.selected)

    def _start_fanova(self) -> None:
        """fANOVA's importances for the importance chart, computed in a thread."""
        self.importance.set_fanova(None, "fANOVA (Optuna): computing...")
        self.fanova.request(by_group(self.trials)[0], self.rounds)

    def _brushed(self, ids: set[int] | None) -> None:
        """Bands on the parallel axes: the scatter, the table and the curves show only the
        trials inside them (a group of repeats with all its seeds)."""
        if ids is not None:
            ids = {t.id for t in self.trials if t.id in ids or t.group in ids}
        self.brushed = ids
        self.table.set_visible_ids(ids)
        self.refresh()

    def _note_idle_axes(self) -> None:
        """Say before Start which plotted parameter a round would not sample, and why."""
        try:
            base = self.base_config()
        except ConfigError:
            return self.controls.set_idle_note("")
        spaces = [s for s in self.controls.field_spaces() if s is not None]
        _, idle = searchable(base, spaces)
        note = "; ".join(f"{why}: a round leaves {n} out" for n, why in idle.items())
        self.controls.set_idle_note(note)

    def refresh_curves(self) -> None:
        """Overlay the curves of the shown round(s), coloured as on the scatter, the box's
        trials strong (cheap: run again on every box move)."""
        self.curves.set_rounds([r["id"] for r in self.rounds])
        rounds = self.curves.shown_rounds(self.trials, self.selected)
        shown = [t for t in self.trials if t.round in rounds]
        if self.brushed is not None:  # the parallel view's bands filter the curves too
            shown = [t for t in shown if t.id in self.brushed]
        metric = self.controls.metric_key()
        values = np.array([points.metric_value(t, metric) for t in shown], dtype=float)
        colors = dict(zip((t.id for t in shown), self.scatter.colors(values)))
        selected = self._trial(self.selected) if self.selected is not None else None
        self.curves.set_trials(shown, colors, self.scatter.inside_box(), selected)

    def _with_fixed(self, trials: list[TrialRecord]) -> list[TrialRecord]:
        """Trials with the values they ran at filled in for what their round did not sample,
        so switching x to batch_size still shows the lr rounds (at the batch size they used)."""
        fixed: dict[int, dict] = {}
        for r in self.rounds:
            try:
                fixed[r["id"]] = points.fixed_params(self.base_config(r["id"]).to_dict())
            except ConfigError:
                fixed[r["id"]] = {}
        return [replace(t, params={**fixed.get(t.round, {}), **t.params}) for t in trials]

    def select(self, trial_id: int) -> None:
        self.selected = trial_id
        self.scatter.select(trial_id)
        self.table.select_trial(trial_id)
        self.parallel.set_selected(trial_id)
        self.refresh_curves()
        t = self._trial(trial_id)
        if t is not None:
            self._say(describe(t.params, t, wrap=None).replace("\n", ", "))

    def zoom_to_box(self) -> None:
        if not self.scatter.zoom_to_box():
            self._error("draw a box on the plot first (drag on empty space)")


def _group_line(g: GroupStats) -> str:
    """The hover's line for a group of repeats: its mean and spread over seeds."""
    sd = f" +- {g.val_loss_sd:.4f} (sd)" if g.val_loss_sd is not None else ""
    return f"mean of {g.n} seeds: val loss {g.val_loss_mean:.4f}{sd}"
