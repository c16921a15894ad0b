"""How sure a lesson is: a BN-vs-plain claim measured over seeds, with a 95% interval.

One seed is an anecdote: "5 of 30 vs 0 of 30" may be luck. A lesson's experiment trains the BN
network and its plain twin (same start, same batches) for several seeds and hands the results to
:func:`summarize`, which says how large the difference BN - plain is and how sure we are of it:

- with *units* (the design's real pairs, e.g. the sampled points of a paired search, or the
  measurements of one run paired by step), a percentile bootstrap over the units **stratified by
  seed**: each resample draws, within every seed, as many units as it has, with replacement;
  the statistic is the mean over seeds of each seed's mean (every seed weighs the same, as in
  ``per_seed``). The seeds are strata, not a sample: seed-to-seed variation beyond the units is
  not in this interval.
- without units, a Student t interval over the seeds' values (n - 1 degrees of freedom); with
  one seed there is no interval (``(-inf, inf)``, null in JSON) and the verdict is inconclusive.

The verdict follows the interval of the paired difference: ``supports`` when it excludes 0 on
the side the claim says (``direction`` +1: BN's measure is larger; -1: smaller), ``refutes`` when
it excludes 0 on the other side, ``inconclusive`` otherwise.

Generic statistics only (no lesson, no search): both ``bnviz.lessons`` and ``bnviz.search`` use it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SUPPORTS, REFUTES, INCONCLUSIVE = "supports", "refutes", "inconclusive"
DEFAULT_RESAMPLES = 10_000
#: Below this many units in some seed the bootstrap is not used (see :func:`summarize`).
MIN_UNITS_PER_SEED = 2
#: Student t's 97.5% quantile for 1..30 degrees of freedom (two-sided 95%), to 4 decimals
#: (any statistics table, e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2); above 30 see
#: :func:`t_quantile_975`.
T975 = (
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
    2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
    2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
)  # fmt: skip
Z975 = 1.959963984540054  # the standard normal's 97.5% quantile


@dataclass(frozen=True)
class Estimate:
    """A mean and its 95% interval (``(-inf, inf)`` when there is none, e.g. one seed)."""

    mean: float
    ci95: tuple[float, float]

    def to_json(self) -> dict:
        return {"mean": _json_float(self.mean), "ci95": [_json_float(x) for x in self.ci95]}


@dataclass(frozen=True)
class SeedResult:
    """One seed's headline measure for the BN network and for its plain twin."""

    seed: int
    bn: float
    plain: float


@dataclass(frozen=True)
class Unit:
    """The design's real unit: one pair measured with and without BN; ``seed`` is its stratum."""

    seed: int
    bn: float
    plain: float


@dataclass(frozen=True)
class Evidence:
    """A lesson's claim measured over seeds (see the module docstring); :meth:`to_json` is
    ``bnviz lesson NAME --json``'s object."""

    lesson: str
    claim: str
    measure: str
    setting: dict
    seeds: tuple[int, ...]
    per_seed: tuple[SeedResult, ...]
    bn: Estimate
    plain: Estimate
    difference: Estimate
    verdict: str
    direction: int
    interval: str
    units: tuple[Unit, ...] = ()
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """The issue's keys (lesson, claim, measure, setting, seeds, per_seed, bn, plain,
        difference, verdict) plus direction, interval, units (when the design has them) and
        extra. NaN and infinities are null."""
        out: dict[str, Any] = {
            "lesson": self.lesson,
            "claim": self.claim,
            "measure": self.measure,
            "setting": self.setting,
            "seeds": list(self.seeds),
            "per_seed": [
                {"seed": r.seed, "bn": _json_float(r.bn), "plain": _json_float(r.plain)}
                for r in self.per_seed
            ],
            "bn": self.bn.to_json(),
            "plain": self.plain.to_json(),
            "difference": self.difference.to_json(),
            "verdict": self.verdict,
            "direction": self.direction,
            "interval": self.interval,
        }
        if self.units:
            out["units"] = [
                {"seed": u.seed, "bn": _json_float(u.bn), "plain": _json_float(u.plain)}
                for u in self.units
            ]
        out["extra"] = json_safe(self.extra)
        return out


def verdict_of(difference: Estimate, direction: int) -> str:
    """``supports`` if the interval of BN - plain excludes 0 on the claim's side (``direction``
    +1: BN larger, -1: BN smaller), ``refutes`` if it excludes 0 on the other side, else
    ``inconclusive`` (also for a NaN bound)."""
    if direction not in (1, -1):
        raise ValueError(f"direction must be +1 or -1, got {direction}")
    lo, hi = difference.ci95
    if not (lo <= hi):  # NaN
        return INCONCLUSIVE
    if lo > 0:
        return SUPPORTS if direction > 0 else REFUTES
    if hi < 0:
        return SUPPORTS if direction < 0 else REFUTES
    return INCONCLUSIVE


