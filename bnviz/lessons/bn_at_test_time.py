"""Batch norm at test time: one example has no batch to take a mean and variance over, so the
network normalizes with running estimates, exponentially weighted averages of the mini-batch
statistics seen in training (``running = k running + (1 - k) batch``, k = the BN momentum).

:func:`eval_modes` evaluates one network three ways so the difference can be seen: with the
running estimates (what ``predict_proba`` does), with each chunk's own statistics (as in
training), and with each example's own statistics, as if it arrived alone: its variance is 0,
so z_norm = 0 and every example gets the same output. That is why the running estimates exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bnviz.lessons.bn_inside import bn_trace
from bnviz.nn import layers
from bnviz.nn.network import MLP
from bnviz.train.bn_record import KEEP_AT, RunningTrace
from bnviz.train.probes import ProbeContext, probe

MODES = ("running", "batch", "single")


@dataclass(frozen=True)
class ModeResult:
    """One way of evaluating: mean cross-entropy, accuracy and the predicted class per row."""

    loss: float
    acc: float
    pred: np.ndarray


def _result(logits: np.ndarray, y: np.ndarray) -> ModeResult:
    with np.errstate(all="ignore"):
        logp = layers.log_softmax(logits.astype(np.float64))
    loss = -float(logp[np.arange(len(y)), y].mean())
    pred = logits.argmax(axis=1)
    pred.setflags(write=False)
    return ModeResult(loss=loss, acc=float(np.mean(pred == y)), pred=pred)


def chunk_logits(net: MLP, X: np.ndarray, size: int) -> np.ndarray:
    """Logits with every consecutive chunk of ``size`` rows normalized by its own batch
    statistics (train-mode BN; the running estimates are not updated)."""
    if size < 1:
        raise ValueError(f"batch_size must be >= 1, got {size}")
    X = np.asarray(X, dtype=net.dtype)
    parts = [net.trace(X[i : i + size], mode="train")[1] for i in range(0, len(X), size)]
    return np.concatenate(parts) if parts else np.zeros((0, net.sizes[-1]), net.dtype)


def eval_modes(net: MLP, X: np.ndarray, y: np.ndarray, batch_size: int) -> dict[str, ModeResult]:
    """``{"running": ..., "batch": ..., "single": ...}`` for the network on (X, y).

    Parameters
    ----------
    net : the network; never changed (parameters and running estimates stay bit-for-bit).
    X : (m, n_in) inputs; y : (m,) labels.
    batch_size : rows per chunk in the ``batch`` mode.
    """
    y = np.asarray(y, dtype=np.intp)
    if len(X) != len(y) or len(y) == 0:
        raise ValueError(f"X and y need the same number of rows (at least 1): {len(X)}, {len(y)}")
    return {
        "running": _result(net.logits(np.asarray(X, dtype=net.dtype)), y),
        "batch": _result(chunk_logits(net, X, batch_size), y),
        "single": _result(chunk_logits(net, X, 1), y),
    }


def eval_with_estimates(net: MLP, buffers: np.ndarray, X: np.ndarray, y: np.ndarray) -> ModeResult:
    """The network's current weights evaluated (eval mode) with other running estimates, e.g.
    those kept after step 10: what a network deployed with estimates taken too early predicts.

    Parameters
    ----------
    net : the network; its running estimates are restored bit-for-bit before this returns.
    buffers : a copy of ``net.flat_buffers`` from another moment (same layout).
    X : (m, n_in) inputs; y : (m,) labels.
    """
    buffers = np.asarray(buffers)
    if buffers.shape != net.flat_buffers.shape:
        raise ValueError(
            f"the kept estimates have {buffers.size} values, the network {net.flat_buffers.size}"
        )
    y = np.asarray(y, dtype=np.intp)
    saved = net.flat_buffers.copy()
    try:  # the probes run between training steps, in the training process: nothing else reads
        net.flat_buffers[...] = buffers
        return _result(net.logits(np.asarray(X, dtype=net.dtype)), y)
    finally:
        net.flat_buffers[...] = saved


@dataclass(frozen=True)
class EarlyEstimate:
    """The current weights evaluated with the running estimates kept after ``step`` steps;
    ``result`` None with ``note`` saying why ("not yet", or not kept)."""

    step: int
    result: ModeResult | None
    note: str = ""


MAX_EVAL_ROWS = 500  # validation rows the live view evaluates three ways (single mode is a loop)
SHOWN_UNITS = 4  # units whose running estimates the view follows


@dataclass(frozen=True)
class TestTimeView:
    """One network at test time: the three evaluations on (part of) the validation set, and
    for the first units of ``layer`` the running mean and variance next to the current
    mini-batch's (what the exponentially weighted average follows)."""

    run: str
    step: int
    layer: int
    modes: dict[str, ModeResult]
    running_mean: np.ndarray | None
    running_var: np.ndarray | None
    batch_mean: np.ndarray | None
    batch_var: np.ndarray | None
    batchnorm: bool = False
    bn_momentum: float = 0.0  # k: running = k running + (1 - k) batch
    batch_size: int = 0
    trace: RunningTrace | None = None  # the first units of ``layer`` over the recorded steps
    early: tuple[EarlyEstimate, ...] = ()


