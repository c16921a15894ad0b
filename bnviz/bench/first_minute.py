"""What a newcomer sees in the first minute: on the default setting, how many steps the network
with batch norm and the one without need to reach the same validation accuracy.

``bnviz bench --first-minute`` trains the default configuration in compare mode (same initial
W, same mini-batches) for a few seeds and reports, per accuracy target, the first evaluated
step at which each network reached it; README quotes the figures.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bnviz.train.config import TrainConfig
from bnviz.train.trainer import Trainer

TARGETS = (0.8, 0.9)
EVAL_EVERY = 25  # steps between evaluations: the resolution of the figures


def steps_to_targets(
    config: TrainConfig, steps: int, targets: tuple[float, ...] = TARGETS
) -> dict[str, dict[float, int | None]]:
    """For each network of a compare-mode run of ``config``: target -> first step reaching it
    (None if it never did within ``steps``)."""
    trainer = Trainer(replace(config, compare=True))
    first: dict[str, dict[float, int | None]] = {
        r.name: dict.fromkeys(targets) for r in trainer.runs
    }
    while trainer.step_count < steps:
        trainer.run(EVAL_EVERY)
        trainer.evaluate(outputs=False)
        for m in trainer.metrics[-len(trainer.runs) :]:
            for t in targets:
                if first[m["run"]][t] is None and m["val_acc"] >= t:
                    first[m["run"]][t] = trainer.step_count
        if all(v is not None for run in first.values() for v in run.values()):
            break
    return first


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
