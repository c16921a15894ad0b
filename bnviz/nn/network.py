"""A fully connected softmax classifier with optional batch norm on every hidden layer.

Layer l (1..L) computes ``z = a_prev @ W.T (+ b)``; a hidden layer then applies batch norm
(when on) ``z -> z_tilde`` and its activation ``a = g(z_tilde)``; the output layer feeds a
softmax. The parameters live in one flat array (``net.flat_params``) and ``net.params`` holds
named views into it: updating a view in place updates the network, and an optimizer can update
every parameter in a few NumPy calls on the flat array.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bnviz.nn import aligned, layers
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


@dataclass(frozen=True)
class _LayerCache:
    """What the reference backward needs of one hidden layer's forward pass."""

    affine: layers.AffineCache
    bn: layers.BatchnormCache | None
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
        sizes: Sequence[int],
        activation: str = "relu",
        batchnorm: bool = False,
        bn_momentum: float = DEFAULT_BN_MOMENTUM,
        eps: float = BN_EPS,
        seed: int = 0,
        dtype: npt.DTypeLike = np.float32,
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
        # With no hidden layer there is nothing to normalize: the network is plain, and says so.
        self.batchnorm = bool(batchnorm) and len(sizes) > 2
        self.bn_momentum = float(bn_momentum)
        self.eps = float(eps)
        self.dtype = np.dtype(dtype)
        # The standardization the network was trained behind (the data set's training mean and
        # std), when known: saved with the model so a loaded one can take raw inputs.
        self.input_mean: np.ndarray | None = None
        self.input_std: np.ndarray | None = None
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
        self.flat_params = aligned.zeros(self.layout.size, self.dtype)
        self.flat_grads = aligned.zeros(self.layout.size, self.dtype)
        self.params = self.layout.views(self.flat_params)
        self._grads = self.layout.views(self.flat_grads)
        for name, value in values.items():
            self.params[name][...] = value
        self._workspaces: dict[tuple[str, int], Workspace] = {}

    def _install_buffers(self, values: dict[str, np.ndarray]) -> None:
        """BN running estimates in one flat array with named views (``self.buffers``), and a
        like-shaped ``batch_stats`` that a train step fills with its batch mean and (biased)
        variance, so one :func:`~bnviz.nn.layers.running_average` call updates them all."""
        self.buffer_layout = ParamLayout.from_arrays(values)
        self.flat_buffers = aligned.zeros(self.buffer_layout.size, self.dtype)
        self.flat_batch_stats = aligned.zeros(self.buffer_layout.size, self.dtype)
        self.buffers = self.buffer_layout.views(self.flat_buffers)
        self.batch_stats = self.buffer_layout.views(self.flat_batch_stats)
        for name, value in values.items():
            self.buffers[name][...] = value
        self._workspaces = {}

    def _reset_buffers(self) -> None:
        values: dict[str, np.ndarray] = {}
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

    def _as_input(self, X: npt.ArrayLike) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"X must have shape (m, {self.sizes[0]}), got {X.shape}")
        return X if X.dtype == self.dtype else X.astype(self.dtype)

    # -- forward and backward ------------------------------------------------------------------
    def _forward_train(
        self, X: np.ndarray, update_buffers: bool
    ) -> tuple[np.ndarray, list[_LayerCache], layers.AffineCache]:
        """Train-mode forward composed from the :mod:`layers` functions, each allocating its
        result; returns the logits (m, C), per-hidden-layer caches and the output layer's."""
        P, a = self.params, X
        caches: list[_LayerCache] = []
        act, L = self.activation, self.n_layers
        for l in range(1, L):
            # a layer with BN has no b (P.get gives None): beta takes its place
            z, affine_cache = layers.affine_forward(a, P[f"W{l}"], P.get(f"b{l}"))
            z_tilde, bn_cache = z, None
            if self.batchnorm:
                z_tilde, bn_cache, mu, var = layers.batchnorm_forward(
                    z, P[f"gamma{l}"], P[f"beta{l}"], self.eps
                )
                if update_buffers:
                    layers.batchnorm_running_update(
                        self.buffers[f"running_mean{l}"], self.buffers[f"running_var{l}"],
                        mu, var, z.shape[0], self.bn_momentum,
                    )  # fmt: skip
            a = layers.activation_forward(z_tilde, act)
            caches.append(_LayerCache(affine_cache, bn_cache, z, z_tilde, a))
        logits, out_cache = layers.affine_forward(a, P[f"W{L}"], P[f"b{L}"])
        return logits, caches, out_cache

    def _backward(
        self, dlogits: np.ndarray, caches: list[_LayerCache], out_cache: layers.AffineCache
    ) -> None:
        """Fill ``self.flat_grads`` from dL/dlogits (already divided by m)."""
        G, L = self._grads, self.n_layers
        da, _, _ = layers.affine_backward(
            dlogits, out_cache, dW=G[f"W{L}"], db=G[f"b{L}"], input_grad=L > 1
        )
        for l in range(L - 1, 0, -1):
            c = caches[l - 1]
            assert da is not None
            dz = layers.activation_backward(da, c.a, self.activation)
            if c.bn is not None:
                dz, _, _ = layers.batchnorm_backward(
                    dz, c.bn, dgamma=G[f"gamma{l}"], dbeta=G[f"beta{l}"]
                )
            da, _, _ = layers.affine_backward(
                dz, c.affine, dW=G[f"W{l}"], db=G.get(f"b{l}"), input_grad=l > 1
            )

    def loss_and_flat_grads(
        self, X: np.ndarray, y: np.ndarray, labels_checked: bool = False
    ) -> float:
        """Train-mode loss; the gradient is left in ``self.flat_grads`` (no copies: the trainer's
        hot path, computed by :mod:`bnviz.nn.fastnet`). Updates the running estimates.
        ``labels_checked``: every label is known to be in 0..C-1 (checked once for the data)."""
        X = self._as_input(X)
        return self._workspace(X.shape[0]).loss_and_grads(X, np.asarray(y), labels_checked)

    def reference_loss_and_flat_grads(self, X: np.ndarray, y: np.ndarray) -> float:
        """:meth:`loss_and_flat_grads` composed from the :mod:`layers` functions, each allocating
        its result (what the tests hold the fast path to)."""
        X = self._as_input(X)
        logits, caches, out_cache = self._forward_train(X, update_buffers=True)
        loss, dlogits = layers.softmax_cross_entropy(logits, np.asarray(y))
        self._backward(dlogits, caches, out_cache)
        return loss

    def loss_and_grads(self, X: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
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

    def logits(self, X: np.ndarray) -> np.ndarray:
        """Eval-mode output-layer z, shape (m, C); BN uses the running estimates."""
        return self.trace(X, mode="eval")[1]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Eval-mode softmax probabilities, shape (m, C); works on a single example."""
        return layers.softmax(self.logits(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Eval-mode class labels, shape (m,)."""
        return np.argmax(self.logits(X), axis=1)

    # -- raw inputs: the standardization the network was trained behind ------------------------
    def set_input_scaling(self, mean: npt.ArrayLike, std: npt.ArrayLike) -> None:
        """Record the training data's mean and std (n_in,) the inputs were standardized with;
        :meth:`standardize` and the ``*_raw`` predictions then apply them."""
        mean_a = np.asarray(mean, dtype=np.float64).reshape(-1)
        std_a = np.asarray(std, dtype=np.float64).reshape(-1)
        if mean_a.shape != (self.sizes[0],) or std_a.shape != (self.sizes[0],):
            raise ValueError(f"mean and std must have {self.sizes[0]} values (one per input)")
        if not (np.all(np.isfinite(mean_a)) and np.all(std_a > 0)):
            raise ValueError("mean must be finite and std > 0")
        self.input_mean, self.input_std = mean_a, std_a

    def standardize(self, X_raw: npt.ArrayLike) -> np.ndarray:
        """``(X_raw - mean) / std`` with the training data's statistics; raises ValueError for a
        network that does not know them (built in Python, or saved before they were kept)."""
        if self.input_mean is None or self.input_std is None:
            raise ValueError(
                "this network does not know the standardization of its inputs (it was built in "
                "Python or saved by an older bnviz): standardize X yourself, then predict_proba"
            )
        X = np.asarray(X_raw, dtype=np.float64)
        return ((X - self.input_mean) / self.input_std).astype(self.dtype)

    def predict_proba_raw(self, X_raw: npt.ArrayLike) -> np.ndarray:
        """:meth:`predict_proba` of raw inputs (in the data file's units), shape (m, C)."""
        return self.predict_proba(self.standardize(X_raw))

    def predict_raw(self, X_raw: npt.ArrayLike) -> np.ndarray:
        """:meth:`predict` of raw inputs (in the data file's units), shape (m,)."""
        return self.predict(self.standardize(X_raw))

    def trace(self, X: np.ndarray, mode: str = "eval") -> tuple[list[HiddenTrace], np.ndarray]:
        """Forward pass keeping every hidden layer's z, z_tilde and a (for the views).

        ``mode="train"`` normalizes with the batch statistics of X but leaves the running
        estimates alone; ``mode="eval"`` uses the running estimates.
        """
        X = self._as_input(X)
        out: list[HiddenTrace] = []
        if mode == "train":
            ws = self._workspace(X.shape[0], "trace")
            logits = ws.forward(X, update_buffers=False).copy()
            for h in ws.layers:  # copies: the workspace is overwritten by the next call
                z = h.z.copy()
                z_tilde = h.z_tilde.copy() if self.batchnorm else z
                out.append(HiddenTrace(z, z_tilde, h.a.copy()))
            return out, logits
        if mode != "eval":
            raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
        P, B, a = self.params, self.buffers, X
        for l in range(1, self.n_layers):
            z, _ = layers.affine_forward(a, P[f"W{l}"], P.get(f"b{l}"))
            z_tilde = z
            if self.batchnorm:
                z_tilde = layers.batchnorm_eval(
                    z, P[f"gamma{l}"], P[f"beta{l}"], B[f"running_mean{l}"],
                    B[f"running_var{l}"], self.eps,
                )  # fmt: skip
            a = layers.activation_forward(z_tilde, self.activation)
            out.append(HiddenTrace(z, z_tilde, a))
        L = self.n_layers
        return out, layers.affine_forward(a, P[f"W{L}"], P[f"b{L}"])[0]

    # -- the live BN toggle --------------------------------------------------------------------
    def enable_batchnorm(self, X: np.ndarray) -> None:
        """Insert BN into every hidden layer without changing the train-mode output on X.

        With ``mu_B, var_B`` the statistics of ``W a_prev`` on X, setting
        ``gamma = sqrt(var_B + eps)`` and ``beta = mu_B + b`` makes ``z_tilde = z`` (the course's
        identity); the running estimates start from the same statistics.
        """
        if self.batchnorm:
            return
        X = self._as_input(X)
        values, a = dict(self.params), X
        running: dict[str, np.ndarray] = {}
        for l in range(1, self.n_layers):
            W, b = self.params[f"W{l}"], values.pop(f"b{l}")
            zw, _ = layers.affine_forward(a, W, None)
            ones, zeros = np.ones_like(b), np.zeros_like(b)
            _, (_, std, _), mu, var = layers.batchnorm_forward(zw, ones, zeros, self.eps)
            gamma, beta = std, mu + b
            values[f"gamma{l}"], values[f"beta{l}"] = gamma, beta
            rm, rv = np.zeros_like(mu), np.zeros_like(var)
            # momentum 0: the running estimates become this batch's (the variance unbiased)
            layers.batchnorm_running_update(rm, rv, mu, var, zw.shape[0], momentum=0.0)
            running[f"running_mean{l}"], running[f"running_var{l}"] = rm, rv
            # what the network with BN feeds the next layer (z_tilde = zw + b, by the identity)
            z_tilde, *_ = layers.batchnorm_forward(zw, gamma, beta, self.eps)
            a = layers.activation_forward(z_tilde, self.activation)
        self.batchnorm = True
        self._install(self._ordered(values))
        self._install_buffers(running)

    def disable_batchnorm(self) -> None:
        """Fold each BN into its linear layer with the running estimates.

        Eval-mode BN is the affine map ``z_tilde = s z + t``
        (:func:`~bnviz.nn.layers.batchnorm_eval_affine`), so ``W <- s W``, ``b <- t`` leaves
        every eval-mode prediction unchanged.
        """
        if not self.batchnorm:
            return
        values, B = dict(self.params), self.buffers
        for l in range(1, self.n_layers):
            s, t = layers.batchnorm_eval_affine(
                values.pop(f"gamma{l}"), values.pop(f"beta{l}"), B[f"running_mean{l}"],
                B[f"running_var{l}"], self.eps,
            )  # fmt: skip
            values[f"W{l}"] = s[:, None] * values[f"W{l}"]
            values[f"b{l}"] = t
        self.batchnorm = False
        self._install(self._ordered(values))
        self._install_buffers({})

    def _ordered(self, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        names: list[str] = []
        for l in range(1, self.n_layers + 1):
            names.append(f"W{l}")
            if l < self.n_layers and self.batchnorm:
                names += [f"gamma{l}", f"beta{l}"]
            else:
                names.append(f"b{l}")
        return {n: np.array(values[n], dtype=np.float64) for n in names}

    # -- persistence (bnviz.nn.model_io) -----------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write params, buffers and the architecture to one .npz (no pickled objects)."""
        save_mlp(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MLP:
        """Read a network written by :meth:`save`; refuses anything else with a clear message."""
        return load_mlp(path, cls)

    def __getstate__(self) -> dict[str, Any]:
        # The named arrays are views into the flat ones; pickle only the flat arrays and
        # rebuild the views, so an unpickled network still trains through its views.
        views = ("params", "_grads", "buffers", "batch_stats", "_workspaces")
        return {k: v for k, v in self.__dict__.items() if k not in views}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name in ("flat_params", "flat_grads", "flat_buffers", "flat_batch_stats"):
            setattr(self, name, aligned.copy(getattr(self, name)))  # unpickled: 16-byte aligned
        self.params = self.layout.views(self.flat_params)
        self._grads = self.layout.views(self.flat_grads)
        self.buffers = self.buffer_layout.views(self.flat_buffers)
        self.batch_stats = self.buffer_layout.views(self.flat_batch_stats)
        self._workspaces = {}

    def __repr__(self) -> str:
        bn = ", batchnorm=True" if self.batchnorm else ""
        return f"MLP({self.sizes}, activation={self.activation!r}{bn})"