@probe("bn_at_test_time", seconds=1.0)
def bn_at_test_time_probe(ctx: ProbeContext, layer: int = 1) -> tuple[TestTimeView, ...]:
    """Every live network evaluated three ways on the first :data:`MAX_EVAL_ROWS` validation
    rows (in chunks of the training mini-batch size), with its running estimates of ``layer``,
    their recorded history and the evaluations with the estimates kept after 10, 100 and 1,000
    steps (:mod:`bnviz.train.bn_record`)."""
    data = ctx.data
    X = np.asarray(data.X_val[:MAX_EVAL_ROWS], dtype=ctx.dtype)
    y = np.asarray(data.y_val[:MAX_EVAL_ROWS])
    Xb, _ = ctx.last_batch
    out = []
    for r in ctx.runs:
        if r.diverged_step is not None:
            continue
        net = r.net
        modes = eval_modes(net, X, y, r.config.batch_size)  # a twin may differ in it
        rm = rv = bm = bv = None
        lay = min(max(layer, 1), max(net.n_layers - 1, 1))
        bn = net.batchnorm and net.n_layers > 1
        if bn:
            k = SHOWN_UNITS
            rm = _frozen(net.buffers[f"running_mean{lay}"][:k])
            rv = _frozen(net.buffers[f"running_var{lay}"][:k])
            t = bn_trace(net, Xb, lay)
            bm, bv = _frozen(t.mu[:k]), _frozen(t.var[:k])
        record = r.bn_record
        early = tuple(_early(net, record.kept, s, ctx.step, X, y) for s in KEEP_AT) if bn else ()
        out.append(
            TestTimeView(
                r.name,
                ctx.step,
                lay,
                modes,
                rm,
                rv,
                bm,
                bv,
                batchnorm=bn,
                bn_momentum=net.bn_momentum,
                batch_size=r.config.batch_size,
                trace=record.trace(lay) if bn else None,
                early=early,
            )  # fmt: skip
        )
    return tuple(out)


def _early(
    net: MLP, kept: dict[int, np.ndarray], step: int, now: int, X: np.ndarray, y: np.ndarray
) -> EarlyEstimate:
    if step in kept:
        return EarlyEstimate(step, eval_with_estimates(net, kept[step], X, y))
    if now < step:
        return EarlyEstimate(step, None, "not yet")
    return EarlyEstimate(step, None, "not kept: BN was off or switched since")


def _frozen(a: np.ndarray) -> np.ndarray:
    out = np.array(a, copy=True)
    out.setflags(write=False)
    return out
