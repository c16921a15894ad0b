"""What the user's controls do to live training: B flips batch norm, Space pauses and plays,
Step takes one step, a live setting (alpha, beta, ...) applies from the next step, and a search
round or a lesson's experiment pauses training to have the cores. Each tells the training
process (the window's ``worker``), wakes the frame loop so the change is drawn, and says what it
did in the status bar. A mixin of :class:`~bnviz.gui.main_window.MainWindow`, kept out of it so
that each file holds one idea.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from bnviz.gui.autopause import AutoPause
from bnviz.gui.window_api import AppWindow
from bnviz.train.stopping import StopRule

# After a pause, keep drawing this long: a timed probe (a lesson's, at most once a second) run
# before the pause would otherwise stay on screen a step or two behind the paused network.
PAUSE_SETTLE_S = 1.5


class TrainingActions(AppWindow):
    """The controls' actions on live training (see the module's docstring)."""

    # set by MainWindow
    autopause: AutoPause
    pause_reason: str
    _settle_until: float

    if TYPE_CHECKING:  # the frame loop's (bnviz.gui.frame_loop.FrameLoop), a sibling mixin

        def _wake(self, *_: object) -> None: ...

    def _hparams(self, changes: dict) -> None:
        self.config = replace(self.config, **changes)
        self.worker.set_hparams(**changes)
        self._wake()
        # Replaces any red message left by an earlier bad entry: this value was accepted.
        text = ", ".join(f"{k} = {v:g}" for k, v in changes.items())
        if self.config.compare and self.config.compare_setting in changes:
            text += " (the first network; the twin keeps its own)"
        self.show_message(text)

    def toggle_bn(self) -> None:
        """The B key: flip BN on the single network (or on both twins when they differ in
        another setting); BN vs plain already shows both."""
        if self.config.compare and self.config.compare_setting in ("batchnorm", "bn_momentum"):
            self.show_message("compare mode shows the network with and without BN side by "
                              "side; untick 'Compare' to flip BN on one network")  # fmt: skip
        else:
            self.controls.toggle_bn()

    def _batchnorm(self, on: bool) -> None:
        self.config = replace(self.config, batchnorm=on)
        self.worker.set_batchnorm(on)
        self._wake()
        text = f"batch norm {'on' if on else 'off'} (output preserved at the flip)"
        if not self.playing:
            why = self.pause_reason or "paused"
            text += f"; training is still {why.removesuffix(' (Space goes on)')}: Space goes on"
        self.show_message(text)

    def toggle_play(self) -> None:
        self.playing = not self.playing
        self.pause_reason = "" if self.playing else "paused"
        if self.playing:
            self.autopause.rearm()  # the user goes on: count the budget and plateau anew
        (self.worker.play if self.playing else self.worker.pause)()
        self._wake()
        self.controls.set_playing(self.playing)

    def pause_for_round(self, what: str = "the search round runs") -> None:
        """A search round (or a lesson's experiment) started: live training would keep a core
        from its trainings."""
        if self.playing:
            self.toggle_play()
            self.show_message(f"live training paused while {what}, so its trainings get every "
                              "core (Space resumes it)")  # fmt: skip

    def _set_stop_rule(self, rule: StopRule) -> None:
        self.autopause.rule = rule
        self.autopause.rearm()

    def step_once(self) -> None:
        if self.playing:
            self.toggle_play()
        self.worker.step_once()
        self._wake()

    def _state_changed(self, playing: bool) -> None:
        self.playing = playing
        self.pause_reason = "" if playing else (self.pause_reason or "paused")
        if not playing:  # timed probes may still be catching up with the last steps
            self._settle_until = time.perf_counter() + PAUSE_SETTLE_S
        self._wake()
        self.controls.set_playing(playing)
