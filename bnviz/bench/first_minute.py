"""What a newcomer sees in the first minute: on the default setting, how many steps the network
with batch norm and the one without need to reach the same validation accuracy.

``bnviz bench --first-minute`` trains the default configuration in compare mode (same initial
W, same mini-batches) for a few seeds and reports, per accuracy target, the first evaluated
step at which each network reached it; README quotes the figures. The measurement itself is the
lesson's (:mod:`bnviz.lessons.first_minute`, also behind ``bnviz lesson first-minute``).
"""

from __future__ import annotations

from typing import Any

from bnviz.lessons.first_minute import EVAL_EVERY, TARGETS, steps_to_targets
from bnviz.train.config import TrainConfig

__all__ = ["EVAL_EVERY", "TARGETS", "format_first_minute", "measure", "steps_to_targets"]


def measure(seeds: tuple[int, ...] = (0, 1, 2), steps: int = 4000) -> dict[str, Any]:
    """The default setting's figures over ``seeds``: per seed and target, BN's and plain's
    steps and their ratio."""
    rows = []
    for seed in seeds:
        found = steps_to_targets(TrainConfig(seed=seed), steps)
        for t in TARGETS:
            bn, plain = found["bn"][t], found["plain"][t]
            ratio = plain / bn if bn and plain else None
            rows.append({"seed": seed, "target": t, "bn": bn, "plain": plain, "ratio": ratio})
    return {"config": TrainConfig().to_dict(), "max_steps": steps, "rows": rows}


def format_first_minute(report: dict[str, Any]) -> str:
    lines = ["first minute (default setting, compare mode): steps to reach a validation accuracy",
             "seed  target     BN  plain  plain/BN"]  # fmt: skip
    for r in report["rows"]:
        ratio = f"{r['ratio']:.1f}x" if r["ratio"] else "-"
        lines.append(
            f"{r['seed']:>4}  {r['target']:>6.0%}  {r['bn'] or '-':>5}  {r['plain'] or '-':>5}"
            f"  {ratio:>8}"
        )
    return "\n".join(lines)
