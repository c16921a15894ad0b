"""Stand-in lesson experiments for the evidence panel's tests, with the signature of
LESSON_API.md: their units of work run in the executor's worker processes (so they must be
importable there), they check ``cancel`` between units and report ``progress``."""

from __future__ import annotations

import time

from bnviz.train.evidence import SeedResult, summarize
from bnviz.train.jobs import run_jobs

CLAIM = "Batch norm makes the loss landscape smoother."


def seed_result(seed: int, delay: float = 0.0) -> SeedResult:
    """One seed's "training": BN ahead of plain by 0.3, give or take."""
    time.sleep(delay)
    return SeedResult(seed, 0.8 + 0.01 * seed, 0.5 + 0.02 * (seed % 3))


def quick_evidence(
    config, seeds, *, executor=None, cancel=None, progress=None, delay=0.0, **_view_options
):
    """As the real experiments do: the seeds' jobs through :func:`run_jobs` (which looks at
    ``cancel`` while it waits), then :func:`summarize`."""
    results = run_jobs(seed_result, [(s, delay) for s in seeds], executor=executor,
                       cancel=cancel, progress=progress)  # fmt: skip
    return summarize("loss-landscape", CLAIM, "band width (smaller is smoother)",
                     config.to_dict(), -1, per_seed=results)  # fmt: skip


def slow_evidence(config, seeds, **kwargs):
    return quick_evidence(config, seeds, **kwargs, delay=30.0)
