"""Work done in slices between the event loop's turns, or all at once when it is needed now.

Building the whole window before its first paint blocked the GUI thread for 0.4 s (the five
training panels' 28 plot items, the hyperparameter explorer); a user waits that long for a
window that answers nothing. A :class:`StagedBuild` runs a generator one ``yield`` at a time, each
step from a zero-delay timer, so the event loop paints and answers clicks between two steps
(each well under 50 ms). Whoever needs what the steps build before they are done (a test, a
menu action) calls :meth:`StagedBuild.finish`, which runs the rest at once: a staged window
behaves as one built in its constructor, only sooner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

# Between two steps: a zero-delay timer started from a timer's slot ran before the other timers
# due (a 2 ms watchdog saw three steps as one 170 ms block); 1 ms lets them, and paints, run.
STEP_GAP_MS = 1


class StagedBuild(QObject):
    """Run ``steps`` (a generator that yields between slices of its work) from the event loop;
    ``failed(message)`` is told when a step raises (the app goes on, without what was left)."""

    def __init__(
        self, steps: Iterator[None], failed: Callable[[str], None], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._steps: Iterator[None] | None = steps
        self._failed = failed
        self._running = False
        QTimer.singleShot(0, self, self._next)

    @property
    def done(self) -> bool:
        return self._steps is None

    def finish(self) -> None:
        """Run every step left now. Called from within a step (something the step calls wants
        what is being built), it returns at once: the step itself finishes the build."""
        while not self.done and not self._running:
            self._step()

    def cancel(self) -> None:
        """Build nothing more (the window closes)."""
        self._steps = None

    def _next(self) -> None:
        if self.done or self._running:
            return
        self._step()
        if not self.done:
            QTimer.singleShot(STEP_GAP_MS, self, self._next)

    def _step(self) -> None:
        assert self._steps is not None  # not done
        self._running = True
        try:
            next(self._steps)
        except StopIteration:
            self._steps = None
        except Exception as e:  # a view that fails to build must not take the window down
            self._steps = None
            self._failed(f"building the window: {type(e).__name__}: {e}")
        finally:
            self._running = False


def paint_in_turns(views: Sequence[QWidget]) -> None:
    """Hold back the repaint of ``views`` and let them paint one per turn of the event loop.

    After a font change every visible plot repaints at once (its axes and texts laid out
    anew: ~70 ms for the Training tab's 15 views, on top of the relayout); one per turn, the
    window answers in between and each view shows its old picture a few milliseconds longer."""
    for view in views:
        view.setUpdatesEnabled(False)
    _release(list(views))


def _release(views: list[QWidget]) -> None:
    if not views:
        return
    view, rest = views[0], views[1:]

    def release() -> None:
        try:
            # A window being closed (a test's teardown, Quit) is not repainted: its plot items
            # may be half torn down, and a paint that meets them raises inside pyqtgraph.
            if view.window().isVisible():
                view.setUpdatesEnabled(True)  # and repaints it
        except RuntimeError:  # deleted meanwhile (a closed view): the others go on
            pass
        _release(rest)

    # bound to the window: a window deleted before the turn takes the timer with it (one view
    # deleted alone is the RuntimeError above, and the others still get their turn)
    QTimer.singleShot(STEP_GAP_MS, view.window(), release)
