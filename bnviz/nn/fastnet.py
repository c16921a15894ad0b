"""The training step of :class:`~bnviz.nn.network.MLP` with preallocated arrays.

For the small networks bnviz trains, a step costs about as much in per-call overhead and fresh
temporaries as in arithmetic, so this module computes exactly what the reference functions in
:mod:`bnviz.nn.layers` compute (the tests hold it to them) with every array allocated once per
batch size and every NumPy call writing ``out=`` into it. Column sums (BN's mean and variance,
the bias and beta gradients) are matrix-vector products with a vector of ``1/m`` or ones: one
BLAS call instead of a strided reduction.

Names follow the layers: ``z = a_prev W^T (+ b)``, BN ``z_norm``, ``z_tilde``, ``a = g(z_tilde)``.
"""

from __future__ import annotations

import numpy as np

SIGMOID_CLIP = 80.0  # exp(80) is finite in float32; sigmoid(-80) ~ 2e-35 is 0 for any purpose


class Workspace:
    """Every array of one train-mode forward and backward pass for batches of ``m`` rows.

    Holds views of the network's parameters, gradients and BN buffers, so it must be rebuilt
    when the network's layout changes (:meth:`MLP._install` drops it).
    """

    def __init__(self, net, m: int) -> None:
        dt, sizes, L = net.dtype, net.sizes, net.n_layers
        self.net, self.m = net, m
        self.ones = np.ones(m, dtype=dt)
        self.mean_w = np.full(m, 1.0 / max(m, 1), dtype=dt)
        self.layers = []
        P, G = net.params, net._grads
        for l in range(1, L):
            n = sizes[l]

            def buf(n=n):
                return np.empty((m, n), dtype=dt)

            hidden = {"W": P[f"W{l}"], "dW": G[f"W{l}"], "z": buf(), "a": buf(), "tmp": buf()}
            hidden.update(da=buf(), dz=buf())
            if net.batchnorm:
                hidden.update(
                    z_norm=buf(),
                    z_tilde=buf(),
                    gamma=P[f"gamma{l}"],
                    beta=P[f"beta{l}"],
                    dgamma=G[f"gamma{l}"],
                    dbeta=G[f"beta{l}"],
                    mu=net.batch_stats[f"running_mean{l}"],
                    var=net.batch_stats[f"running_var{l}"],
                    std=np.empty(n, dt),
                    scale=np.empty(n, dt),
                    c1=np.empty(n, dt),
                    c2=np.empty(n, dt),
                )
            else:
                hidden.update(b=P[f"b{l}"], db=G[f"b{l}"])
                hidden["z_tilde"] = hidden["z"]
            self.layers.append(hidden)
        C = sizes[-1]
        self.W_out, self.b_out = P[f"W{L}"], P[f"b{L}"]
        self.dW_out, self.db_out = G[f"W{L}"], G[f"b{L}"]
        self.logits = np.empty((m, C), dt)
        self.p = np.empty((m, C), dt)
        self.row_max = np.empty(m, dt)
        self.row_sum = np.empty(m, dt)
        self.ones_c = np.ones(C, dt)
        self.row_start = np.arange(m, dtype=np.intp) * C
        self.flat_idx = np.empty(m, dtype=np.intp)
        self._coef_key = None

    # -- forward -----------------------------------------------------------------------------
    def forward(self, X: np.ndarray, update_buffers: bool) -> np.ndarray:
        """Train-mode forward of X (m, n_in); returns the logits (m, C), a workspace array."""
        net, act, a = self.net, self.net.activation, X
        for h in self.layers:
            z = h["z"]
            np.matmul(a, h["W"].T, out=z)
            if "b" in h:
                z += h["b"]
            else:
                self._batchnorm(h, net.eps)
            a = h["out"] = _activation(h["z_tilde"], h["a"], act)
        if update_buffers and net.batchnorm:
            self._update_running()
        np.matmul(a, self.W_out.T, out=self.logits)
        self.logits += self.b_out
        return self.logits

    def _batchnorm(self, h: dict, eps: float) -> None:
        z, z_norm, tmp, std = h["z"], h["z_norm"], h["tmp"], h["std"]
        np.matmul(self.mean_w, z, out=h["mu"])
        np.subtract(z, h["mu"], out=z_norm)
        np.multiply(z_norm, z_norm, out=tmp)
        np.matmul(self.mean_w, tmp, out=h["var"])
        np.add(h["var"], eps, out=std)
        np.sqrt(std, out=std)
        z_norm /= std
        np.multiply(z_norm, h["gamma"], out=h["z_tilde"])
        h["z_tilde"] += h["beta"]

    def _update_running(self) -> None:
        """``running = k running + (1-k) batch`` for every BN layer at once (the buffers and the
        batch statistics are flat arrays with one layout); the variance enters unbiased."""
        net = self.net
        k = net.bn_momentum
        if self._coef_key != k:
            # PyTorch keeps the unbiased variance; m/(m-1) is undefined at m=1
            unbias = self.m / (self.m - 1) if self.m > 1 else 1.0
            coef = np.full(net.flat_buffers.size, 1 - k, dtype=net.dtype)
            for name, view in net.buffer_layout.views(coef).items():
                if name.startswith("running_var"):
                    view *= unbias
            self._coef, self._coef_tmp, self._coef_key = coef, np.empty_like(coef), k
        net.flat_buffers *= k
        np.multiply(net.flat_batch_stats, self._coef, out=self._coef_tmp)
        net.flat_buffers += self._coef_tmp

    # -- loss and backward --------------------------------------------------------------------
    def loss_and_grads(self, X: np.ndarray, y: np.ndarray) -> float:
        """Mean cross-entropy on (X, y); fills the network's flat gradient."""
        C = self.ones_c.size
        if self.m == 0 or y.shape != (self.m,) or y.min() < 0 or y.max() >= C:
            raise ValueError(f"y must be {self.m} (at least 1) labels in 0..{C - 1}")
        logits = self.forward(X, update_buffers=True)
        loss, dlogits = self._softmax_cross_entropy(logits, y)
        self._backward(dlogits, X)
        return loss

    def _softmax_cross_entropy(self, logits: np.ndarray, y: np.ndarray):
        m, p, row_sum = self.m, self.p, self.row_sum
        np.maximum.reduce(logits, axis=1, out=self.row_max)
        logits -= self.row_max[:, None]  # shifted: e^z cannot overflow
        np.exp(logits, out=p)
        np.matmul(p, self.ones_c, out=row_sum)
        np.add(self.row_start, y, out=self.flat_idx)
        picked = logits.ravel()[self.flat_idx]
        loss = float(np.log(row_sum).sum() - picked.sum()) / m
        np.multiply(row_sum, m, out=row_sum)
        np.reciprocal(row_sum, out=row_sum)
        p *= row_sum[:, None]  # (yhat - Y) / m, in place of p
        p.ravel()[self.flat_idx] -= 1.0 / m
        return loss, p

    def _backward(self, dlogits: np.ndarray, X: np.ndarray) -> None:
        act, layers = self.net.activation, self.layers
        a_last = layers[-1]["out"] if layers else X
        np.matmul(dlogits.T, a_last, out=self.dW_out)
        np.matmul(self.ones, dlogits, out=self.db_out)
        if not layers:
            return
        da = layers[-1]["da"]
        np.matmul(dlogits, self.W_out, out=da)
        for i in range(len(layers) - 1, -1, -1):
            h = layers[i]
            dz_tilde = _activation_backward(da, h, act)
            if "db" in h:
                np.matmul(self.ones, dz_tilde, out=h["db"])
                dz = dz_tilde
            else:
                dz = self._batchnorm_backward(dz_tilde, h)
            a_prev = layers[i - 1]["out"] if i else X
            np.matmul(dz.T, a_prev, out=h["dW"])
            if i:
                da = layers[i - 1]["da"]
                np.matmul(dz, h["W"], out=da)

    def _batchnorm_backward(self, dz_tilde: np.ndarray, h: dict) -> np.ndarray:
        """``dz = gamma inv_std (dz_tilde - dbeta/m - z_norm dgamma/m)``: the reference formula
        with ``sum(dz_norm) = gamma dbeta`` and ``sum(dz_norm z_norm) = gamma dgamma``."""
        inv_m, tmp, dz = 1.0 / self.m, h["tmp"], h["dz"]
        np.matmul(self.ones, dz_tilde, out=h["dbeta"])
        np.multiply(dz_tilde, h["z_norm"], out=tmp)
        np.matmul(self.ones, tmp, out=h["dgamma"])
        np.divide(h["gamma"], h["std"], out=h["scale"])
        np.multiply(h["dgamma"], inv_m, out=h["c2"])
        np.multiply(h["dbeta"], inv_m, out=h["c1"])
        np.multiply(h["z_norm"], h["c2"], out=tmp)
        np.subtract(dz_tilde, tmp, out=dz)
        dz -= h["c1"]
        dz *= h["scale"]
        return dz


