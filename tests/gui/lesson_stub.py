"""Lesson views for the tests of the Lessons framework: they ask for the step count."""

from __future__ import annotations

from bnviz.gui.lessons.base import LessonView
from bnviz.train.probes import request
from tests import session_probes  # noqa: F401 (registers the step-count probes)


class StepLesson(LessonView):
    title = "Step lesson"
    explanation = "Counts steps."
    formula = "t = t + 1"
    probe_name = "test_step_count"  # runs at every snapshot

    def __init__(self) -> None:
        super().__init__()
        self.rendered: list[int] = []

    def probe_requests(self):
        return (request(self.probe_name),)

    def render(self, frame) -> None:
        for req, value in frame.probes.items():
            if req.name == self.probe_name:
                self.rendered.append(value)


class SlowStepLesson(StepLesson):
    """The step count from a timed probe (once a second), as a lesson's probes run."""

    title = "Slow step lesson"
    probe_name = "test_step_count_every_second"
