"""The trainer: one network, or twins in lockstep, on one mini-batch stream.

Compare mode builds both networks from the same seed (so the same initial W) and feeds them the
same mini-batches, so any difference in their curves is the compared setting's doing (batch
norm by default; :mod:`bnviz.train.twins`). When the twins differ in mini-batch size each has a
stream of its own with the same seed: the same shuffled order of examples every epoch, each
taking its own batch size from it (so the twins see the same examples per epoch, not per
step). Hyperparameters may change between steps; a network whose loss or parameters stop
being finite is marked diverged and left alone while the other keeps training. Nothing raises
out of :meth:`Trainer.step`.
"""

from __future__ import annotations

import functools
import math
import pickle
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bnviz.data import Dataset, load_dataset
from bnviz.data.csv_reader import Progress
from bnviz.nn import blas, fpenv
from bnviz.nn.layers import softmax_cross_entropy_loss
from bnviz.nn.network import MLP
from bnviz.nn.optim import Hyper, Optimizer
from bnviz.train import snapshot
from bnviz.train.bn_record import RunningRecord
from bnviz.train.config import BN_BATCH_OF_ONE, PARAMS, ConfigError, TrainConfig
from bnviz.train.snapshot import EvalResult, Event, LayerStats, Snapshot
from bnviz.train.stats import Ewma, StableBins
from bnviz.train.twins import differs, twin_configs

PROBE_SIZE = 128  # examples in the fixed probe batch the snapshots histogram (cost scales with it)
# The live app evaluates on a fixed random subset of at most this many validation rows (see
# Trainer.eval_rows), so an evaluation every 0.25 s costs the same on a 200,000-row set.
LIVE_EVAL_ROWS = 5000
SHOWN_EXAMPLES = 2000  # validation (and training) examples whose logits an evaluation keeps
SMOOTHING = 0.98
# A finite loss can still have exploded. Chance, ln C, is what a network that knows nothing
# scores; one step above EXPLODED_SPIKE x chance, or a smoothed loss above EXPLODED_SUSTAINED x
# chance once SETTLE_STEPS steps have passed (one unlucky early batch is not a divergence),
# marks the network diverged like a NaN does.
EXPLODED_SPIKE = 1000.0
EXPLODED_SUSTAINED = 10.0
SETTLE_STEPS = 50
MAX_PENDING_LOSSES = 20000  # losses kept for the next snapshot; halved when nobody takes them
# One row per evaluation and network in Trainer.metrics; the CSV layout of --metrics and the app.
METRIC_FIELDS = ("step", "epoch", "run", "train_loss", "smoothed_loss", "val_loss", "val_acc", "lr")
# What a checkpoint leaves out: the data set and the arrays made from it, which the config
# rebuilds (deterministically, by seed) where the trainer resumes.
_DATA_ATTRS = frozenset({"data", "_X", "_y", "_Xv", "_yv", "_probe", "_layers_cache"})


def load_data(c: TrainConfig, progress: Progress | None = None) -> Dataset:
    """The data set a config names (a built-in generator with its knobs, or a file);
    ``progress`` as in :func:`bnviz.data.files.load_file`."""
    return load_dataset(
        c.dataset, n_classes=c.n_classes, noise=c.noise, n_samples=c.n_samples,
        val_fraction=c.val_fraction, seed=c.seed, progress=progress,
    )  # fmt: skip


class BatchStream:
    """Mini-batches of indices into the training set, reshuffled every epoch by a seeded RNG.

    A final remainder smaller than the batch size is dropped (every step sees a full batch,
    which batch norm's statistics need); a batch size change applies from the next call."""

    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.rng = np.random.default_rng(seed)
        self.epoch = 0
        self._perm = self.rng.permutation(n)
        self._pos = 0

    def next(self, batch_size: int) -> np.ndarray:
        """The next batch; ``epoch`` counts completed passes over the data."""
        b = min(batch_size, self.n)
        if self._pos + b > self.n:  # the batch size grew past what is left of this epoch
            self._new_epoch()
        idx = self._perm[self._pos : self._pos + b]
        self._pos += b
        if self._pos + b > self.n:
            self._new_epoch()
        return idx

    def _new_epoch(self) -> None:
        self.epoch += 1
        self._perm = self.rng.permutation(self.n)
        self._pos = 0


def _check_labels(y: np.ndarray, n_classes: int) -> None:
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(
            f"the training labels must be class indices in 0..{n_classes - 1}, "
            f"found {y.min()}..{y.max()}"
        )


@functools.lru_cache(maxsize=8)
def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    ones = np.ones(n, dtype)
    ones.setflags(write=False)
    return ones


