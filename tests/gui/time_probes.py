"""A probe the test-time view's tests ask the training process for: the three evaluations and
the running estimates of the live networks, computed apart from the view's own probe."""

from __future__ import annotations

from typing import Any

import numpy as np

from bnviz.lessons import eval_modes
from bnviz.lessons.bn_at_test_time import MAX_EVAL_ROWS
from bnviz.train.probes import ProbeContext, probe


@probe("test_eval_modes_now")
def eval_modes_now(ctx: ProbeContext, layer: int = 1) -> dict[str, Any]:
    X = np.asarray(ctx.data.X_val[:MAX_EVAL_ROWS], dtype=ctx.dtype)
    y = np.asarray(ctx.data.y_val[:MAX_EVAL_ROWS])
    out: dict[str, Any] = {"step": ctx.step}
    for r in ctx.runs:
        modes = eval_modes(r.net, X, y, r.config.batch_size)
        out[r.name] = {m: (res.acc, res.loss, res.pred.copy()) for m, res in modes.items()}
        if r.net.batchnorm:
            out[r.name]["running_mean"] = r.net.buffers[f"running_mean{layer}"][:4].copy()
    return out
