"""The training step of :class:`~bnviz.nn.network.MLP` with preallocated arrays.

For the small networks bnviz trains, a step costs about as much in per-call overhead and fresh
temporaries as in arithmetic. So a :class:`Workspace` allocates every array of a step once per
batch size and calls the formulas of :mod:`bnviz.nn.layers` with those arrays as ``out=`` and
scratch arguments: the same functions the readable reference composes (the tests hold the two
equal step after step), never a second copy of the maths.

Names follow the layers: ``z = a_prev W^T (+ b)``, BN ``z_norm``, ``z_tilde``, ``a = g(z_tilde)``.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from bnviz.nn import aligned, layers
from bnviz.nn.layout import ParamLayout


class Network(Protocol):
    """What a workspace reads of its network (an :class:`~bnviz.nn.network.MLP`, which
    imports this module, so it is described here rather than imported)."""

    sizes: list[int]
    activation: str
    batchnorm: bool
    bn_momentum: float
    eps: float
    dtype: np.dtype
    params: dict[str, np.ndarray]
    _grads: dict[str, np.ndarray]
    batch_stats: dict[str, np.ndarray]
    buffer_layout: ParamLayout
    flat_buffers: np.ndarray
    flat_batch_stats: np.ndarray

    @property
    def n_layers(self) -> int: ...


class BatchnormArrays:
    """One BN layer's parameters, gradients, batch statistics and scratch (views into the
    network's flat arrays where they are the network's state)."""

    __slots__ = ("gamma", "beta", "dgamma", "dbeta", "mu", "var", "z_norm", "z_tilde", "std",
                 "scale", "c1", "c2", "cache")  # fmt: skip

    def __init__(self, net: Network, l: int, m: int) -> None:
        n, dt = net.sizes[l], net.dtype
        P, G, S = net.params, net._grads, net.batch_stats
        self.gamma, self.beta = P[f"gamma{l}"], P[f"beta{l}"]
        self.dgamma, self.dbeta = G[f"gamma{l}"], G[f"beta{l}"]
        # the batch statistics land in the flat array the running update reads in one go
        self.mu, self.var = S[f"running_mean{l}"], S[f"running_var{l}"]
        self.z_norm, self.z_tilde = aligned.empty((m, n), dt), aligned.empty((m, n), dt)
        self.std, self.scale = aligned.empty(n, dt), aligned.empty(n, dt)
        self.c1, self.c2 = aligned.empty(n, dt), aligned.empty(n, dt)
        self.cache: layers.BatchnormCache | None = None


class HiddenArrays:
    """One hidden layer's arrays for batches of m rows."""

    __slots__ = ("W", "dW", "b", "db", "z", "a", "da", "dz", "tmp", "bn", "cache")

    def __init__(self, net: Network, l: int, m: int) -> None:
        n, dt = net.sizes[l], net.dtype
        self.W, self.dW = net.params[f"W{l}"], net._grads[f"W{l}"]
        self.b: np.ndarray | None = None
        self.db: np.ndarray | None = None
        self.bn: BatchnormArrays | None = None
        if net.batchnorm:
            self.bn = BatchnormArrays(net, l, m)
        else:
            self.b, self.db = net.params[f"b{l}"], net._grads[f"b{l}"]
        self.z, self.a, self.da, self.dz, self.tmp = (aligned.empty((m, n), dt) for _ in range(5))
        self.cache: layers.AffineCache | None = None

    @property
    def z_tilde(self) -> np.ndarray:
        """The activation's input: BN's output, or z without BN."""
        return self.z if self.bn is None else self.bn.z_tilde