def _all_finite(v: np.ndarray) -> bool:
    """Whether every entry of the flat vector ``v`` is finite, in one BLAS pass in the usual case:
    a NaN or an infinity anywhere makes the sum NaN or infinite (0.9-1.3 us on 13,000-27,000
    parameters, against 2.2-3.3 us for ``np.isfinite(v).all()``, which makes a bool array
    first). Only a sum that overflows with every entry finite takes the exact check too. Call it
    inside ``np.errstate(over="ignore")``, as a training step runs, or that overflow warns."""
    if math.isfinite(float(np.dot(v, _ones(v.size, v.dtype)))):
        return True
    return bool(np.isfinite(v).all())


class Run:
    """One network with its optimizer, losses and divergence state; ``config`` is its own
    settings (a twin's differ from the trainer's in the compared setting) and ``stream`` the
    mini-batch stream it draws from (shared unless the twins differ in batch size)."""

    def __init__(
        self, name: str, net: MLP, optimizer: Optimizer, config: TrainConfig, stream: BatchStream
    ) -> None:
        self.name = name
        self.config = config
        self.stream = stream
        self.net = net
        self.opt = optimizer
        self.diverged_step: int | None = None
        self.message = ""
        self.ewma = Ewma(SMOOTHING)
        self.pending_steps: list[int] = []
        self.pending_losses: list[float] = []
        self.pending_smoothed: list[float] = []
        self.since_eval: list[float] = []
        self.evaluation: EvalResult | None = None
        self.events: list[Event] = []
        self.chance = math.log(max(2, net.sizes[-1]))  # the loss of a uniform guess, ln C
        self.bn_record = RunningRecord()  # past running estimates, for the test-time lesson

    def __getstate__(self) -> dict[str, Any]:
        # A checkpoint (a sweep's trial between rungs) leaves out the test-time lesson's
        # record of past running estimates: ~100 kB a network that only the live app shows.
        return {k: v for k, v in vars(self).items() if k != "bn_record"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        vars(self).update(state)
        self.bn_record = RunningRecord()

    def train_step(self, X: np.ndarray, y: np.ndarray, step: int, epoch: int) -> float | None:
        if self.diverged_step is not None:
            return None
        net, why = self.net, ""
        try:
            with np.errstate(all="ignore"):
                loss = net.loss_and_flat_grads(X, y, labels_checked=True)
                if not np.isfinite(loss):
                    why = f"loss became {loss}"
                elif loss > EXPLODED_SPIKE * self.chance:
                    why = f"loss exploded to {loss:.3g}"
                else:
                    self.opt.step(net.flat_params, net.flat_grads, epoch)
                    if not _all_finite(net.flat_params):
                        why = "a parameter became non-finite"
        except (FloatingPointError, ValueError, OverflowError, MemoryError) as e:
            why = f"{type(e).__name__}: {e}"
        smoothed = self.ewma.update(loss) if not why else math.nan
        if not why and self.ewma.t >= SETTLE_STEPS and smoothed > EXPLODED_SUSTAINED * self.chance:
            why = f"the smoothed loss {smoothed:.3g} is over {EXPLODED_SUSTAINED:g}x chance"
        if why:
            self._diverge(step, why)
            return None
        self.pending_steps.append(step)
        self.pending_losses.append(loss)
        self.pending_smoothed.append(smoothed)
        self.since_eval.append(loss)
        self.bn_record.record(step, net, len(X))
        if len(self.pending_losses) > MAX_PENDING_LOSSES:  # nobody takes snapshots: stay bounded
            del self.pending_steps[::2], self.pending_losses[::2], self.pending_smoothed[::2]
        return loss

    def _diverge(self, step: int, why: str) -> None:
        self.diverged_step = step
        self.message = f"{self.name} diverged at step {step}: {why}"


class Trainer:
    """Trains according to a :class:`TrainConfig` on a :class:`Dataset`.

    Parameters
    ----------
    config : the settings; validated here.
    data : the data set; loaded from ``config.dataset`` when omitted.
    """

    def __init__(self, config: TrainConfig | None = None, data: Dataset | None = None) -> None:
        blas.limit_blas_threads()
        self.config = (config or TrainConfig()).validated()
        c = self.config
        self.data = data = data if data is not None else load_data(c)
        self.dtype = np.float32
        # The data set's own (read-only) arrays when their types fit: a copy of MNIST's 60,000
        # rows took 0.2 s of every new run's start
        self._X = np.asarray(data.X_train, self.dtype)
        self._y = np.asarray(data.y_train, np.intp)
        _check_labels(self._y, data.n_classes)  # once here, so no step checks its batch's
        self._Xv = np.asarray(data.X_val, self.dtype)
        self._yv = np.asarray(data.y_val, np.intp)
        self._eval_rows: np.ndarray | None = None  # None: the whole validation set
        self.stream = BatchStream(len(self._X), c.seed)
        probe_rng = np.random.default_rng(c.seed + 1)
        n_probe = min(PROBE_SIZE, len(self._X))
        self._probe = self._X[np.sort(probe_rng.choice(len(self._X), n_probe, replace=False))]
        self.step_count = 0
        self.batch_size = c.batch_size
        self.bins = StableBins()
        # run name -> ((network id, BN on), its last layer statistics), for snapshot(False)
        self._layers_cache: dict[str, tuple[tuple[int, bool], tuple[LayerStats, ...]]] = {}
        self.metrics: list[dict[str, Any]] = []
        first = slice(0, min(c.batch_size, len(self._X)))
        self._last_batch = (self._X[first], self._y[first])
        self.runs = [self._make_run(name, rc) for name, rc in twin_configs(c)]

    def _make_run(self, name: str, c: TrainConfig) -> Run:
        sizes = [self.data.n_features, *c.hidden, self.data.n_classes]
        net = MLP(sizes, c.activation, c.batchnorm, c.bn_momentum, c.eps, c.seed, self.dtype)
        net.set_input_scaling(self.data.mean, self.data.std)  # saved with it: raw inputs work
        hyper = Hyper(lr=c.lr, beta=c.momentum, beta2=c.beta2, decay=c.lr_decay)
        # Same seed, same shuffles: a twin with another batch size reads the same order.
        own = c.batch_size != self.config.batch_size
        stream = BatchStream(len(self._X), c.seed) if own else self.stream
        opt = Optimizer(c.optimizer, net.layout.size, hyper, self.dtype)
        return Run(name, net, opt, c, stream)

    # -- pausing: a checkpoint to continue from, in another process ---------------------------
    def checkpoint(self) -> bytes:
        """Everything but the data set, pickled: networks, optimizer state, the batch stream's
        position and RNG, step count, metrics, events.

        :meth:`resume` continues from it bit for bit, as if the run had never stopped; a sweep
        carries it between the rungs of successive halving, from one worker to another. A few
        kB for a small network (the parameters twice or three times over, with the optimizer's
        moments). Pickle: only load checkpoints this program made.
        """
        state = {k: v for k, v in vars(self).items() if k not in _DATA_ATTRS}
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def resume(cls, checkpoint: bytes, data: Dataset | None = None) -> Trainer:
        """The trainer a :meth:`checkpoint` was taken of; ``data`` as in the constructor
        (loaded again from the checkpoint's config when omitted)."""
        state = pickle.loads(checkpoint)
        trainer = cls(state["config"], data)
        vars(trainer).update(state)
        return trainer

    # -- stepping ------------------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        return self.stream.epoch

    @property
    def all_diverged(self) -> bool:
        return all(r.diverged_step is not None for r in self.runs)

    @property
    def last_batch(self) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)`` of the last mini-batch, (B, D) and (B,), read-only; before the first step,
        the first ``batch_size`` training examples."""
        return _read_only(self._last_batch[0]), _read_only(self._last_batch[1])

    @property
    def probe_batch(self) -> np.ndarray:
        """The fixed (PROBE_SIZE, D) training examples the snapshots' histograms are taken on,
        read-only."""
        return _read_only(self._probe)

    def step(self) -> list[float | None]:
        """One mini-batch for every live network; returns each network's loss (None when
        diverged). Once every network has diverged, nothing happens: the step count stays at
        the step that broke them."""
        if self.all_diverged:
            return [None] * len(self.runs)
        with fpenv.flushed():  # subnormal moments of dead units cost 40% of a step otherwise
            return self._step()

    def _step(self) -> list[float | None]:
        self.step_count += 1
        batches: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        losses = []
        for r in self.runs:
            batch = batches.get(id(r.stream))
            if batch is None:
                idx = r.stream.next(r.config.batch_size)
                batch = batches[id(r.stream)] = (self._X[idx], self._y[idx])
            losses.append(r.train_step(*batch, self.step_count, r.stream.epoch))
        self._last_batch = batches[id(self.runs[0].stream)]
        return losses

    def run(self, steps: int) -> None:
        for _ in range(steps):
            self.step()

    def _layer_stats(self, r: Run, fresh: bool) -> tuple[LayerStats, ...]:
        key = (id(r.net), r.net.batchnorm)
        cached = self._layers_cache.get(r.name)
        if not fresh and cached is not None and cached[0] == key:
            return cached[1]
        layers = snapshot.layer_stats(r.net, self._probe, self.bins, r.name)
        self._layers_cache[r.name] = (key, layers)
        return layers

    # -- babysitting: changes between steps ----------------------------------------------------
    def set_hparams(self, **changes: Any) -> None:
        """Change a live setting (``PARAMS[name].live``: lr, momentum, beta2, lr_decay,
        batch_size, bn_momentum, eps); applies from the next step and is logged as an event.

        In compare mode a change applies to both networks, except a change to the compared
        setting, which applies to the first only: the twin keeps its own value."""
        if not changes:
            return
        try:
            new = replace(self.config, **changes).validated()
        except TypeError as e:
            raise ConfigError(str(e)) from None
        bad = {name for name in changes if not PARAMS[name].live}
        if bad:
            raise ConfigError(f"cannot change {', '.join(sorted(bad))} during a run; reset instead")
        text = ", ".join(f"{k} {getattr(self.config, k):g} -> {getattr(new, k):g}" for k in changes)
        self.config = new
        self.batch_size = new.batch_size
        kept = differs(new)
        for i, r in enumerate(self.runs):
            own = i > 0 and kept is not None
            rc = replace(new, **{kept: getattr(r.config, kept)}) if own and kept else new
            rc = replace(rc, batchnorm=r.net.batchnorm)
            r.config = rc
            r.opt.set(lr=rc.lr, beta=rc.momentum, beta2=rc.beta2, decay=rc.lr_decay)
            r.net.bn_momentum, r.net.eps = rc.bn_momentum, rc.eps
            if own and kept in changes:  # the twin's line says it kept its value
                text_i = f"{text} (the twin keeps {r.name})"
            else:
                text_i = text
            r.events.append(Event(self.step_count, "hparam", text_i))

    def set_batchnorm(self, on: bool, run: str | None = None) -> None:
        """Switch BN on or off in a live network without a jump in its loss (see
        :meth:`MLP.enable_batchnorm`); the optimizer state follows the new layout.
        Twins that differ in another setting switch together."""
        if not on and differs(self.config) == "bn_momentum":
            raise ConfigError("the twins differ in BN momentum: BN stays on (reset to change)")
        if on and any(r.config.batch_size < 2 for r in self.runs if run in (None, r.name)):
            raise ConfigError(BN_BATCH_OF_ONE)
        for r in self.runs:
            if (run is not None and r.name != run) or r.net.batchnorm == on:
                continue
            old = r.net.layout
            if on:
                r.net.enable_batchnorm(self._last_batch[0])
            else:
                r.net.disable_batchnorm()
            r.opt.remap(old, r.net.layout)
            r.bn_record.clear()
            kind = "bn_on" if on else "bn_off"
            r.events.append(Event(self.step_count, kind, "BN on" if on else "BN off"))
            r.config = replace(r.config, batchnorm=on)
        if differs(self.config) is not None or not self.config.compare:
            self.config = replace(self.config, batchnorm=on)

    # -- measuring -----------------------------------------------------------------------------
    def limit_evaluation(self, rows: int | None) -> None:
        """Evaluate on a fixed random subset of at most ``rows`` validation rows (seeded by the
        config's seed, the same rows every time) instead of the whole set; ``None`` restores the
        whole set. The live app does this so each evaluation's cost does not grow with the data;
        ``bnviz train`` and sweeps evaluate on everything."""
        n = len(self._yv)
        if rows is None or n <= rows:
            self._eval_rows = None
            return
        # The first SHOWN_EXAMPLES rows come first and whole: the views index val_logits by
        # validation row.
        head = min(SHOWN_EXAMPLES, rows)
        rng = np.random.default_rng(self.config.seed + 2)
        rest = np.sort(rng.choice(np.arange(head, n), rows - head, replace=False))
        self._eval_rows = np.concatenate([np.arange(head), rest])

    @property
    def evaluated_rows(self) -> int:
        """How many validation rows an evaluation uses."""
        return len(self._yv) if self._eval_rows is None else len(self._eval_rows)

    def evaluate(self, outputs: bool = True) -> list[EvalResult | None]:
        """Eval-mode loss, accuracy and confusion on the validation set for every network (on
        its fixed subset of rows after :meth:`limit_evaluation`, which the live app sets for a
        large set); appends one record per network to :attr:`metrics`. ``outputs=False`` skips the
        training-set logits the views show (a sweep trial needs only the numbers)."""
        out = []
        for r in self.runs:
            train_loss = float(np.mean(r.since_eval)) if r.since_eval else float("nan")
            r.since_eval = []
            if r.diverged_step is not None:
                res = None
                val_loss = val_acc = float("nan")
            else:
                res = self._evaluate_run(r, train_loss, outputs)
                r.evaluation = res
                val_loss, val_acc = res.val_loss, res.val_acc
            self.metrics.append(
                {
                    "step": self.step_count,
                    "epoch": r.stream.epoch,
                    "run": r.name,
                    "train_loss": train_loss,
                    "smoothed_loss": r.ewma.corrected,
                    "val_loss": val_loss,
                    "val_acc": val_acc,
                    "lr": r.opt.hyper.lr,
                    "diverged": r.diverged_step is not None,
                }
            )
            out.append(res)
        return out

    def _evaluate_run(self, r: Run, train_loss: float, outputs: bool = True) -> EvalResult:
        Xv, yv = self._Xv, self._yv
        if self._eval_rows is not None:
            Xv, yv = Xv[self._eval_rows], yv[self._eval_rows]
        with np.errstate(all="ignore"):
            logits = r.net.logits(Xv)
            val_loss = softmax_cross_entropy_loss(logits, yv)
            pred = logits.argmax(axis=1)
            C = self.data.n_classes
            confusion = np.bincount(yv * C + pred, minlength=C * C).reshape(C, C)
            shown = self._X[:SHOWN_EXAMPLES] if outputs else self._X[:0]
            train_logits = r.net.logits(shown)
        return EvalResult(
            step=self.step_count,
            epoch=r.stream.epoch,
            train_loss=train_loss,
            val_loss=val_loss,
            val_acc=float(np.mean(pred == yv)),
            confusion=snapshot.frozen(confusion),
            val_logits=snapshot.frozen(logits[:SHOWN_EXAMPLES]),
            train_logits=snapshot.frozen(train_logits),
        )

    def snapshot(self, fresh_layers: bool = True) -> tuple[Snapshot, ...]:
        """One :class:`Snapshot` per network, handing over the losses since the last one.

        ``fresh_layers=False`` reuses each network's last layer statistics (the probe batch's
        histograms: most of a snapshot's cost on a big network) when it has some for the same
        network, so a caller can take them less often than snapshots. Views that need more
        (decision regions, a lesson's measurements) ask for a probe (:mod:`bnviz.train.probes`).
        """
        out = []
        shown = min(SHOWN_EXAMPLES, len(self._Xv))
        for r in self.runs:
            alive = r.diverged_step is None
            layers = self._layer_stats(r, fresh_layers) if alive else ()
            out.append(
                Snapshot(
                    run=r.name,
                    batchnorm=r.net.batchnorm,
                    step=self.step_count,
                    epoch=r.stream.epoch,
                    loss_steps=snapshot.frozen(np.array(r.pending_steps, dtype=np.int64)),
                    losses=snapshot.frozen(np.array(r.pending_losses, dtype=np.float64)),
                    smoothed_losses=snapshot.frozen(np.array(r.pending_smoothed, np.float64)),
                    smoothed_loss=r.ewma.corrected,
                    lr=r.opt.hyper.rate(self.epoch),
                    batch_size=r.config.batch_size,
                    diverged_step=r.diverged_step,
                    layers=layers,
                    activation=r.net.activation,
                    saturation=snapshot.saturation(r.net.activation),
                    shown_examples=shown,
                    evaluation=r.evaluation,
                    events=tuple(r.events),
                    message=r.message,
                )
            )
            r.pending_steps, r.pending_losses, r.pending_smoothed = [], [], []
        return tuple(out)


def _read_only(a: np.ndarray) -> np.ndarray:
    view = a.view()
    view.setflags(write=False)
    return view


def save_models(runs: Sequence[Run], path: str | Path) -> list[str]:
    """Save each network to ``path``; with more than one (compare mode) to NAME-RUN.npz beside
    it (NAME-bn.npz and NAME-plain.npz, or e.g. NAME-lr=0.5.npz). Returns the files written."""
    p, out = Path(path), []
    for r in runs:
        target = p if len(runs) == 1 else p.with_name(f"{p.stem}-{r.name}.npz")
        r.net.save(target)
        out.append(str(target))
    return out


def write_metrics(path: str | Path, metrics: Sequence[dict[str, Any]]) -> None:
    """Write :attr:`Trainer.metrics` as CSV (floats to 6 significant digits)."""
    import csv

    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=METRIC_FIELDS, extrasaction="ignore")
        w.writeheader()
        for m in metrics:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in m.items()})
