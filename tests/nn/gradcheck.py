"""Central-difference gradient checks (cs231n's gradient_check, vectorized over a dict)."""

from __future__ import annotations

import numpy as np


def numerical_grads(f, params: dict, h: float = 1e-6) -> dict:
    """dL/dp for every array in ``params`` by (f(p+h) - f(p-h)) / 2h, perturbing in place."""
    out = {}
    for name, p in params.items():
        g = np.zeros_like(p)
        it = np.nditer(p, flags=["multi_index"])
        for _ in it:
            i = it.multi_index
            old = p[i]
            p[i] = old + h
            fp = f()
            p[i] = old - h
            fm = f()
            p[i] = old
            g[i] = (fp - fm) / (2 * h)
        out[name] = g
    return out


def rel_error(a: np.ndarray, b: np.ndarray, floor: float = 1e-3) -> float:
    """||a - b|| / (||a|| + ||b||); the floor keeps a gradient that is exactly 0 (beta before a
    linear layer and another BN, say) from turning round-off into a large relative error."""
    return float(np.linalg.norm(a - b) / max(floor, np.linalg.norm(a) + np.linalg.norm(b)))
