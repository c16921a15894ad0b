"""What a study's trials say: which hyperparameter matters, and how samples spread on a scale.

Qt-free maths behind the explorer's importance bars and sampling histograms. Importance is the
absolute Spearman rank correlation between a parameter's axis coordinate (log10(lr),
log10(1 - beta), ...) and the validation loss: rank-based, so it does not care whether the loss
falls linearly or exponentially along the axis, and a diverged trial can simply rank worst.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from bnviz.train.evidence import Z975

HIST_BINS = 10


def rankdata(a: ArrayLike) -> np.ndarray:
    """Ranks 1..n of ``a`` (shape (n,)), ties sharing their average rank (as scipy's default).

    ``inf`` is a value like any other, so diverged trials given ``inf`` tie for the worst rank.
    """
    values = np.asarray(a, dtype=float)
    order = np.argsort(values, kind="mergesort")
    sorted_a = values[order]
    n = len(values)
    ranks = np.empty(n)
    start = 0
    for i in range(1, n + 1):
        if i == n or sorted_a[i] != sorted_a[start]:
            ranks[order[start:i]] = (start + i + 1) / 2.0  # mean of ranks start+1..i
            start = i
    return ranks


def spearman(x: ArrayLike, y: ArrayLike) -> float:
    """Spearman rank correlation of ``x`` and ``y`` (shape (n,) each); NaN if undefined.

    Undefined means fewer than 3 points or a constant input (a fixed parameter, or every trial
    diverged): there is nothing to rank against.
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(xa) != len(ya):
        raise ValueError(f"x and y differ in length: {len(xa)} vs {len(ya)}")
    if len(xa) < 3:
        return math.nan
    rx, ry = rankdata(xa), rankdata(ya)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = math.sqrt(float(rx @ rx) * float(ry @ ry))
    return float(rx @ ry / denom) if denom > 0 else math.nan


def loss_for_ranking(val_loss: float | None, diverged: bool) -> float:
    """A trial's loss for ranking: diverged and NaN trials rank as worst (``inf``).

    A failed trial (its worker raised) has no loss and says nothing about the parameters:
    callers leave it out rather than rank it (see ``points.sampled_coords``).
    """
    if diverged or val_loss is None or not math.isfinite(val_loss):
        return math.inf
    return float(val_loss)


def importance(coords: Mapping[str, ArrayLike], losses: ArrayLike) -> dict[str, float]:
    """|Spearman| between each parameter's axis coordinate and the loss, in [0, 1].

    Parameters
    ----------
    coords : mapping name -> array, shape (n,)
        Each sampled parameter's axis coordinate per trial (``Space.to_axis``); a categorical
        parameter's choice index works too (its order is then arbitrary, so read it loosely).
    losses : array, shape (n,)
        Validation loss per trial, ``inf`` for diverged ones (see :func:`loss_for_ranking`).

    Returns
    -------
    dict
        name -> importance; NaN where undefined (constant parameter or loss, < 3 trials).
    """
    return {name: abs(spearman(c, losses)) for name, c in coords.items()}


#: Below this many trials a parameter's importance is "too few trials" (no value, no interval).
#: Why 8: a parameter that does nothing still shows a |rank correlation| by chance, up to
#: :func:`noise_band` (1.96 / sqrt(n - 1)) in 95% of studies; below 8 trials that is 0.8 or
#: more, so a bar could read almost anything and its interval spans nearly [0, 1]. From 8 on
#: the interval (rho's, mapped to |rho|: :func:`abs_interval`) covered the true value in at
#: least 95% of simulated studies (bivariate normal, rank correlation 0 and 0.58, 300 studies
#: each at n = 8, 10, 12, 16, 20, 30), so a wide interval says how unsure a small study is.
#: A 20-trial minimum (noise band 0.45) would grey out the explorer's default 16-trial round
#: although its intervals are honest; the band at 8 (0.74) is why a small study's intervals
#: are wide, and the tooltip says so.
MIN_TRIALS = 8
#: Resamples of the bootstrap: percentile 95% intervals need their 2.5% and 97.5% quantiles
#: from enough resamples that the quantiles themselves do not wander (Efron & Tibshirani,
#: ch. 13: 1,000 to 2,000 for percentile intervals); 2,000 keeps 50 resamples beyond each bound.
BOOTSTRAP_SAMPLES = 2000
INTERVAL = 0.95


def noise_band(n: int) -> float:
    """The |rank correlation| a parameter that does nothing reaches in 95% of studies of ``n``
    trials: 1.96 / sqrt(n - 1), the large-sample null distribution of Spearman's rho (normal
    with variance 1 / (n - 1)); inf for n < 2."""
    return Z975 / math.sqrt(n - 1) if n >= 2 else math.inf


def abs_interval(lo: float, hi: float) -> tuple[float, float]:
    """The interval of |rho| for rho in [lo, hi]: [0, max(|lo|, |hi|)] when it contains 0.

    Percentiles of |rho| itself are folded away from 0: a parameter that does nothing would
    never get an interval admitting it may not matter at all.
    """
    if lo <= 0.0 <= hi:
        return 0.0, max(-lo, hi)
    a, b = sorted((abs(lo), abs(hi)))
    return a, b


def importance_interval(
    coords: ArrayLike, losses: ArrayLike, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0
) -> tuple[float, float]:
    """A 95% interval of ``|spearman(coords, losses)|``: the percentile bootstrap interval of
    rho (trials resampled with replacement ``samples`` times) mapped to |rho|
    (:func:`abs_interval`), widened to hold the estimate itself if a skewed resampling left it
    beside it.

    A fixed ``seed``: the same study always shows the same interval. Resamples with a constant
    column (no ranking) are skipped. NaN, NaN under :data:`MIN_TRIALS` trials, when rho is
    undefined, or when too few resamples rank.
    """
    x, y = np.asarray(coords, dtype=float), np.asarray(losses, dtype=float)
    n = len(x)
    rho = spearman(x, y) if n >= MIN_TRIALS else math.nan
    if math.isnan(rho):
        return math.nan, math.nan
    index = np.random.default_rng(seed).integers(0, n, (samples, n))
    rhos = bootstrap_spearman(x, y, index)
    rhos = rhos[~np.isnan(rhos)]
    if len(rhos) < samples // 2:
        return math.nan, math.nan
    tail = 100 * (1 - INTERVAL) / 2
    lo, hi = abs_interval(*(float(v) for v in np.percentile(rhos, [tail, 100 - tail])))
    return min(lo, abs(rho)), max(hi, abs(rho))


def bootstrap_spearman(x: np.ndarray, y: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``spearman(x[i], y[i])`` for every row ``i`` of ``index`` (shape (B, n)), at once.

    Each resample's average ranks come from counts of the original values' dense ranks (a
    value's rank among the resample = how many drawn values are smaller + (its ties + 1) / 2),
    so B resamples cost a few (B, n) array operations instead of B sorts in Python.
    """
    rx, ry = (_avg_ranks(np.unique(v, return_inverse=True), index) for v in (x, y))
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    den = np.sqrt((rx * rx).sum(axis=1) * (ry * ry).sum(axis=1))
    num = (rx * ry).sum(axis=1)
    out = np.full(len(index), math.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _avg_ranks(unique: tuple[np.ndarray, np.ndarray], index: np.ndarray) -> np.ndarray:
    values, dense = unique
    m, rows = len(values), len(index)
    d = dense.reshape(-1)[index]  # (B, n) dense rank of each drawn value
    counts = np.bincount((d + m * np.arange(rows)[:, None]).ravel(), minlength=rows * m)
    counts = counts.reshape(rows, m)
    table = np.cumsum(counts, axis=1) - counts + (counts + 1) / 2.0
    return np.take_along_axis(table, d, axis=1)


def scale_histograms(
    q: ArrayLike, lo: float, hi: float, bins: int = HIST_BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Counts of sampled values on a linear and on a log10 axis, on fixed edges.

    Fixed edges (from the search range, not the data) keep bars comparable between rounds:
    a zoomed round shows up as a spike rather than as a rescaled axis.

    Parameters
    ----------
    q : array, shape (n,)
        The plotted quantity (``lr``, or ``1 - beta`` for a one-minus space).
    lo, hi : float
        The range the edges cover (``lo < hi``).

    Returns
    -------
    lin_edges (bins + 1,), lin_counts (bins,), log_edges (bins + 1,) or None,
    log_counts (bins,) or None
        The log10 pair is None when ``lo <= 0`` (no logarithm to take).
    """
    qa = np.asarray(q, dtype=float)
    qa = qa[np.isfinite(qa)]
    if not lo < hi:
        lo, hi = lo - 0.5, hi + 0.5  # a single value still gets a visible bin
    lin_edges = np.linspace(lo, hi, bins + 1)
    lin_counts = np.histogram(np.clip(qa, lo, hi), lin_edges)[0]
    if lo <= 0:
        return lin_edges, lin_counts, None, None
    log_edges = np.linspace(math.log10(lo), math.log10(hi), bins + 1)
    log_q = np.log10(np.clip(qa[qa > 0], lo, hi))
    return lin_edges, lin_counts, log_edges, np.histogram(log_q, log_edges)[0]


#: The course's order of importance when tuning (1 = tune first): alpha first; then momentum
#: beta, the mini-batch size and the hidden units; then the number of layers and learning-rate
#: decay; Adam's beta2 (and beta1, eps) almost never. Settings not in this list: None.
COURSE_TIERS: dict[str, int] = {
    "lr": 1,
    "beta": 2,
    "batch_size": 2,
    "width": 2,
    "layers": 3,
    "lr_decay": 3,
    "beta2": 4,
}
COURSE_ORDER = (
    "the course: alpha first; then momentum beta, mini-batch size, hidden units; then layers "
    "and learning-rate decay; Adam's beta1, beta2, eps almost never"
)


def course_tier(name: str) -> int | None:
    """The course's rank for tuning parameter ``name`` (1 first .. 4 almost never), or None."""
    return COURSE_TIERS.get(name)


def agreement(values: Mapping[str, float]) -> str:
    """One sentence comparing a study's measured importance with the course's order: which
    parameter came out on top, and every pair of the course's ranks the data turn round."""
    known = {n: v for n, v in values.items() if not math.isnan(v)}
    if not known:
        return "not enough trials to measure importance yet"
    ordered = sorted(known, key=lambda n: -known[n])
    text = "measured: " + " > ".join(f"{n} {known[n]:.2f}" for n in ordered)
    ranked = [n for n in ordered if course_tier(n) is not None]
    flips = [
        f"{b} above {a}"
        for i, a in enumerate(ranked)
        for b in ranked[i + 1 :]
        if (course_tier(b) or 0) < (course_tier(a) or 0)
    ]
    if len(ranked) < 2:
        verdict = "too few of the course's parameters sampled to compare"
    elif not flips:
        verdict = "agrees with the course's order"
    else:
        verdict = "the course ranks " + ", ".join(flips) + " (here they come out the other way)"
    return f"{text}; {verdict}"
