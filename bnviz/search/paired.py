"""What a paired round (``Sweep(pair_bn=True)``, ``bnviz sweep --pair-bn``) says: the share of
trials that reach a target, with batch norm and without, and where the good ones lie.

The course: BN makes the hyperparameter search easier, "a lot of suitable options". A paired
round trains the same sampled points both ways, so the two shares compare like with like.
:func:`easier_search_evidence` repeats the round over seeds and says how sure the difference is
(``bnviz lesson bn-makes-the-search-easier``).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path

from bnviz.search.executors import SweepError
from bnviz.search.spaces import SpaceError, parse_space
from bnviz.search.study import Study, TrialRecord, TrialResult, TrialState
from bnviz.search.sweep import Sweep
from bnviz.search.trial import TrialSpec, run_trial
from bnviz.train.config import TrainConfig
from bnviz.train.evidence import Evidence, Unit, summarize
from bnviz.train.jobs import Cancel, Progress, run_jobs


@dataclass(frozen=True)
class Share:
    """Of ``n`` trials of one side (``bn`` True or False), ``good`` reached the target;
    ``extent`` gives, per parameter, the (min, max) of its values over the good trials."""

    bn: bool
    n: int
    good: int
    extent: dict[str, tuple[float, float]]

    @property
    def fraction(self) -> float:
        return self.good / self.n if self.n else math.nan


def reached(t: TrialResult, metric: str, threshold: float) -> bool:
    """Whether trial ``t`` reached the target: ``val_acc >= threshold`` or ``val_loss <=
    threshold``; a diverged, failed or pruned trial never does."""
    if t.state != TrialState.COMPLETE:
        return False
    value = getattr(t, metric)
    if value is None or not math.isfinite(value):
        return False
    return value >= threshold if metric == "val_acc" else value <= threshold


def paired_shares(
    trials: Iterable[TrialRecord],
    metric: str = "val_acc",
    threshold: float = 0.9,
    params: Sequence[str] = ("lr", "beta"),
) -> dict[bool, Share]:
    """``{True: Share with BN, False: Share without}`` over the trials that have a ``bn``
    parameter (the paired ones)."""
    if metric not in ("val_acc", "val_loss"):
        raise ValueError(f"metric must be val_acc or val_loss, got {metric!r}")
    out = {}
    rows = [t for t in trials if "bn" in t.params]
    for bn in (True, False):
        side = [t for t in rows if bool(t.params["bn"]) == bn]
        good = [t for t in side if reached(t, metric, threshold)]
        extent = {}
        for p in params:
            values = [float(t.params[p]) for t in good if p in t.params]
            if values:
                extent[p] = (min(values), max(values))
        out[bn] = Share(bn=bn, n=len(side), good=len(good), extent=extent)
    return out


DEFAULT_POINTS = 30
DEFAULT_EPOCHS = 10
DEFAULT_LR = "1e-4:1:log"
DEFAULT_BETA = "0.9:0.999:1m"


def easier_search_evidence(
    config: TrainConfig,
    seeds: Sequence[int],
    *,
    n: int = DEFAULT_POINTS,
    epochs: int = DEFAULT_EPOCHS,
    lr: str = DEFAULT_LR,
    beta: str = DEFAULT_BETA,
    target: tuple[str, float] = ("val_acc", 0.9),
    executor: Executor | None = None,
    cancel: Cancel = None,
    progress: Progress = None,
) -> Evidence:
    """ "BN makes the search easier", over seeds: per seed, a paired round (``Sweep(...,
    pair_bn=True)``: ``n`` points sampled with the seed, each trained with and without BN,
    same values, same training seed) and the share of trials that reach ``target`` on each
    side. The unit is one sampled point (reached with BN, reached without: 1 or 0 each),
    bootstrapped within each seed. Plain SGD has no momentum to search, so it becomes
    ``momentum`` (as in the view). Raises SweepError for a bad space or setting."""
    metric, threshold = target
    if metric not in ("val_acc", "val_loss"):
        raise SweepError(f"the target's metric must be val_acc or val_loss, got {metric!r}")
    if not seeds:
        raise SweepError("give at least one seed")
    base = replace(config, compare=False)
    if base.optimizer == "sgd":
        base = replace(base, optimizer="momentum")
    try:
        spaces = [parse_space("lr", lr), parse_space("beta", beta)]
    except SpaceError as e:
        raise SweepError(str(e)) from None
    seeds = [int(s) for s in seeds]
    specs: list[TrialSpec] = []
    with tempfile.TemporaryDirectory() as folder, Study(Path(folder) / "pairs.sqlite") as study:
        # the sampling is the paired round's own; nothing is stored (the results are here)
        for s in seeds:
            sweep = Sweep(study, replace(base, seed=s), spaces, n=n, seed=s, epochs=epochs,
                          pair_bn=True)  # fmt: skip
            specs += sweep.specs()
    seed_of = [seeds[i // (2 * n)] for i in range(len(specs))]
    results = run_jobs(
        run_trial, [(spec,) for spec in specs], executor=executor, cancel=cancel,
        progress=progress, describe=lambda i: (
            f"bn-makes-the-search-easier: seed {seed_of[i]}, point {specs[i].index // 2 + 1} "
            f"{'with' if specs[i].params['bn'] else 'without'} BN"),
    )  # fmt: skip
    units, points = [], []
    for i in range(0, len(specs), 2):
        with_bn, without = results[i], results[i + 1]
        assert with_bn.params["bn"] and not without.params["bn"]  # the pairs are consecutive
        hit = (reached(with_bn, metric, threshold), reached(without, metric, threshold))
        units.append(Unit(seed_of[i], float(hit[0]), float(hit[1])))
        points.append({"seed": seed_of[i], "lr": with_bn.params["lr"],
                       "beta": with_bn.params["beta"], "bn": _outcome(with_bn),
                       "plain": _outcome(without)})  # fmt: skip
    sign = ">=" if metric == "val_acc" else "<="
    measure = (f"share of the {n} sampled (lr {lr}, beta {beta}) points whose trial reaches "
               f"{metric} {sign} {threshold:g} after {epochs} epochs, with BN and without "
               "(the claim: BN's share is larger)")  # fmt: skip
    setting = {**base.to_dict(), "n": n, "epochs": epochs, "lr_space": lr, "beta_space": beta,
               "target": [metric, threshold]}  # fmt: skip
    claim = (
        "Batch norm makes the hyperparameter search much easier: a much bigger range of "
        "hyperparameters works well."
    )  # the catalog's words (lessons is not importable)
    return summarize("bn-makes-the-search-easier", claim, measure, setting, 1, units=units,
                     extra={"points": points})  # fmt: skip


def _outcome(r: TrialResult) -> dict:
    return {"state": r.state.value, "val_acc": r.val_acc, "val_loss": r.val_loss}
