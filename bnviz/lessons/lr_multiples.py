"""The BN paper's higher learning rates at small scale: BN and plain at alpha, 5 alpha, 30 alpha.

Ioffe and Szegedy (2015) trained Inception with BN at 5x and 30x the learning rate (BN-x5,
BN-x30): batch norm keeps the layers' inputs in range, so a larger step does not blow the network
up. Here each (seed, multiple) trains the twins, with and without BN, from the same start on the
same mini-batches for the same number of steps at ``multiple * alpha`` and records whether each
diverged and its validation accuracy (a diverged network scores chance, 1/C: it predicts
nothing). Over seeds: how many diverged, the mean accuracy with a t interval, and the paired
difference BN - plain with its own t interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, replace

from bnviz.data import Dataset
from bnviz.train import evidence
from bnviz.train.config import TrainConfig
from bnviz.train.trainer import Trainer

MULTIPLES = (1.0, 5.0, 30.0)
DEFAULT_STEPS = 300
DEFAULT_SEEDS = (0, 1, 2)
INTERVAL = "t over seeds (n - 1 df), 95%"


@dataclass(frozen=True)
class MultipleRun:
    """One network of one (seed, multiple): its lr, whether it diverged (and at which step), its
    final validation accuracy (chance when diverged) and loss (NaN when diverged)."""

    seed: int
    multiple: float
    lr: float
    batchnorm: bool
    diverged_step: int | None
    val_acc: float
    val_loss: float

    @property
    def diverged(self) -> bool:
        return self.diverged_step is not None


def t_interval(values: Sequence[float]) -> tuple[float, float, float]:
    """``(mean, low, high)``: :func:`bnviz.train.evidence.t_interval` as a tuple (with one value
    the interval is (-inf, inf): one seed says nothing about the spread)."""
    if not len(values):
        return math.nan, math.nan, math.nan
    e = evidence.t_interval(values)
    return e.mean, e.ci95[0], e.ci95[1]


def twins_at(
    config: TrainConfig, seed: int, multiple: float, steps: int = DEFAULT_STEPS,
    data: Dataset | None = None,
) -> tuple[MultipleRun, MultipleRun]:  # fmt: skip
    """BN then plain, trained ``steps`` mini-batches at ``multiple * config.lr`` from seed
    ``seed``'s start on the same mini-batches."""
    lr = config.lr * multiple
    c = replace(config, lr=lr, seed=seed, compare=True, compare_setting="batchnorm",
                compare_value="", lr_decay=0.0).validated()  # fmt: skip
    trainer = Trainer(c, data)
    for _ in range(steps):
        if trainer.all_diverged:
            break
        trainer.step()
    results = trainer.evaluate(outputs=False)
    chance = 1.0 / trainer.data.n_classes
    out = []
    for r, res in zip(trainer.runs, results):
        out.append(
            MultipleRun(
                seed=seed, multiple=multiple, lr=lr, batchnorm=r.net.batchnorm,
                diverged_step=r.diverged_step,
                val_acc=res.val_acc if res is not None else chance,
                val_loss=res.val_loss if res is not None else math.nan,
            )
        )  # fmt: skip
    return out[0], out[1]


def multiples_experiment(
    config: TrainConfig,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    multiples: Sequence[float] = MULTIPLES,
    steps: int = DEFAULT_STEPS,
    executor: Executor | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[Future]:
    """One future per (seed, multiple), each resolving to :func:`twins_at`'s pair. With no
    ``executor`` they run here, one after another (``cancel`` checked between them)."""
    config = config.validated()
    futures: list[Future] = []
    for multiple in multiples:
        for seed in seeds:
            if executor is not None:
                futures.append(executor.submit(twins_at, config, seed, multiple, steps))
                continue
            f: Future = Future()
            if cancel is not None and cancel():
                f.cancel()
            else:
                f.set_running_or_notify_cancel()
                f.set_result(twins_at(config, seed, multiple, steps))
            futures.append(f)
    return futures


@dataclass(frozen=True)
class MultipleSummary:
    """One multiple over seeds: per network the diverged count and the accuracy's mean with
    its t interval, and the paired difference BN - plain."""

    multiple: float
    lr: float
    seeds: int
    bn_diverged: int
    plain_diverged: int
    bn_acc: tuple[float, float, float]
    plain_acc: tuple[float, float, float]
    difference: tuple[float, float, float]


def summarize(pairs: Sequence[tuple[MultipleRun, MultipleRun]]) -> list[MultipleSummary]:
    """One :class:`MultipleSummary` per multiple, in increasing order."""
    out = []
    for m in sorted({bn.multiple for bn, _ in pairs}):
        ps = [(bn, plain) for bn, plain in pairs if bn.multiple == m]
        bn_acc = [bn.val_acc for bn, _ in ps]
        plain_acc = [p.val_acc for _, p in ps]
        out.append(
            MultipleSummary(
                multiple=m, lr=ps[0][0].lr, seeds=len(ps),
                bn_diverged=sum(bn.diverged for bn, _ in ps),
                plain_diverged=sum(p.diverged for _, p in ps),
                bn_acc=t_interval(bn_acc), plain_acc=t_interval(plain_acc),
                difference=t_interval([a - b for a, b in zip(bn_acc, plain_acc)]),
            )
        )  # fmt: skip
    return out
