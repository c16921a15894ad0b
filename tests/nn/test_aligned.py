"""The arrays a training step writes to start on a cache line (bnviz.nn.aligned), also after a
network or optimizer was pickled (checkpoints) and after the live BN toggle."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from bnviz.nn import aligned
from bnviz.nn.network import MLP
from bnviz.nn.optim import Optimizer


@pytest.mark.parametrize("shape", [0, 1, 7, (3, 5), (128, 64), (2, 0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.intp])
def test_allocations_are_aligned_and_shaped(shape, dtype):
    for a in (aligned.empty(shape, dtype), aligned.zeros(shape, dtype)):
        assert aligned.is_aligned(a) and a.flags.c_contiguous and a.dtype == dtype
        assert a.shape == ((shape,) if isinstance(shape, int) else shape)
    assert not aligned.zeros(shape, dtype).any()
    assert (aligned.full(shape, 3, dtype) == 3).all()
    src = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    c = aligned.copy(src, dtype)
    assert aligned.is_aligned(c) and c.dtype == dtype
    np.testing.assert_array_equal(c, src.astype(dtype))


def _written_arrays(net: MLP) -> list[np.ndarray]:
    ws = net._workspace(16)
    arrays = [net.flat_params, net.flat_grads, net.flat_buffers, net.flat_batch_stats]
    arrays += [ws.logits, ws.p, ws.row_max, ws.row_sum, ws.unbias, ws.buffer_tmp]
    for h in ws.layers:
        arrays += [h.z, h.a, h.da, h.dz, h.tmp]
        if h.bn is not None:
            arrays += [h.bn.z_norm, h.bn.z_tilde, h.bn.std, h.bn.scale, h.bn.c1, h.bn.c2]
    return arrays


def test_network_workspace_and_optimizer_stay_aligned():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 3)).astype(np.float32), rng.integers(0, 2, 16)
    net = MLP([3, 5, 6, 2], batchnorm=True)
    opt = Optimizer("adam", net.flat_params.size)
    net.loss_and_flat_grads(X, y)
    opt.step(net.flat_params, net.flat_grads)
    for candidate in (net, pickle.loads(pickle.dumps(net))):
        assert all(aligned.is_aligned(a) for a in _written_arrays(candidate))
    back = pickle.loads(pickle.dumps(opt))
    for o in (opt, back, copy.deepcopy(opt)):
        assert aligned.is_aligned(o.state["v"]) and aligned.is_aligned(o.state["s"])
    np.testing.assert_array_equal(back.state["v"], opt.state["v"])
    assert back.state["t"] == 1
    # the resumed optimizer continues exactly as the original
    w1, w2 = net.flat_params.copy(), net.flat_params.copy()
    opt.step(w1, net.flat_grads)
    back.step(w2, net.flat_grads)
    np.testing.assert_array_equal(w1, w2)
    old = net.layout
    net.disable_batchnorm()
    opt.remap(old, net.layout)
    assert all(aligned.is_aligned(a) for a in _written_arrays(net))
    assert aligned.is_aligned(opt.state["v"]) and aligned.is_aligned(opt.state["s"])
    old = net.layout
    net.enable_batchnorm(X)  # and back: the new flat arrays are aligned too, and still train
    opt.remap(old, net.layout)
    assert all(aligned.is_aligned(a) for a in _written_arrays(net))
    net.loss_and_flat_grads(X, y)
    before = net.params["gamma1"].copy()
    opt.step(net.flat_params, net.flat_grads)
    assert not np.array_equal(net.params["gamma1"], before)  # the views see the update
