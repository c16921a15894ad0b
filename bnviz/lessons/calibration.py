"""Are the probabilities right? Calibration and temperature scaling (Guo et al. 2017).

A network's softmax says "90% sure"; calibrated, it is right on 90% of such examples. Modern
networks are often over-confident. :func:`calibration` bins the validation examples by the top
probability and compares each bin's accuracy with its mean confidence (the reliability diagram
and the expected calibration error, ECE); :func:`fit_temperature` finds the one number T that
divides the logits, softmax(z / T), to minimise the validation NLL: temperature scaling, the
softmax panel's T put to work. T > 1 softens over-confident probabilities; the predictions
(argmax) do not change.

The ``calibration`` probe gives the lesson view both, before and after T, for every live network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bnviz.nn.layers import log_softmax, softmax
from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.probes import ProbeContext, probe
from bnviz.train.trainer import Trainer

DEFAULT_BINS = 15  # Guo et al.'s M
T_LOW, T_HIGH = 1e-3, 1e3  # the search's bracket; an optimum outside is reported at its edge
T_RTOL = 1e-3
MEASURE_STEPS = 720  # bnviz lesson are-the-probabilities-right: 30 epochs of its preset
PROBE_ROWS = 5000  # validation rows the probe reads (the first ones: the views' shown examples)
_GOLDEN = (math.sqrt(5) - 1) / 2


@dataclass(frozen=True)
class Calibration:
    """The reliability of one set of predictions, binned on the top probability.

    Bin m (1-based) holds the examples whose top probability lies in ((m-1)/M, m/M]; per bin
    ``count``, mean ``confidence`` and ``accuracy`` (NaN where empty). ``ece`` = sum over bins
    of count/n |accuracy - confidence|; ``mce`` the largest such gap over the non-empty bins."""

    ece: float
    mce: float
    n: int
    edges: tuple[float, ...]  # (M + 1,) 0, 1/M, ..., 1
    count: tuple[int, ...]
    confidence: tuple[float, ...]
    accuracy: tuple[float, ...]

    @property
    def overall_accuracy(self) -> float:
        acc = np.nan_to_num(np.array(self.accuracy)) * np.array(self.count)
        return float(acc.sum() / self.n) if self.n else math.nan


def calibration(proba: np.ndarray, y: np.ndarray, bins: int = DEFAULT_BINS) -> Calibration:
    """Calibration of class probabilities against labels (Guo et al. 2017, section 2).

    Parameters
    ----------
    proba : (n, C) probabilities (rows summing to 1).  y : (n,) labels in 0..C-1.
    bins : M, equal-width bins on the top probability; an edge value m/M falls in bin m.
    """
    p = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y).ravel()
    if p.ndim != 2 or len(p) != len(y):
        raise ValueError(f"proba must be (n, C) with n = len(y); got {p.shape} and {len(y)} labels")
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    edges = np.linspace(0.0, 1.0, bins + 1)
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    # the first upper edge >= conf: conf in ((m-1)/M, m/M] goes to bin m (index m - 1)
    which = np.clip(np.searchsorted(edges[1:], conf, side="left"), 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(which, conf, minlength=bins) / count
        acc = np.bincount(which, correct, minlength=bins) / count
    gap = np.abs(acc - mean_conf)
    n = len(y)
    filled = count > 0
    ece = float(np.sum(count[filled] / n * gap[filled])) if n else math.nan
    mce = float(gap[filled].max()) if filled.any() else math.nan
    return Calibration(
        ece=ece, mce=mce, n=n, edges=tuple(edges.tolist()), count=tuple(count.tolist()),
        confidence=tuple(mean_conf.tolist()), accuracy=tuple(acc.tolist()),
    )  # fmt: skip


def nll(logits: np.ndarray, y: np.ndarray, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of softmax(z / T) at the labels."""
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(y).ravel()
    if len(z) == 0:
        return math.nan
    logp = log_softmax(z, temperature)
    return float(-logp[np.arange(len(y)), y].mean())


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The T > 0 minimising the mean NLL of softmax(z / T) (temperature scaling).

    The NLL is convex in 1 / T (a log-sum-exp of linear functions), so it has one minimum in
    log T: a golden-section search on log T over [T_LOW, T_HIGH] to a relative width of 1e-3
    finds it (or the bracket's edge, when the best T lies beyond: every prediction right and
    far apart wants T -> 0, a network no better than chance T -> infinity).

    Parameters
    ----------
    logits : (n, C) output-layer z.  y : (n,) labels.
    """
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2 or len(z) == 0 or len(z) != len(np.asarray(y).ravel()):
        raise ValueError("fit_temperature needs (n, C) logits, n >= 1, and n labels")
    if not np.isfinite(z).all():
        raise ValueError("the logits are not all finite")

    def f(u: float) -> float:
        return nll(z, y, math.exp(u))

    a, b = math.log(T_LOW), math.log(T_HIGH)
    c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    fc, fd = f(c), f(d)
    while b - a > T_RTOL / 4:  # a width in log T of 1e-3/4: T within 1e-3 relative
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - _GOLDEN * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + _GOLDEN * (b - a)
            fd = f(d)
    return math.exp((a + b) / 2)


@dataclass(frozen=True)
class RunCalibration:
    """One network's calibration on the validation rows, before and after temperature scaling
    (``temperature`` fitted on the same rows)."""

    run: str
    batchnorm: bool
    step: int
    before: Calibration
    after: Calibration
    nll_before: float
    nll_after: float
    temperature: float


def calibrate(name: str, batchnorm: bool, step: int, logits: np.ndarray, y: np.ndarray,
              bins: int = DEFAULT_BINS) -> RunCalibration:  # fmt: skip
    """Calibration of ``logits`` before and after fitting T on them."""
    z = np.asarray(logits, dtype=np.float64)
    t = fit_temperature(z, y)
    return RunCalibration(
        run=name, batchnorm=batchnorm, step=step,
        before=calibration(softmax(z), y, bins), after=calibration(softmax(z, t), y, bins),
        nll_before=nll(z, y), nll_after=nll(z, y, t), temperature=t,
    )  # fmt: skip


@probe("calibration", seconds=1.0)
def calibration_probe(ctx: ProbeContext, bins: int = DEFAULT_BINS) -> tuple[RunCalibration, ...]:
    """Every live network's calibration on (at most PROBE_ROWS of) the validation set, eval
    mode, before and after fitting T there."""
    data = ctx.data
    X = np.asarray(data.X_val[:PROBE_ROWS], ctx.dtype)
    y = np.asarray(data.y_val[:PROBE_ROWS], np.intp)
    out = []
    for r in ctx.runs:
        if r.diverged_step is not None or len(y) == 0:
            continue
        with np.errstate(all="ignore"):
            logits = r.net.logits(X)
        if np.isfinite(logits).all():
            out.append(calibrate(r.name, r.net.batchnorm, ctx.step, logits, y, bins))
    return tuple(out)


def calibration_measures(config: TrainConfig, steps: int = MEASURE_STEPS) -> dict:
    """``bnviz lesson are-the-probabilities-right``: train ``config`` (the twins in compare
    mode) for ``steps`` steps and give each live network's calibration on the whole validation
    set: ``{"steps", "diverged_step", "networks": [{"run", "accuracy", "ece", "mce",
    "temperature", "ece_at_t", "nll", "nll_at_t", "count", "confidence", "bin_accuracy"}]}``."""
    if steps < 1:
        raise ConfigError(f"steps must be >= 1, got {steps}")
    trainer = Trainer(config.validated())
    trainer.run(steps)
    data = trainer.data
    if len(data.y_val) == 0:
        raise ConfigError("no validation set to measure calibration on (--val-fraction)")
    X = np.asarray(data.X_val, trainer.dtype)
    networks, diverged = [], None
    for r in trainer.runs:
        if r.diverged_step is not None:
            diverged = r.diverged_step
            continue
        c = calibrate(r.name, r.net.batchnorm, trainer.step_count, r.net.logits(X), data.y_val)
        networks.append({
            "run": r.name, "accuracy": c.before.overall_accuracy, "ece": c.before.ece,
            "mce": c.before.mce, "temperature": c.temperature, "ece_at_t": c.after.ece,
            "nll": c.nll_before, "nll_at_t": c.nll_after, "count": list(c.before.count),
            "confidence": list(c.before.confidence), "bin_accuracy": list(c.before.accuracy),
        })  # fmt: skip
    if not networks:
        raise ConfigError(f"every network diverged (at step {diverged}): nothing to measure")
    return {"steps": steps, "diverged_step": diverged, "networks": networks}
