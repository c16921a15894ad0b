"""What a network's BN running estimates were, kept per run as it trains.

The running estimates at test time are an exponentially weighted average of the mini-batch
statistics; to show it converging, and what estimates taken too early do, the values of past
steps are needed, and the network only holds the current ones. A probe runs only while its view
is shown (and about once a second), so it cannot catch step 10; the trainer records them here
after every step instead, at a cost of one small gather per step:

- a copy of every running estimate (``flat_buffers``) after the steps in :data:`KEEP_AT`;
- for the first :data:`TRACED_UNITS` units of every BN layer, the batch mean and variance of
  each step and the running mean and variance after it, for the first :data:`FIRST_STEPS`
  steps (the convergence from the initial 0 and 1) and the last :data:`LAST_STEPS`.

A network's record starts again when BN is switched (the estimates before belong to another
network) and with every new run (a new trainer).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bnviz.nn.network import MLP

KEEP_AT = (10, 100, 1000)  # steps after which every running estimate is kept
TRACED_UNITS = 4  # units per layer whose statistics are recorded at every step
FIRST_STEPS = 300  # kept for good: k = 0.99 needs a few hundred steps to forget the start
LAST_STEPS = 700  # the most recent steps, in a ring


@dataclass(frozen=True)
class RunningTrace:
    """One layer's first units over the recorded steps, in step order.

    ``steps`` (t,) the step numbers; ``batch_size`` (t,) m of each step and ``momentum`` (t,) the
    k it used; ``batch_mean`` and ``batch_var`` (t, u) the batch's mean and biased variance;
    ``running_mean`` and ``running_var`` (t, u) the running estimates after the step."""

    steps: np.ndarray
    batch_size: np.ndarray
    momentum: np.ndarray
    batch_mean: np.ndarray
    batch_var: np.ndarray
    running_mean: np.ndarray
    running_var: np.ndarray


class RunningRecord:
    """The running-estimate history of one network (see the module docstring)."""

    def __init__(
        self, units: int = TRACED_UNITS, first: int = FIRST_STEPS, last: int = LAST_STEPS
    ) -> None:
        self.units, self.first, self.last = units, first, last
        self.kept: dict[int, np.ndarray] = {}
        self.clear()

    def clear(self) -> None:
        """Forget everything (BN was switched: the old estimates are another network's)."""
        self.kept = {}
        self._index: dict[str, np.ndarray] = {}
        self._flat_index = np.zeros(0, dtype=np.intp)
        self._steps = np.zeros(0, dtype=np.int64)
        self._meta = np.zeros((0, 2))  # m, k per row
        self._batch = np.zeros((0, 0))
        self._running = np.zeros((0, 0))
        self.count = 0  # rows written so far (the ring wraps after first + last)

    def _start(self, net: MLP) -> None:
        """Which entries of the flat buffers to record: the first units of every layer."""
        pos = net.buffer_layout.views(np.arange(net.flat_buffers.size))
        names = [n for n in pos if n.startswith(("running_mean", "running_var"))]
        self._index = {}
        cols: list[int] = []
        for name in names:
            take = pos[name][: self.units]
            self._index[name] = np.arange(len(cols), len(cols) + len(take))
            cols.extend(take.tolist())
        self._flat_index = np.asarray(cols, dtype=np.intp)
        rows = self.first + self.last
        self._steps = np.zeros(rows, dtype=np.int64)
        self._meta = np.zeros((rows, 2))
        self._batch = np.zeros((rows, len(cols)), dtype=net.dtype)
        self._running = np.zeros((rows, len(cols)), dtype=net.dtype)

    def record(self, step: int, net: MLP, m: int) -> None:
        """After training step ``step`` on a batch of ``m`` rows: note what BN did."""
        if not net.batchnorm or net.flat_buffers.size == 0:
            return
        if step in KEEP_AT:
            self.kept[step] = net.flat_buffers.copy()
        if self.count == 0:
            self._start(net)
        if self.count < self.first:
            row = self.count
        else:
            row = self.first + (self.count - self.first) % self.last
        self._steps[row] = step
        self._meta[row] = (m, net.bn_momentum)
        np.take(net.flat_batch_stats, self._flat_index, out=self._batch[row])
        np.take(net.flat_buffers, self._flat_index, out=self._running[row])
        self.count += 1

    def _rows(self) -> np.ndarray:
        """Row numbers in step order."""
        if self.count <= self.first + self.last:
            return np.arange(self.count)
        start = self.first + (self.count - self.first) % self.last
        ring = np.r_[start : self.first + self.last, self.first : start]
        return np.r_[np.arange(self.first), ring]

    def trace(self, layer: int) -> RunningTrace | None:
        """Hidden layer ``layer``'s recorded units (None before the first BN step)."""
        mean_cols = self._index.get(f"running_mean{layer}")
        var_cols = self._index.get(f"running_var{layer}")
        if self.count == 0 or mean_cols is None or var_cols is None:
            return None
        rows = self._rows()

        def frozen(a: np.ndarray) -> np.ndarray:
            a = np.ascontiguousarray(a)
            a.setflags(write=False)
            return a

        b, r = self._batch[rows], self._running[rows]
        return RunningTrace(
            steps=frozen(self._steps[rows]),
            batch_size=frozen(self._meta[rows, 0].astype(np.int64)),
            momentum=frozen(self._meta[rows, 1]),
            batch_mean=frozen(b[:, mean_cols]),
            batch_var=frozen(b[:, var_cols]),
            running_mean=frozen(r[:, mean_cols]),
            running_var=frozen(r[:, var_cols]),
        )