def _activation(z_tilde: np.ndarray, a: np.ndarray, kind: str) -> np.ndarray:
    """``a = g(z_tilde)`` into ``a``; the linear activation returns z_tilde itself."""
    if kind == "relu":
        return np.maximum(z_tilde, 0, out=a)
    if kind == "sigmoid":
        # 1 / (1 + e^-z), with -z clipped so e^-z never overflows (no warning, same result)
        np.negative(z_tilde, out=a)
        np.minimum(a, SIGMOID_CLIP, out=a)
        np.exp(a, out=a)
        a += 1
        return np.reciprocal(a, out=a)
    if kind == "tanh":
        return np.tanh(z_tilde, out=a)
    return z_tilde


def _activation_backward(da: np.ndarray, h: dict, kind: str) -> np.ndarray:
    """``dz_tilde = da * g'(z_tilde)``, computed in place of ``da``."""
    a, tmp = h["out"], h["tmp"]
    if kind == "relu":
        np.greater(a, 0, out=tmp)  # ReLU's mask (as 0.0/1.0): z_tilde > 0 exactly where a > 0
        da *= tmp
    elif kind == "sigmoid":
        np.subtract(1, a, out=tmp)
        tmp *= a
        da *= tmp
    elif kind == "tanh":
        np.multiply(a, a, out=tmp)
        np.subtract(1, tmp, out=tmp)
        da *= tmp
    return da