class Workspace:
    """Every array of one train-mode forward and backward pass for batches of ``m`` rows.

    Holds views of the network's parameters, gradients and BN buffers, so it must be rebuilt
    when the network's layout changes (:meth:`MLP._install` drops it).
    """

    def __init__(self, net: Network, m: int) -> None:
        dt, L, C = net.dtype, net.n_layers, net.sizes[-1]
        self.net, self.m = net, m
        self.ones = aligned.full(m, 1, dt)
        self.mean_w = aligned.full(m, 1.0 / max(m, 1), dt)
        self.layers = [HiddenArrays(net, l, m) for l in range(1, L)]
        P, G = net.params, net._grads
        self.W_out, self.b_out = P[f"W{L}"], P[f"b{L}"]
        self.dW_out, self.db_out = G[f"W{L}"], G[f"b{L}"]
        self.out_cache: layers.AffineCache | None = None
        self.logits, self.p = aligned.empty((m, C), dt), aligned.empty((m, C), dt)
        self.row_max, self.row_sum = aligned.empty(m, dt), aligned.empty(m, dt)
        self.ones_c = aligned.full(C, 1, dt)
        self.row_start = np.arange(m, dtype=np.intp) * C
        self.flat_idx = np.empty(m, dtype=np.intp)
        # Every layer's running estimates are updated in one call on the flat buffers: the
        # weight is 1 for a mean and m/(m-1) for a variance, entry by entry.
        self.unbias = aligned.full(net.flat_buffers.size, 1, dt)
        for name, view in net.buffer_layout.views(self.unbias).items():
            if name.startswith("running_var"):
                view[...] = layers.unbiased_variance_factor(m)
        self.buffer_tmp = aligned.empty(self.unbias.size, dt)

    # -- forward -----------------------------------------------------------------------------
    def forward(self, X: np.ndarray, update_buffers: bool) -> np.ndarray:
        """Train-mode forward of X (m, n_in); returns the logits (m, C), a workspace array."""
        net = self.net
        act, eps, a = net.activation, net.eps, X
        for h in self.layers:
            z, h.cache = layers.affine_forward(a, h.W, h.b, out=h.z)
            bn = h.bn
            if bn is not None:
                z, bn.cache, _, _ = layers.batchnorm_forward(
                    z, bn.gamma, bn.beta, eps, out=bn.z_tilde, z_norm=bn.z_norm, mu=bn.mu,
                    var=bn.var, std=bn.std, tmp=h.tmp, mean_w=self.mean_w,
                )  # fmt: skip
            a = layers.activation_forward(z, act, out=h.a)
        if update_buffers and net.batchnorm:
            layers.running_average(
                net.flat_buffers, net.flat_batch_stats, net.bn_momentum, self.unbias,
                tmp=self.buffer_tmp,
            )  # fmt: skip
        logits, self.out_cache = layers.affine_forward(a, self.W_out, self.b_out, out=self.logits)
        return logits

    # -- loss and backward --------------------------------------------------------------------
    def loss_and_grads(self, X: np.ndarray, y: np.ndarray, labels_checked: bool = False) -> float:
        """Mean cross-entropy on (X, y); fills the network's flat gradient. ``labels_checked``:
        the caller has checked every label of its data once (the trainer), so the two
        reductions that check a batch's labels (2 us of a 150-300 us step) are skipped."""
        C = self.ones_c.size
        # the shape first: the range check's min() raises on no labels
        if (
            self.m == 0
            or y.shape != (self.m,)
            or (not labels_checked and (y.min() < 0 or y.max() >= C))
        ):
            raise ValueError(f"y must be {self.m} (at least 1) labels in 0..{C - 1}")
        logits = self.forward(X, update_buffers=True)
        # the logits are not needed after this: shift them in place
        loss, dlogits = layers.softmax_cross_entropy(
            logits, y, out=self.p, shifted=logits, row_max=self.row_max, row_sum=self.row_sum,
            ones=self.ones_c, row_start=self.row_start, flat_idx=self.flat_idx,
        )  # fmt: skip
        self._backward(dlogits)
        return loss

    def _backward(self, dlogits: np.ndarray) -> None:
        act, hidden, ones = self.net.activation, self.layers, self.ones
        assert self.out_cache is not None, "backward before forward"
        layers.affine_backward(
            dlogits, self.out_cache, dX=hidden[-1].da if hidden else None, dW=self.dW_out,
            db=self.db_out, ones=ones, input_grad=bool(hidden),
        )  # fmt: skip
        for i in range(len(hidden) - 1, -1, -1):
            h = hidden[i]
            dz = layers.activation_backward(h.da, h.a, act, out=h.da, tmp=h.tmp)
            bn = h.bn
            if bn is not None:
                assert bn.cache is not None
                dz, _, _ = layers.batchnorm_backward(
                    dz, bn.cache, out=h.dz, dgamma=bn.dgamma, dbeta=bn.dbeta, tmp=h.tmp,
                    scale=bn.scale, c1=bn.c1, c2=bn.c2, ones=ones,
                )  # fmt: skip
            assert h.cache is not None
            layers.affine_backward(
                dz, h.cache, dX=hidden[i - 1].da if i else None, dW=h.dW, db=h.db, ones=ones,
                input_grad=i > 0,
            )  # fmt: skip
