"""The lessons, as data: each one's name, title, own setting (preset), the course's claim in its
words, its view, and whether ``bnviz lesson NAME`` runs a BN-vs-plain experiment over seeds.

Pure data with no Qt, so the command line (``bnviz lesson --list``, ``bnviz presets --check``)
knows the lessons without importing the GUI; a GUI test checks that every lesson view's slug and
title are here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LessonInfo:
    """One lesson. ``name`` is the slug ``bnviz --lesson NAME`` and ``bnviz lesson NAME``
    take; ``title`` the view's title; ``preset`` the preset whose setting shows the point (None:
    the default setting); ``view`` the class name of its view in ``bnviz.gui.lessons`` (None:
    headless only); ``experiment`` True when ``bnviz lesson NAME`` compares BN with plain over
    seeds."""

    name: str
    title: str
    preset: str | None
    claim: str
    view: str | None
    experiment: bool


#: Every lesson, in the Lessons menu's order; the headless first-minute lesson last.
LESSONS: tuple[LessonInfo, ...] = (
    LessonInfo(
        "inside-a-bn-unit", "Inside a BN unit", "inside-a-bn-unit",
        "Batch norm normalizes each hidden unit's z over the mini-batch, z_norm = (z - mu) / "
        "sqrt(sigma^2 + eps), then sets its mean and variance with learned gamma and beta: "
        "z~ = gamma z_norm + beta (b is cancelled by subtracting mu; gamma = sqrt(sigma^2 + eps), "
        "beta = mu gives back z).",
        "InspectorView", False,
    ),
    LessonInfo(
        "bn-at-test-time", "BN at test time", "bn-at-test-time",
        "At test time there is no mini-batch: batch norm uses mu and sigma^2 estimated with an "
        "exponentially weighted average across the training mini-batches, so a single example "
        "can be processed.",
        "TestTimeLesson", True,
    ),
    LessonInfo(
        "loss-landscape", "Loss landscape", "loss-landscape",
        "Batch norm makes the loss landscape smoother: along the gradient the loss changes less "
        "and more predictably (Santurkar et al. 2018).",
        "LandscapeView", True,
    ),
    LessonInfo(
        "covariate-shift", "Covariate shift", "covariate-shift",
        "Batch norm reduces covariate shift: the distribution of a later layer's input moves "
        "less while the earlier layers learn, giving it more firm ground to stand on.",
        "CovariateShiftView", True,
    ),
    LessonInfo(
        "mini-batch-noise", "Mini-batch noise", "mini-batch-noise",
        "Batch norm has a slight regularization effect: each mini-batch's mean and variance "
        "are noisy estimates, and that noise, like dropout's, makes the network fit its training "
        "set less exclusively (weaker for larger mini-batches).",
        "BatchNoiseView", True,
    ),
    LessonInfo(
        "bn-makes-the-search-easier", "BN makes the search easier", "bn-makes-the-search-easier",
        "Batch norm makes the hyperparameter search much easier: a much bigger range of "
        "hyperparameters works well.",
        "EasierSearchView", True,
    ),
    LessonInfo(
        "babysitting-signals", "Babysitting signals", None,
        "Babysit a run by its signals: the ratio of the update's magnitude to the weights' "
        "per layer should be around 1e-3; much larger, the learning rate is likely too high, "
        "much smaller, too low.",
        "BabysittingView", False,
    ),
    LessonInfo(
        "learning-rate-range-test", "Learning-rate range test", "learning-rate-range-test",
        "Batch norm lets a network train at much higher learning rates: where its plain twin "
        "diverges, the network with BN still trains (the BN paper's BN-x5 and BN-x30).",
        "LrRangeView", True,
    ),
    LessonInfo(
        "are-the-probabilities-right", "Are the probabilities right?",
        "are-the-probabilities-right",
        "The softmax outputs are probabilities: a network that says 90% should be right 9 times "
        "in 10; one temperature T, fitted on validation data, fixes an over-confident network "
        "(Guo et al. 2017).",
        "CalibrationView", False,
    ),
    LessonInfo(
        "first-minute", "The first minute", None,
        "Batch norm speeds up learning: the plain network needs more steps than the one with "
        "batch norm to reach the same validation accuracy.",
        None, True,
    ),
)  # fmt: skip


def find_lesson_info(name: str) -> LessonInfo | None:
    """The lesson called ``name`` (its slug), or None."""
    return next((info for info in LESSONS if info.name == name), None)


def lesson_names() -> list[str]:
    """Every lesson's name, in catalog order."""
    return [info.name for info in LESSONS]
