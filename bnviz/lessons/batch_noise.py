"""Noise that regularizes: BN's mini-batch statistics are noisy, more so for small batches.

Each mini-batch normalizes with its own mean and variance, estimates of the whole set's that
wobble from batch to batch (the spread of a mean of b examples falls like 1/sqrt(b)). That noise
is added to every hidden unit, a little like dropout: the course's "slight regularization
effect", weaker for larger mini-batches.

:func:`noise_experiment` trains the same network for a few epochs with several mini-batch
sizes, with BN and without (the control: no batch statistics, no such noise), each in its own
job (pass a ``concurrent.futures`` executor to run them in worker processes), and measures for
each the gap between training and validation loss and the spread of BN's batch mean and
variance across mini-batches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, replace

import numpy as np

from bnviz.data import Dataset
from bnviz.lessons.bn_inside import bn_trace
from bnviz.nn import layers
from bnviz.nn.network import MLP
from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.trainer import Trainer, load_data

DEFAULT_BATCH_SIZES = (8, 32, 128, 512)
DEFAULT_EPOCHS = 20
SPREAD_BATCHES = 64  # mini-batches drawn to measure the spread of their statistics


@dataclass(frozen=True)
class NoiseResult:
    """One training of the experiment: its mini-batch size and BN flag, the eval-mode loss and
    accuracy on the training and validation sets after ``steps`` steps, and the spread across
    mini-batches of BN's batch mean and variance in hidden layer 1 (relative: the standard
    deviation over batches of mu_b over the whole set's sigma, and of sigma_b^2 over the whole
    set's sigma^2, averaged over units; the same numbers with BN off, where nothing uses them).
    ``diverged`` results carry NaNs."""

    batch_size: int
    batchnorm: bool
    steps: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    mu_spread: float
    var_spread: float
    diverged: bool

    @property
    def gap(self) -> float:
        """Validation minus training loss: how much the network fits its training set only."""
        return self.val_loss - self.train_loss


def statistic_spread(
    net: MLP, X: np.ndarray, batch_size: int, batches: int = SPREAD_BATCHES, seed: int = 0
) -> tuple[float, float]:
    """Relative spread of hidden layer 1's batch mean and variance over ``batches`` random
    mini-batches of ``batch_size`` rows of X (see :class:`NoiseResult`). The network is not
    changed."""
    if not 2 <= batch_size <= len(X):
        raise ValueError(f"batch_size must be 2..{len(X)} (the rows of X), got {batch_size}")
    whole = bn_trace(net, X, 1)
    sigma = layers.batchnorm_std(whole.var, whole.eps)
    rng = np.random.default_rng(seed)
    mus, vars_ = [], []
    for _ in range(batches):
        t = bn_trace(net, X[rng.choice(len(X), batch_size, replace=False)], 1)
        mus.append(t.mu)
        vars_.append(t.var)
    mu_spread = np.std(np.array(mus), axis=0) / sigma
    var_spread = np.std(np.array(vars_), axis=0) / (sigma**2)
    return float(mu_spread.mean()), float(var_spread.mean())


def train_noise_job(
    config: TrainConfig, batch_size: int, batchnorm: bool, epochs: int, data: Dataset | None = None
) -> NoiseResult:
    """Train ``config`` with this mini-batch size and BN flag for ``epochs`` epochs and
    measure it (a top-level function, so a worker process can run it)."""
    c = replace(config, batch_size=batch_size, batchnorm=batchnorm, compare=False).validated()
    t = Trainer(c, data if data is not None else load_data(c))
    steps = epochs * math.ceil(len(t.data.X_train) / batch_size)
    t.run(steps)
    r = t.runs[0]
    X = t.data.X_train.astype(r.net.dtype)
    Xv = t.data.X_val.astype(r.net.dtype)
    if r.diverged_step is not None:
        nan = math.nan
        return NoiseResult(batch_size, batchnorm, steps, nan, nan, nan, nan, nan, nan, True)
    with np.errstate(all="ignore"):
        tl, ta = _loss_acc(r.net.logits(X), t.data.y_train)
        vl, va = _loss_acc(r.net.logits(Xv), t.data.y_val)
    spread = statistic_spread(r.net, X, min(batch_size, len(X)), seed=c.seed)
    return NoiseResult(batch_size, batchnorm, steps, tl, ta, vl, va, *spread, diverged=False)


def _loss_acc(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    y = np.asarray(y, dtype=np.intp)
    loss = float(layers.softmax_cross_entropy_loss(logits.astype(np.float64), y))
    return loss, float(np.mean(logits.argmax(axis=1) == y))


def check_batch_sizes(sizes: Sequence[int], n_train: int | None = None) -> tuple[int, ...]:
    """The experiment's mini-batch sizes, sorted, each >= 2 (BN needs two examples for a
    variance) and at most the training set's size; a clear error otherwise."""
    out = sorted({int(s) for s in sizes})
    if not out:
        raise ConfigError("give at least one mini-batch size")
    if out[0] < 2:
        raise ConfigError(
            f"mini-batch sizes must be >= 2 (BN's variance over one example is 0), got {out[0]}"
        )
    if n_train is not None and out[-1] > n_train:
        raise ConfigError(
            f"mini-batch size {out[-1]} is larger than the {n_train} training examples"
        )
    return tuple(out)


def noise_experiment(
    config: TrainConfig,
    batch_sizes: Sequence[int] = DEFAULT_BATCH_SIZES,
    epochs: int = DEFAULT_EPOCHS,
    executor: Executor | None = None,
    n_train: int | None = None,
) -> list[Future]:
    """Submit every (mini-batch size, BN on/off) training of the experiment; one future per
    job, resolving to a :class:`NoiseResult` (BN on first for each size). Without an executor
    the jobs run here, one after the other, before this returns. ``n_train``: the training
    set's size, when the caller knows it (sizes above it are refused before anything runs);
    without an executor the data are loaded here and checked."""
    if epochs < 1:
        raise ConfigError(f"epochs must be >= 1, got {epochs}")
    config = config.validated()
    data = load_data(config) if executor is None else None
    if data is not None:
        n_train = len(data.X_train)
    sizes = check_batch_sizes(batch_sizes, n_train)
    jobs = [(b, bn) for b in sizes for bn in (True, False)]
    if executor is None:
        assert data is not None
        out = []
        for b, bn in jobs:
            f: Future = Future()
            f.set_result(train_noise_job(config, b, bn, epochs, data))
            out.append(f)
        return out
    return [executor.submit(train_noise_job, config, b, bn, epochs) for b, bn in jobs]
