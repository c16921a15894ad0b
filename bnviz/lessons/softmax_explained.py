"""Softmax explained: hardmax beside softmax, temperature, the cross-entropy of one example, and
"C = 2 is logistic regression".

With two classes, ``a_1 = e^{z_1} / (e^{z_0} + e^{z_1}) = 1 / (1 + e^{-(z_1 - z_0)})``: the
softmax probability of class 1 is the sigmoid of the difference of the two logits, so a 2-class
softmax network is logistic regression on ``z_1 - z_0`` (with no hidden layer, exactly the
course's logistic regression). :func:`logistic_check` and :func:`curves_along` show it on a
network's own logits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bnviz.nn import layers
from bnviz.nn.network import MLP
from bnviz.train.probes import ProbeContext, probe
from bnviz.train.snapshot import frozen

LINE_POINTS = 200  # points along the line of "C = 2 is logistic regression"
LINE_INTERVAL_S = 0.25  # as often as the decision regions


def hardmax(z: np.ndarray) -> np.ndarray:
    """One-hot at the argmax of each row of ``z`` (..., C); the first of tied maxima wins."""
    z = np.asarray(z)
    out = np.zeros(z.shape, dtype=np.float64)
    np.put_along_axis(out, np.argmax(z, axis=-1)[..., None], 1.0, axis=-1)
    return out


def logit_cross_entropy(z: np.ndarray, y: int, temperature: float = 1.0) -> float:
    """``-log a_y`` with ``a = softmax(z / T)`` for one example's logits ``z`` (C,): the
    network's own loss (:func:`bnviz.nn.layers.softmax_cross_entropy_loss`, from the shifted
    logits) of a batch of one, on ``z / T``. Finite where a_y itself underflows to 0 (a sure,
    wrong example at small T). At T = 1 it is the example's share of the loss the network
    trains on."""
    logits = np.asarray(z, dtype=np.float64)[None, :] / temperature
    return layers.softmax_cross_entropy_loss(logits, np.array([y]))


def logistic_check(z: np.ndarray, temperature: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """For 2-class logits ``z`` (m, 2): the softmax probability of class 1 at temperature T and
    ``sigmoid((z_1 - z_0) / T)``, which are equal (to rounding)."""
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"need logits of 2 classes, shape (m, 2), got {z.shape}")
    return layers.softmax(z, temperature)[:, 1], layers.sigmoid((z[:, 1] - z[:, 0]) / temperature)


@dataclass(frozen=True)
class LineCurves:
    """Along a line through the data: position ``t`` (m,), the points (m, n_in), the network's
    logits there (m, 2), and at temperature ``temperature`` the softmax probability of class 1
    and sigmoid((z_1 - z_0) / T) (both (m,))."""

    t: np.ndarray
    points: np.ndarray
    softmax_p1: np.ndarray
    sigmoid_diff: np.ndarray
    logits: np.ndarray
    temperature: float = 1.0

    def at(self, temperature: float) -> LineCurves:
        """The same line at another temperature (no network needed: the logits are kept)."""
        p1, sig = logistic_check(self.logits, temperature)
        return LineCurves(self.t, self.points, p1, sig, self.logits, temperature)


def line_through(X: np.ndarray, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points on the line through the mean of X along its first principal axis, from the
    lowest to the highest projection of the data; returns (t, points)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) < 2:
        raise ValueError(f"need at least 2 rows of data, got shape {X.shape}")
    mean = X.mean(axis=0)
    _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
    axis = vt[0]
    proj = (X - mean) @ axis
    t = np.linspace(proj.min(), proj.max(), n)
    return t, mean + t[:, None] * axis


def curves_along(
    net: MLP, X: np.ndarray, n: int = LINE_POINTS, temperature: float = 1.0
) -> LineCurves:
    """The two curves of "C = 2 is logistic regression" on a line through X (eval mode)."""
    if net.n_classes != 2:
        raise ValueError(f"the network has {net.n_classes} classes; this needs 2")
    t, points = line_through(X, n)
    logits = np.asarray(net.logits(points.astype(net.dtype)), dtype=np.float64)
    p1, sig = logistic_check(logits, temperature)
    return LineCurves(t, points, p1, sig, logits, temperature)


@probe("softmax_line", seconds=LINE_INTERVAL_S)
def softmax_line(ctx: ProbeContext, n: int = LINE_POINTS) -> tuple[tuple[str, LineCurves], ...]:
    """Per live network ``(run name, curves)`` along the line through the training data (at
    T = 1; :meth:`LineCurves.at` gives any other T). Empty unless the network has 2 classes."""
    out = []
    for r in ctx.runs:
        if r.diverged_step is None and r.net.n_classes == 2:
            with np.errstate(all="ignore"):
                c = curves_along(r.net, ctx.data.X_train, n)
            parts = (c.t, c.points, c.softmax_p1, c.sigmoid_diff, c.logits)
            t, points, p1, sig, logits = (frozen(a) for a in parts)
            out.append((r.name, LineCurves(t, points, p1, sig, logits)))
    return tuple(out)