def t_quantile_975(df: int) -> float:
    """Student t's 97.5% quantile with ``df`` degrees of freedom: the table :data:`T975` up to
    30, above that the Cornish-Fisher expansion around the normal quantile (error < 1e-4)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if df <= len(T975):
        return T975[df - 1]
    z = Z975
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


def t_interval(values: Sequence[float]) -> Estimate:
    """Mean and Student t 95% interval ``mean +- t(n-1) s / sqrt(n)``; ``(-inf, inf)`` for one
    value, NaN when any value is NaN."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        raise ValueError("no values")
    mean = float(x.mean())
    if x.size == 1:
        return Estimate(mean, (-math.inf, math.inf))
    half = t_quantile_975(x.size - 1) * float(x.std(ddof=1)) / math.sqrt(x.size)
    return Estimate(mean, (mean - half, mean + half))


def stratified_bootstrap(
    strata: Sequence[np.ndarray], resamples: int = DEFAULT_RESAMPLES, rng_seed: int = 0
) -> Estimate:
    """Mean over strata of each stratum's mean, with a percentile 95% interval from resampling
    every stratum's values (with replacement, its own size) ``resamples`` times."""
    if not strata or any(len(s) == 0 for s in strata):
        raise ValueError("every stratum needs at least one value")
    rng = np.random.default_rng(rng_seed)
    total = np.zeros(resamples)
    for s in strata:
        s = np.asarray(s, dtype=np.float64)
        idx = rng.integers(0, s.size, size=(resamples, s.size))
        total += s[idx].mean(axis=1)
    stats = total / len(strata)
    mean = float(np.mean([np.mean(s) for s in strata]))
    if np.isnan(stats).any():
        return Estimate(mean, (math.nan, math.nan))
    lo, hi = np.percentile(stats, [2.5, 97.5])
    # a percentile of identical values can round one ulp off them; keep the mean inside
    return Estimate(mean, (min(float(lo), mean), max(float(hi), mean)))


def summarize(
    lesson: str,
    claim: str,
    measure: str,
    setting: dict,
    direction: int,
    per_seed: Sequence[SeedResult] = (),
    units: Sequence[Unit] = (),
    extra: dict | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    rng_seed: int = 0,
) -> Evidence:
    """The :class:`Evidence` of a lesson's experiment.

    With ``units``, ``per_seed`` is derived from them (each seed's mean of its units, seeds in
    order of first appearance; a ``per_seed`` given too is ignored) and the intervals are the
    stratified bootstrap's, unless some seed has fewer than :data:`MIN_UNITS_PER_SEED` units
    (a single unit resamples to itself: a zero-width interval that would claim certainty), when
    they are the t intervals over the seeds' means; without units, the t intervals over
    ``per_seed``. ``interval`` says which.
    """
    if direction not in (1, -1):
        raise ValueError(f"direction must be +1 or -1, got {direction}")
    units = tuple(units)
    by_seed: dict[int, list[Unit]] = {}
    for u in units:
        by_seed.setdefault(u.seed, []).append(u)
    seed_means = tuple(
        SeedResult(s, float(np.mean([u.bn for u in us])), float(np.mean([u.plain for u in us])))
        for s, us in by_seed.items()
    )
    bootstrap = bool(units) and min(len(us) for us in by_seed.values()) >= MIN_UNITS_PER_SEED
    if units and not bootstrap:
        # one unit in a seed resamples to itself: the bootstrap would claim no uncertainty
        # at all, so the seeds' own means go to the t interval instead
        per_seed = seed_means
    if bootstrap:
        rows = seed_means

        def boot(values: Any) -> Estimate:
            strata = [
                np.array([values(u) for u in us], dtype=np.float64) for us in by_seed.values()
            ]
            return stratified_bootstrap(strata, resamples, rng_seed)

        bn, plain = boot(lambda u: u.bn), boot(lambda u: u.plain)
        diff = boot(lambda u: u.bn - u.plain)
        kind = (f"bootstrap over {len(units)} pairs stratified by seed ({resamples:,} resamples, "
                "percentile)")  # fmt: skip
    else:
        rows = tuple(per_seed)
        if not rows:
            raise ValueError("no seeds: give per_seed or units")
        bn = t_interval([r.bn for r in rows])
        plain = t_interval([r.plain for r in rows])
        diff = t_interval([r.bn - r.plain for r in rows])
        n = len(rows)
        kind = f"t over {n} seed{'s' if n != 1 else ''} ({n - 1} df)"
        if n == 1:
            kind = "none: one seed (no interval)"
    return Evidence(
        lesson=lesson,
        claim=claim,
        measure=measure,
        setting=dict(setting),
        seeds=tuple(r.seed for r in rows),
        per_seed=rows,
        bn=bn,
        plain=plain,
        difference=diff,
        verdict=verdict_of(diff, direction),
        direction=direction,
        interval=kind,
        units=units,
        extra=dict(extra or {}),
    )


def _json_float(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def json_safe(value: Any) -> Any:
    """A value (``extra``, a command's report) as strict JSON: NaN/inf -> null, tuples ->
    lists, NumPy scalars -> Python."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return _json_float(float(value))
    raise TypeError(f"extra holds a {type(value).__name__}, which JSON cannot hold")
