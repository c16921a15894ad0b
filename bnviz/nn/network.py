"""A fully connected softmax classifier with optional batch norm on every hidden layer.

Layer l (1..L) computes ``z = a_prev @ W.T (+ b)``; a hidden layer then applies batch norm
(when on) ``z -> z_tilde`` and its activation ``a = g(z_tilde)``; the output layer feeds a
softmax. The parameters live in one flat array (``net.flat_params``) and ``net.params`` holds
named views into it: updating a view in place updates the network, and an optimizer can update
every parameter in a few NumPy calls on the flat array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bnviz.nn import layers
from bnviz.nn.fastnet import Workspace
from bnviz.nn.layers import ACTIVATIONS, BN_EPS, DEFAULT_BN_MOMENTUM
from bnviz.nn.layout import ParamLayout
from bnviz.nn.model_io import load_mlp, save_mlp

MAX_WORKSPACES = 4  # batch sizes whose arrays are kept (training batch, probe, a changed size)


@dataclass(frozen=True)
class HiddenTrace:
    """One hidden layer's arrays for one forward pass, each (m, n_units).

    ``z`` is the linear output (before BN), ``z_tilde`` the activation input (after BN; equal to
    ``z`` without BN) and ``a`` the activation output."""

    z: np.ndarray
    z_tilde: np.ndarray
    a: np.ndarray


class MLP:
    """Multi-layer perceptron for C-class softmax classification.

    Parameters
    ----------
    sizes : ``[n_in, h1, ..., hk, n_classes]``; at least two entries (no hidden layer = softmax
        regression, whose decision boundaries are linear).
    activation : "relu" (He init), "tanh", "sigmoid" or "linear" (Xavier init).
    batchnorm : put batch norm between the linear part and the activation of every hidden layer;
        those layers then have ``gamma{l}``, ``beta{l}`` and no ``b{l}``.
    bn_momentum : running estimates follow ``running = k*running + (1-k)*batch``, k = bn_momentum.
    eps : added to the variance before the square root.
    seed : the weights are drawn from ``np.random.default_rng(seed)`` in layer order, so networks
        with and without BN built with one seed start from the same W.
    dtype : float32 for speed, float64 for gradient checks.
    """

    def __init__(
        self,
        sizes,
        activation: str = "relu",
        batchnorm: bool = False,
        bn_momentum: float = DEFAULT_BN_MOMENTUM,
        eps: float = BN_EPS,
        seed: int = 0,
        dtype=np.float32,
    ) -> None:
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(
                f"sizes must be [n_in, hidden..., n_classes] of positive ints, got {sizes}"
            )
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}"
            )
        if not 0.0 <= bn_momentum < 1.0:
            raise ValueError(f"bn_momentum must be in [0, 1), got {bn_momentum}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        self.sizes = sizes
        self.activation = activation
        self.batchnorm = bool(batchnorm)
        self.bn_momentum = float(bn_momentum)
        self.eps = float(eps)
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)
        values: dict[str, np.ndarray] = {}
        for l in range(1, self.n_layers + 1):
            n_in, n_out = sizes[l - 1], sizes[l]
            hidden = l < self.n_layers
            gain = 2.0 if (activation == "relu" and hidden) else 1.0
            values[f"W{l}"] = rng.standard_normal((n_out, n_in)) * np.sqrt(gain / n_in)
            if hidden and self.batchnorm:
                values[f"gamma{l}"] = np.ones(n_out)
                values[f"beta{l}"] = np.zeros(n_out)
            else:
                values[f"b{l}"] = np.zeros(n_out)
        self._install(values)
        self._install_buffers({})
        if self.batchnorm:
            self._reset_buffers()

    # -- structure ---------------------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        """L, the number of weight layers (hidden layers + the output layer)."""
        return len(self.sizes) - 1

    @property
    def n_classes(self) -> int:
        return self.sizes[-1]

    def _install(self, values: dict[str, np.ndarray]) -> None:
        """Store parameters in a fresh flat array with named views (and a matching gradient)."""
        self.layout = ParamLayout.from_arrays(values)
        self.flat_params = np.zeros(self.layout.size, dtype=self.dtype)
        self.flat_grads = np.zeros(self.layout.size, dtype=self.dtype)
        self.params = self.layout.views(self.flat_params)
        self._grads = self.layout.views(self.flat_grads)
        for name, value in values.items():
            self.params[name][...] = value
        self._workspaces: dict = {}

    def _install_buffers(self, values: dict[str, np.ndarray]) -> None:
        """BN running estimates in one flat array with named views (``self.buffers``), and a
        like-shaped ``batch_stats`` that a train step fills with its batch mean and (biased)
        variance, so all running estimates are updated in three NumPy calls."""
        self.buffer_layout = ParamLayout.from_arrays(values)
        self.flat_buffers = np.zeros(self.buffer_layout.size, dtype=self.dtype)
        self.flat_batch_stats = np.zeros(self.buffer_layout.size, dtype=self.dtype)
        self.buffers = self.buffer_layout.views(self.flat_buffers)
        self.batch_stats = self.buffer_layout.views(self.flat_batch_stats)
        for name, value in values.items():
            self.buffers[name][...] = value
        self._workspaces = {}

    def _reset_buffers(self) -> None:
        values = {}
        for l in range(1, self.n_layers):
            values[f"running_mean{l}"] = np.zeros(self.sizes[l])
            values[f"running_var{l}"] = np.ones(self.sizes[l])
        self._install_buffers(values)

    def _workspace(self, m: int, purpose: str = "train") -> Workspace:
        """Preallocated arrays for batches of m rows (one set per purpose, so a trace never
        overwrites the arrays of a training step). Not thread-safe: one thread trains."""
        key = (purpose, m)
        ws = self._workspaces.get(key)
        if ws is None:
            if len(self._workspaces) >= MAX_WORKSPACES:
                self._workspaces.clear()
            ws = self._workspaces[key] = Workspace(self, m)
        return ws

    def _as_input(self, X) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"X must have shape (m, {self.sizes[0]}), got {X.shape}")
        return X if X.dtype == self.dtype else X.astype(self.dtype)

    # -- forward and backward ------------------------------------------------------------------
    def _forward_train(self, X: np.ndarray, update_buffers: bool):
        """Train-mode forward; returns logits and per-hidden-layer caches."""
        P, caches, a = self.params, [], X
        act, L = self.activation, self.n_layers
        for l in range(1, L):
            z = a @ P[f"W{l}"].T
            if self.batchnorm:
                z_tilde, bn_cache, mu, var = layers.batchnorm_forward(
                    z, P[f"gamma{l}"], P[f"beta{l}"], self.eps
                )
                if update_buffers:
                    self._update_running(l, mu, var, z.shape[0])
            else:
                z += P[f"b{l}"]
                z_tilde, bn_cache = z, None
            a_next = layers.activation_forward(z_tilde, act)
            caches.append((a, z, z_tilde, a_next, bn_cache))
            a = a_next
        logits = a @ P[f"W{L}"].T
        logits += P[f"b{L}"]
        return logits, caches, a

    def _update_running(self, l: int, mu: np.ndarray, var: np.ndarray, m: int) -> None:
        # PyTorch keeps the unbiased variance in its running estimate; m/(m-1) undefined at m=1.
        k, B = self.bn_momentum, self.buffers
        unbiased = var * (m / (m - 1)) if m > 1 else var
        rm, rv = B[f"running_mean{l}"], B[f"running_var{l}"]
        rm *= k
        rm += (1 - k) * mu
        rv *= k
        rv += (1 - k) * unbiased

    def _backward(self, dlogits: np.ndarray, caches, a_last: np.ndarray) -> None:
        """Fill ``self.flat_grads`` from dL/dlogits (already divided by m)."""
        P, G, L = self.params, self._grads, self.n_layers
        np.matmul(dlogits.T, a_last, out=G[f"W{L}"])
        np.sum(dlogits, axis=0, out=G[f"b{L}"])
        da = dlogits @ P[f"W{L}"]
        for l in range(L - 1, 0, -1):
            a_prev, z, z_tilde, a, bn_cache = caches[l - 1]
            dz_tilde = layers.activation_backward(da, z_tilde, a, self.activation)
            if self.batchnorm:
                dz, dgamma, dbeta = layers.batchnorm_backward(dz_tilde, bn_cache)
                G[f"gamma{l}"][...] = dgamma
                G[f"beta{l}"][...] = dbeta
            else:
                dz = dz_tilde
                np.sum(dz, axis=0, out=G[f"b{l}"])
            np.matmul(dz.T, a_prev, out=G[f"W{l}"])
            if l > 1:
                da = dz @ P[f"W{l}"]

    def loss_and_flat_grads(self, X, y) -> float:
        """Train-mode loss; the gradient is left in ``self.flat_grads`` (no copies: the trainer's
        hot path, computed by :mod:`bnviz.nn.fastnet`). Updates the running estimates."""
        X = self._as_input(X)
        return self._workspace(X.shape[0]).loss_and_grads(X, np.asarray(y))

    def reference_loss_and_flat_grads(self, X, y) -> float:
        """:meth:`loss_and_flat_grads` composed from the readable :mod:`layers` functions (what
        the tests hold the fast path to)."""
        X = self._as_input(X)
        logits, caches, a_last = self._forward_train(X, update_buffers=True)
        loss, dlogits = layers.softmax_cross_entropy(logits, np.asarray(y))
        self._backward(dlogits, caches, a_last)
        return loss

    def loss_and_grads(self, X, y) -> tuple[float, dict[str, np.ndarray]]:
        """Mean cross-entropy on (X, y) in train mode and its gradient for every parameter.

        Parameters
        ----------
        X : (m, n_in).  y : (m,) integer labels in 0..C-1.

        Returns
        -------
        loss : float; grads : dict with the keys of ``params`` (copies, shapes as the params).
        """
        loss = self.loss_and_flat_grads(X, y)
        return loss, {k: v.copy() for k, v in self._grads.items()}

    def logits(self, X) -> np.ndarray:
        """Eval-mode output-layer z, shape (m, C); BN uses the running estimates."""
        return self.trace(X, mode="eval")[1]

    def predict_proba(self, X) -> np.ndarray:
        """Eval-mode softmax probabilities, shape (m, C); works on a single example."""
        return layers.softmax(self.logits(X))

    def predict(self, X) -> np.ndarray:
        """Eval-mode class labels, shape (m,)."""
        return np.argmax(self.logits(X), axis=1)

    def trace(self, X, mode: str = "eval") -> tuple[list[HiddenTrace], np.ndarray]:
        """Forward pass keeping every hidden layer's z, z_tilde and a (for the views).

        ``mode="train"`` normalizes with the batch statistics of X but leaves the running
        estimates alone; ``mode="eval"`` uses the running estimates.
        """
        X = self._as_input(X)
        if mode == "train":
            ws = self._workspace(X.shape[0], "trace")
            logits = ws.forward(X, update_buffers=False).copy()
            out = []
            for h in ws.layers:  # copies: the workspace is overwritten by the next call
                z = h["z"].copy()
                z_tilde = h["z_tilde"].copy() if self.batchnorm else z
                a = h["out"].copy() if h["out"] is not h["z_tilde"] else z_tilde
                out.append(HiddenTrace(z, z_tilde, a))
            return out, logits
        if mode != "eval":
            raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
        P, B, out, a = self.params, self.buffers, [], X
        for l in range(1, self.n_layers):
            z = a @ P[f"W{l}"].T
            if self.batchnorm:
                z_tilde = layers.batchnorm_eval(
                    z,
                    P[f"gamma{l}"],
                    P[f"beta{l}"],
                    B[f"running_mean{l}"],
                    B[f"running_var{l}"],
                    self.eps,
                )
            else:
                z = z + P[f"b{l}"]
                z_tilde = z
            a = layers.activation_forward(z_tilde, self.activation)
            out.append(HiddenTrace(z, z_tilde, a))
        L = self.n_layers
        return out, a @ P[f"W{L}"].T + P[f"b{L}"]

    # -- the live BN toggle --------------------------------------------------------------------
    def enable_batchnorm(self, X) -> None:
        """Insert BN into every hidden layer without changing the train-mode output on X.

        With ``mu_B, var_B`` the statistics of ``W a_prev`` on X, setting
        ``gamma = sqrt(var_B + eps)`` and ``beta = mu_B + b`` makes ``z_tilde = z`` (the course's
        identity); the running estimates start from the same statistics.
        """
        if self.batchnorm:
            return
        X = self._as_input(X)
        values, running, a = dict(self.params), {}, X
        for l in range(1, self.n_layers):
            W, b = self.params[f"W{l}"], values.pop(f"b{l}")
            zw = a @ W.T
            mu, var, m = zw.mean(axis=0), zw.var(axis=0), zw.shape[0]
            values[f"gamma{l}"] = np.sqrt(var + self.eps)
            values[f"beta{l}"] = mu + b
            running[f"running_mean{l}"] = mu
            running[f"running_var{l}"] = var * (m / (m - 1)) if m > 1 else var
            a = layers.activation_forward(zw + b, self.activation)
        self.batchnorm = True
        self._install(self._ordered(values))
        self._install_buffers(running)

    def disable_batchnorm(self) -> None:
        """Fold each BN into its linear layer with the running estimates.

        ``s = gamma / sqrt(running_var + eps)``, ``W <- s W``, ``b <- beta - s running_mean``:
        eval-mode predictions are unchanged.
        """
        if not self.batchnorm:
            return
        values = dict(self.params)
        for l in range(1, self.n_layers):
            s = values.pop(f"gamma{l}") / np.sqrt(self.buffers[f"running_var{l}"] + self.eps)
            values[f"W{l}"] = s[:, None] * values[f"W{l}"]
            values[f"b{l}"] = values.pop(f"beta{l}") - s * self.buffers[f"running_mean{l}"]
        self.batchnorm = False
        self._install(self._ordered(values))
        self._install_buffers({})

    def _ordered(self, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        names = []
        for l in range(1, self.n_layers + 1):
            names.append(f"W{l}")
            if l < self.n_layers and self.batchnorm:
                names += [f"gamma{l}", f"beta{l}"]
            else:
                names.append(f"b{l}")
        return {n: np.array(values[n], dtype=np.float64) for n in names}

    # -- persistence (bnviz.nn.model_io) -----------------------------------------------------
    def save(self, path) -> None:
        """Write params, buffers and the architecture to one .npz (no pickled objects)."""
        save_mlp(self, path)

    @classmethod
    def load(cls, path) -> MLP:
        """Read a network written by :meth:`save`; refuses anything else with a clear message."""
        return load_mlp(path, cls)

    def __getstate__(self) -> dict:
        # The named arrays are views into the flat ones; pickle only the flat arrays and
        # rebuild the views, so an unpickled network still trains through its views.
        views = ("params", "_grads", "buffers", "batch_stats", "_workspaces")
        return {k: v for k, v in self.__dict__.items() if k not in views}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.params = self.layout.views(self.flat_params)
        self._grads = self.layout.views(self.flat_grads)
        self.buffers = self.buffer_layout.views(self.flat_buffers)
        self.batch_stats = self.buffer_layout.views(self.flat_batch_stats)
        self._workspaces = {}

    def __repr__(self) -> str:
        bn = ", batchnorm=True" if self.batchnorm else ""
        return f"MLP({self.sizes}, activation={self.activation!r}{bn})"
