"""The session benchmark's watchdog: every block of the GUI thread, charged to its action.

A timer fires every :data:`WATCH_MS` ms in the GUI thread and records each gap: a gap of ``G`` ms
past its interval is a block of the GUI thread that long. The script marks each action as it
starts it (:meth:`Watchdog.mark`); a block is charged to the action during which it began, or
whose mark it contains (the script marks and then starts an action between two ticks, so the
action's own work begins the block). :meth:`Watchdog.figures` gives, per action, the longest
block and the GUI thread's CPU time within it, all its blocks over a 60 Hz frame summed, and
each block's part over the p99 target summed; and over the session the p99 of what a click at a
random moment waits (:func:`bnviz.bench.window_bench._waits`).

Two diagnoses ride along, each set by an environment variable: a cProfile of the GUI thread per
action (:data:`PROFILE_ENV`, a folder) and its Python stacks sampled while it is blocked
(:data:`STACKS_ENV`, a JSON file). Qt and the profiler are imported where used.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bnviz.bench.window_bench import _percentile, _waits

if TYPE_CHECKING:
    import cProfile

    from PySide6.QtCore import QTimer

WATCH_MS = 2
P99_ANY_MOMENT_TARGET_MS = 30.0  # issue 21: what a click at a random moment may wait, p99
BLOCK_FELT_MS = 16.7  # a block longer than a 60 Hz frame: what actions_blocked_ms sums
# Diagnosis: set to a folder, and each action's cProfile statistics go there (ACTION.prof)
PROFILE_ENV = "BNVIZ_SESSION_PROFILE"
# Diagnosis: set to a file, and the GUI thread's Python stacks sampled while it is blocked go
# there (JSON: per action, the stacks seen most, one sample every STACK_SAMPLE_MS)
STACKS_ENV = "BNVIZ_SESSION_STACKS"
STACK_SAMPLE_MS, STACK_BLOCKED_MS, STACK_DEPTH = 3.0, 12.0, 10


class Watchdog:
    """The ticks and the actions' marks of one session, in ms of its own clock."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.marks: list[tuple[str, float]] = []  # (action, start in ms of the clock)
        # (when, gap beyond WATCH_MS, CPU time of this thread during the gap), ms
        self.ticks: list[tuple[float, float, float]] = []
        self.last: float | None = None
        self.last_cpu = 0.0
        self.sampling = False
        self.profile: cProfile.Profile | None = None
        self.stacks: dict[str, dict[str, int]] = {}
        self.stacks_file = os.environ.get(STACKS_ENV)
        self._timer: QTimer | None = None

    def now_ms(self) -> float:
        return (time.perf_counter() - self.t0) * 1e3

    def start(self) -> None:
        """Start ticking (in the GUI thread, its event loop about to run)."""
        from PySide6.QtCore import Qt, QTimer

        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.timeout.connect(self._tick)
        timer.start(WATCH_MS)
        self._timer = timer
        self.sampling = True
        if self.stacks_file:
            self._sample_stacks_while_blocked()

    def stop(self) -> None:
        """Stop ticking (after the ``end`` mark); write the sampled stacks if asked for."""
        if self._timer is not None:
            self._timer.stop()
        if self.stacks_file:
            _write_stacks(self.stacks_file, self.stacks)

    def _tick(self) -> None:
        now, cpu = self.now_ms(), time.thread_time() * 1e3
        if self.sampling and self.last is not None:
            self.ticks.append((now, max(0.0, now - self.last - WATCH_MS), cpu - self.last_cpu))
        self.last, self.last_cpu = now, cpu

    def mark(self, name: str) -> None:
        """Action ``name`` starts now (``end``: the last one ended)."""
        self.marks.append((name, self.now_ms()))
        folder = os.environ.get(PROFILE_ENV)
        if folder:  # one profile per action, of this (the GUI) thread
            import cProfile

            if self.profile is not None:
                self.profile.disable()
                previous = self.marks[-2][0].replace(":", "-")
                self.profile.dump_stats(str(Path(folder) / f"{previous}.prof"))
            self.profile = cProfile.Profile()
            self.profile.enable()

    def _sample_stacks_while_blocked(self) -> None:
        """A thread that records the GUI thread's Python stack whenever the watchdog has not
        ticked for STACK_BLOCKED_MS (it misses C++ work that holds the GIL)."""
        import threading

        gui = threading.get_ident()

        def sample() -> None:
            while self.marks[-1][0] != "end":
                time.sleep(STACK_SAMPLE_MS / 1e3)
                last = self.last
                if last is None or self.now_ms() - last < STACK_BLOCKED_MS:
                    continue
                frame = sys._current_frames().get(gui)
                lines: list[str] = []
                while frame is not None and len(lines) < STACK_DEPTH:
                    code = frame.f_code
                    where = code.co_filename.rsplit("site-packages/", 1)[-1]
                    lines.append(f"{where}:{frame.f_lineno} {code.co_name}")
                    frame = frame.f_back
                seen = self.stacks.setdefault(self.marks[-1][0], {})
                key = "\n".join(lines)
                seen[key] = seen.get(key, 0) + 1

        threading.Thread(target=sample, name="stack-sampler", daemon=True).start()

    def figures(self, construct_ms: float, construct_cpu_ms: float) -> dict:
        """Each block charged to its action; the window's construction (before the first
        tick) is one of ``start``'s. The keys of the session's ``"gui"`` JSON it fills."""
        starts = [t for _, t in self.marks]
        names = [n for n, _ in self.marks[:-1]]
        longest = dict.fromkeys(names, 0.0)
        longest["start"] = construct_ms
        cpu = dict.fromkeys(names, 0.0)
        cpu["start"] = construct_cpu_ms
        blocked = dict.fromkeys(names, 0.0)
        blocked["start"] = construct_ms
        excess = dict.fromkeys(names, 0.0)
        for when, gap, used in self.ticks:
            i = max(0, sum(1 for s in starts if s <= when) - 1)
            if i >= len(names):  # after the last action ended
                continue
            if gap > BLOCK_FELT_MS:
                blocked[names[i]] += gap
            excess[names[i]] += max(0.0, gap - P99_ANY_MOMENT_TARGET_MS)
            if gap > longest[names[i]]:
                longest[names[i]], cpu[names[i]] = gap, used
        lags = sorted(g for _, g, _c in self.ticks) or [0.0]
        return {
            "actions": {n: round(ms, 1) for n, ms in longest.items()},
            # the GUI thread's CPU time within that longest block: far below the block, the
            # process waited for a core (a loaded machine), not for its own work
            "actions_cpu_ms": {n: round(ms, 1) for n, ms in cpu.items()},
            # all of an action's blocks longer than a 60 Hz frame, summed: a view that stutters
            # while shown, which its longest block does not tell
            "actions_blocked_ms": {n: round(ms, 1) for n, ms in blocked.items()},
            # each block's part over the p99 target, summed: the p99 at any moment exceeds the
            # target when these add up to over 1% of the session (what to shorten first)
            "actions_excess_ms": {n: round(ms, 1) for n, ms in excess.items()},
            "action_started_s": {n: round(t / 1e3, 2) for n, t in self.marks},
            "latency_ms_p99_any_moment": round(_percentile(_waits(lags, WATCH_MS), 99), 1),
            "latency_ms_p99": round(_percentile(lags, 99), 1),
            "latency_ms_max": round(lags[-1], 1),
            "construct_ms": round(construct_ms, 1),
            "watch_ms": WATCH_MS,
            "seconds": round(self.marks[-1][1] / 1e3, 1),
        }


def _write_stacks(path: str, stacks: dict[str, dict[str, int]], most: int = 6) -> None:
    """Per action, its ``most`` commonest blocked stacks, innermost frame first."""
    out = {
        action: [
            {"samples": n, "stack": k.splitlines()}
            for k, n in sorted(seen.items(), key=lambda kv: -kv[1])[:most]
        ]  # fmt: skip
        for action, seen in stacks.items()
    }
    Path(path).write_text(json.dumps(out, indent=1))
