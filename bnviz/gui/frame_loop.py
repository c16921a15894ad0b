"""The main window's frame loop: a snapshot in, a frame drawn.

The window asks the training process for a snapshot with the probes of the views now shown;
when it arrives, a single-shot timer draws it as soon as the frame rate allows (at most every
:data:`MIN_FRAME_S`), and the next one is asked for while this one is drawn. Paused with nothing
new, nothing is drawn (the same picture again cost 18% of a core) and the trainer is asked only
every :data:`IDLE_POLL_S`. Lesson views and slow panels are drawn at their ``render_interval_s``;
a frame skipped for that is drawn later. Kept out of :mod:`bnviz.gui.main_window` (a mixin it
derives from) so that each file holds one idea.
"""

from __future__ import annotations

import math
import time
from collections import deque

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QGraphicsView, QLabel

from bnviz.gui.autopause import AutoPause
from bnviz.gui.lessons import LessonView
from bnviz.gui.panel import Frame, Panel
from bnviz.gui.staged import STEP_GAP_MS, StagedBuild, paint_in_turns
from bnviz.gui.window_api import AppWindow
from bnviz.train.history import RunHistory
from bnviz.train.protocol import ProbeRequest, SnapshotTaken
from bnviz.train.snapshot import Snapshot

# A frame is drawn when a new snapshot is in and at least this long after the last one: ~33 Hz
# at most, so timer jitter still leaves 30 frames a second.
MIN_FRAME_S = 0.030
BUILD_POLL_MS = 20  # a snapshot in before the staged build is done waits for it this long
STATUS_INTERVAL_S = 0.25  # the step counter in the status bar cannot be read any faster
REDRAW_WINDOW_S = 2.0  # redraws/s is counted over this long
# Paused with nothing new: ask the trainer this often (not at the frame rate), so a probe a view
# starts asking for still arrives soon, and draw nothing (18% CPU went on redrawing a still run).
IDLE_POLL_S = 0.2


