"""A lesson view for the tests of the Lessons framework: it asks for the step count."""

from __future__ import annotations

from bnviz.gui.lessons.base import LessonView
from bnviz.train.probes import request
from tests import session_probes  # noqa: F401 (registers test_step_count)


class StepLesson(LessonView):
    title = "Step lesson"
    explanation = "Counts steps."
    formula = "t = t + 1"

    def __init__(self) -> None:
        super().__init__()
        self.rendered: list[int] = []

    def probe_requests(self):
        return (request("test_step_count"),)

    def render(self, frame) -> None:
        for req, value in frame.probes.items():
            if req.name == "test_step_count":
                self.rendered.append(value)


class SlowStepLesson(StepLesson):
    """The step count from a timed probe (once a second), as a lesson's probes run."""

    title = "Slow step lesson"

    def probe_requests(self):
        return (request("test_step_count_every_second"),)

    def render(self, frame) -> None:
        for req, value in frame.probes.items():
            if req.name == "test_step_count_every_second":
                self.rendered.append(value)
