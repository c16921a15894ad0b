"""The measures of the lessons without a BN/plain pair, for ``bnviz lesson NAME`` with no window.

- Inside a BN unit: the identities the inspector shows, checked on a trained network's
  mini-batch, each with its largest error: shifting b leaves z~ unchanged (mu absorbs it),
  z_norm has mean 0 and variance sigma^2 / (sigma^2 + eps) per unit, and the identity gamma and
  beta (gamma = sqrt(sigma^2 + eps), beta = mu) give back z~ = z.
- Babysitting signals: each layer's update-to-weight ratio after some training, with the
  verdict of :class:`bnviz.lessons.babysitting.Babysitter` (the lesson's own rule).
- Are the probabilities right: each network's calibration after some training
  (:func:`bnviz.lessons.calibration.calibration_measures`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from bnviz.lessons import babysitting
from bnviz.lessons.bn_inside import bn_trace, identity_gamma_beta
from bnviz.lessons.calibration import calibration_measures
from bnviz.nn import layers
from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.trainer import Trainer

__all__ = ["babysitting_signals", "calibration_measures", "unit_checks"]

DEFAULT_STEPS = 300
BIAS_SHIFT = 1.0
#: Largest error accepted, relative to the size of what is compared (float32 arithmetic).
TOLERANCE = 1e-4


def _trained(config: TrainConfig, steps: int) -> Trainer:
    if steps < 1:
        raise ConfigError(f"steps must be >= 1, got {steps}")
    trainer = Trainer(replace(config, compare=False).validated())
    trainer.run(steps)
    if trainer.all_diverged:
        raise ConfigError(f"the network diverged within {steps} steps: nothing to measure")
    return trainer


def unit_checks(config: TrainConfig, steps: int = DEFAULT_STEPS) -> dict:
    """Train ``config`` (BN on) for ``steps`` steps and check the BN identities on its last
    mini-batch in every hidden layer: ``{"checks": [{"check", "layer", "error", "scale",
    "ok"}...], "ok": all of them}``; ``error`` is the largest absolute difference and
    ``scale`` what it is relative to."""
    config = replace(config, batchnorm=True)
    trainer = _trained(config, steps)
    net = trainer.runs[0].net
    X, _ = trainer.last_batch
    checks = []

    def check(name: str, layer: int, error: float, scale: float) -> None:
        ok = bool(error <= TOLERANCE * max(scale, 1.0))
        checks.append({"check": name, "layer": layer, "error": float(error),
                       "scale": float(scale), "ok": ok})  # fmt: skip

    for layer in range(1, net.n_layers):
        t = bn_trace(net, X, layer)
        shifted = bn_trace(net, X, layer, bias=BIAS_SHIFT)
        big = float(np.abs(t.z_tilde).max())
        check(f"shifting b by {BIAS_SHIFT:g} leaves z~ unchanged", layer,
              np.abs(shifted.z_tilde - t.z_tilde).max(), big)  # fmt: skip
        check("z_norm has mean 0 per unit", layer, np.abs(t.z_norm.mean(axis=0)).max(), 1.0)
        expected = t.var / (t.var + t.eps)  # the variance of z_norm, eps included
        check("z_norm has variance sigma^2 / (sigma^2 + eps) per unit", layer,
              np.abs(t.z_norm.var(axis=0) - expected).max(), 1.0)  # fmt: skip
        gamma, beta = identity_gamma_beta(t)
        back, *_ = layers.batchnorm_forward(np.asarray(t.z), gamma, beta, t.eps)
        check("gamma = sqrt(sigma^2 + eps), beta = mu give z~ = z", layer,
              np.abs(back - t.z).max(), float(np.abs(t.z).max()))  # fmt: skip
    return {"steps": steps, "tolerance": TOLERANCE, "checks": checks,
            "ok": all(c["ok"] for c in checks)}  # fmt: skip


def babysitting_signals(config: TrainConfig, steps: int = DEFAULT_STEPS) -> dict:
    """Train ``config`` for ``steps`` steps, reading each weight layer's signals every
    ``SIGNALS_EVERY`` steps as the view does, and give the last reading with the lesson's own
    verdict: ``{"layers": [{"layer", "grad_norm", "weight_norm", "update_norm", "ratio",
    "verdict"}...], "diverged_step"}``; a run that diverges gives its last reading before.

    The verdict is :mod:`bnviz.lessons.babysitting`'s ``Babysitter``: the view's rule over the
    last readings."""
    config = replace(config, compare=False).validated()
    if steps < 1:
        raise ConfigError(f"steps must be >= 1, got {steps}")
    trainer = Trainer(config)
    every = babysitting.SIGNALS_EVERY
    sitter = babysitting.Babysitter()
    verdicts: dict[int, str] = {}
    signals: tuple = ()
    diverged = None
    while trainer.step_count < steps:
        trainer.run(min(every, steps - trainer.step_count))
        r = trainer.runs[0]
        if r.diverged_step is not None:  # the readings before it are what a user saw
            diverged = r.diverged_step
            break
        signals = babysitting.layer_signals(r.net, r.opt, trainer.epoch)
        verdicts = sitter.add(babysitting.SignalsPoint(r.name, trainer.step_count, signals))
    if not signals:
        raise ConfigError(f"the network diverged at step {diverged}, before the first reading")
    rows = []
    for s in signals:
        row = {"layer": s.layer, "grad_norm": s.grad_norm, "weight_norm": s.weight_norm,
               "update_norm": s.update_norm, "ratio": s.ratio, "layer_ratio": s.layer_ratio,
               "growth": s.growth, "verdict": verdicts[s.layer]}  # fmt: skip
        rows.append(row)
    return {"steps": steps, "diverged_step": diverged, "layers": rows}