class FrameLoop(AppWindow):
    """The frame loop of :class:`~bnviz.gui.main_window.MainWindow`, which derives from it and
    calls :meth:`_init_frames` (its state) and then :meth:`_start_frames` (once built)."""

    # set by MainWindow
    status_counts: QLabel
    status_message: QLabel
    autopause: AutoPause
    pause_reason: str
    _build: StagedBuild
    _settle_until: float  # after a pause, keep drawing until then (MainWindow._state_changed)

    def _init_frames(self) -> None:
        self._rendered_at: dict[str, float] = {}
        self.frame = None
        self._pending: SnapshotTaken | None = None
        self._probe_results: dict[ProbeRequest, object] = {}
        self._redraws: deque[float] = deque()
        self.redraws_per_s = 0.0
        self._last_render = -math.inf
        self._status_at = -math.inf
        self._unpainted = False  # a frame was drawn and no panel has painted it yet
        self._settle_until = 0.0
        self.steps_per_s = 0.0
        self._queued: list[str] = []  # panels of the frame on screen still to draw, in order

    def _start_frames(self) -> None:
        self._request_snapshot()
        # Single shot, started when a snapshot arrives: no ticks without news, and a frame follows
        # its snapshot as soon as the frame rate allows.
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self._news = True  # the user changed something since the last frame drawn
        self._changed = False  # an action changed the networks; no snapshot since
        self._idle_timer = QTimer(self, singleShot=True, interval=round(1000 * IDLE_POLL_S))
        self._idle_timer.timeout.connect(self._request_snapshot)
        self._panel_timer = QTimer(self, singleShot=True, interval=STEP_GAP_MS)
        self._panel_timer.timeout.connect(self._draw_next_panel)
        self.tabs.currentChanged.connect(self._wake)
        self.tabs.currentChanged.connect(self._tab_shown)

    def _tab_shown(self, index: int) -> None:
        """Back on the Training tab, whose plots were not drawn while hidden: they repaint one
        per turn (all at once, the window froze for 55-65 ms on returning from a lesson)."""
        if index == 0 and self._build.done:
            paint_in_turns(
                [v for p in self.panels_built.values() for v in p.findChildren(QGraphicsView)]
            )

    def _check_autopause(self, snaps: tuple[Snapshot, ...]) -> None:
        why = self.autopause.feed(snaps)
        if why and self.playing:
            self.toggle_play()
            self.pause_reason = why
            self.show_message(why)

    def _request_snapshot(self) -> None:
        """Ask for the next snapshot with the probes of the views now visible (a hidden view's
        probes do not run); forget the results of probes no longer asked for."""
        wanted = tuple(r for v in self.probe_views if v.isVisible() for r in v.probe_requests())
        for req in [r for r in self._probe_results if r not in wanted]:
            del self._probe_results[req]
        self.worker.request_snapshot(wanted)

    def _snapshot_arrived(self, taken: SnapshotTaken) -> None:
        if taken.generation != self.generation:  # from a trainer since replaced
            self._request_snapshot()
            return
        self._pending = taken
        if self._changed:  # the first snapshot taken after an action: draw what it did
            self._changed, self._news = False, True
        if not self.timer.isActive():
            wait = max(0.0, self._last_render + MIN_FRAME_S - time.perf_counter())
            self.timer.start(math.ceil(1000 * wait))

    def _tick(self) -> None:
        if self._pending is None:
            return
        if not self._build.done:  # no frame before the panels are laid out: try again soon
            self.timer.start(BUILD_POLL_MS)
            return
        taken, self._pending = self._pending, None
        if self._nothing_new(taken):
            self.steps_per_s = taken.steps_per_s
            if time.perf_counter() - self._last_render > REDRAW_WINDOW_S:
                self.redraws_per_s = 0.0
            self._show_counts(taken.snapshots)
            self._idle_timer.start()
            return
        self._news = False
        snaps, self.steps_per_s = taken.snapshots, taken.steps_per_s
        self._probe_results.update(taken.probes)
        self._last_render = time.perf_counter()
        # Ask for the next one now: the trainer builds it while this one is drawn.
        self._request_snapshot()
        for s in snaps:
            self.histories.setdefault(s.run, RunHistory(s.run)).add(s)
        for name in list(self.histories):
            if name not in {s.run for s in snaps}:
                del self.histories[name]
        self.frame = Frame(snaps, dict(self.histories), dict(self._probe_results))
        if self.recorder is not None:  # every frame drawn, as drawn (gui/export_menus.py)
            self.recorder.add(snaps, self.frame.probes, generation=self.generation,
                              config=self.config)  # fmt: skip
        self._check_autopause(snaps)
        now = time.perf_counter()
        lesson = self.tabs.currentWidget()
        # a lesson's probes keep their history between draws
        if isinstance(lesson, LessonView) and self._due(
            f"lesson:{lesson.title}", lesson.render_interval_s, now
        ):
            self._render(lesson.title, lesson)
        if self.tabs.currentIndex() != 0:  # the plots are hidden: keep the history, skip drawing
            self._unpainted = isinstance(lesson, LessonView)
            self._show_counts(snaps)
            return
        first_drawn, due = False, []
        for name, panel in self.panels_built.items():
            first = name not in self._rendered_at
            if first and first_drawn:
                continue  # a run's first frame builds a panel's plots: one panel per frame
            if not self._due(name, panel.render_interval_s, now):
                continue  # a slow-changing panel: its history is kept, it is drawn less often
            first_drawn |= first
            due.append(name)
        # a panel still waiting from the last frame is drawn from this one, in its turn
        self._queued = due + [name for name in self._queued if name not in due]
        self._draw_next_panel()
        self._unpainted = True
        self._show_counts(snaps)

    def _draw_next_panel(self) -> None:
        """Draw the next panel of the frame, and the one after it at the next turn of the event
        loop: each panel then paints before the next is drawn, so the window answers between
        them (all in one turn, the Training tab's repaint after a new run blocked 50-70 ms)."""
        while self._queued and self.frame is not None and self.tabs.currentIndex() == 0:
            panel = self.panels_built.get(self._queued.pop(0))
            if panel is not None:
                self._render(panel.title, panel)
                break
        else:  # nothing to draw (a new run, another tab): the frame's turn is over
            self._queued.clear()
        if self._queued:
            self._panel_timer.start()

    def _due(self, key: str, interval_s: float, now: float) -> bool:
        """Whether view ``key`` is drawn at this frame (at most every ``interval_s``); one not
        drawn now is drawn at a later frame, even one taken paused."""
        last = self._rendered_at.get(key)
        if last is not None and now - last < interval_s:
            self._news = True
            return False
        self._rendered_at[key] = now
        return True

    def _render(self, name: str, panel: Panel) -> None:
        assert self.frame is not None  # _tick has just made it
        try:
            panel.render(self.frame)
        except Exception as e:  # a drawing bug must not take the app down
            self.show_message(f"{name}: {type(e).__name__}: {e}", error=True)

    def _nothing_new(self, taken: SnapshotTaken) -> bool:
        """Paused, the same steps as the frame on screen, no probe asked for anew (a timed
        probe run again on unchanged weights gives what is shown), nothing changed by the
        user: drawing it again would show the same picture."""
        if self.playing or self._news or self.frame is None:
            return False
        if time.perf_counter() < self._settle_until:
            return False  # just paused: a timed probe's last result is still to be drawn
        if any(req not in self._probe_results for req in taken.probes):
            return False
        return [s.step for s in taken.snapshots] == [s.step for s in self.frame.snapshots]

    def _networks_changed(self) -> None:
        """An action changed the networks between two steps: the next snapshot (the first
        taken after it, events keep their order) is drawn even when paused."""
        self._changed = True
        self._wake()

    def _wake(self, *_: object) -> None:
        """Something changed: draw the next snapshot, and ask for it now if we were idle."""
        self._news = True
        if self._idle_timer.isActive():
            self._idle_timer.stop()
            self._request_snapshot()

    def _painted(self) -> None:
        """A panel painted: the first paint after a frame was drawn counts as a redraw."""
        if self._unpainted:
            self._unpainted = False
            self._count_redraw()

    def _count_redraw(self) -> None:
        now = time.perf_counter()
        self._redraws.append(now)
        while now - self._redraws[0] > REDRAW_WINDOW_S:
            self._redraws.popleft()
        span = now - self._redraws[0]
        self.redraws_per_s = (len(self._redraws) - 1) / span if span > 0 else 0.0

    def _show_counts(self, snaps: tuple[Snapshot, ...]) -> None:
        now = time.perf_counter()
        if now - self._status_at >= STATUS_INTERVAL_S:
            self._status_at = now
            s = snaps[0]
            drawing = (f"{self.redraws_per_s:.0f} redraws/s" if self.tabs.currentIndex() == 0
                       else "plots paused while hidden")  # fmt: skip
            self.status_counts.setText(
                f"step {s.step}  epoch {s.epoch}  {self.steps_per_s:,.0f} steps/s  {drawing}"
            )
        diverged = [x.message for x in snaps if x.diverged]
        if diverged and not self.status_message.text().endswith(diverged[-1]):
            self.show_message(diverged[-1], error=True)
