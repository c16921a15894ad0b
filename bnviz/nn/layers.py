"""Layer functions in the cs231n style: ``forward -> (out, cache)``, ``backward(dout, cache)``.

Shapes follow the course notes: inputs ``X`` are ``(m, n_in)`` with one example per row and
weights ``W`` are ``(n_out, n_in)``, so a linear layer computes ``z = X @ W.T + b``.
These functions are the readable reference; :mod:`bnviz.nn.network` composes them.
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
BN_EPS = 1e-5
DEFAULT_BN_MOMENTUM = 0.9  # running = k*running + (1-k)*batch, PyTorch's momentum 0.1


def affine_forward(X: np.ndarray, W: np.ndarray, b: np.ndarray | None):
    """Linear part ``z = X W^T + b``.

    Parameters
    ----------
    X : (m, n_in) inputs.  W : (n_out, n_in).  b : (n_out,) or None (a BN layer has no bias).

    Returns
    -------
    z : (m, n_out), cache
    """
    z = X @ W.T
    if b is not None:
        z += b
    return z, (X, W)


def affine_backward(dz: np.ndarray, cache):
    """Gradients of the linear part: ``dX = dz W``, ``dW = dz^T X``, ``db = sum_i dz_i``.

    Returns ``(dX, dW, db)`` with shapes ``(m, n_in), (n_out, n_in), (n_out,)``.
    """
    X, W = cache
    return dz @ W, dz.T @ X, dz.sum(axis=0)


def batchnorm_forward(z: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = BN_EPS):
    """Train-mode batch norm over the mini-batch (axis 0).

    ``mu = mean(z)``, ``var = mean((z - mu)^2)`` (biased, as PyTorch normalizes),
    ``z_norm = (z - mu) / sqrt(var + eps)``, ``z_tilde = gamma * z_norm + beta``.

    Returns
    -------
    z_tilde : (m, n), cache, mu : (n,), var : (n,) — the batch statistics, for running averages.
    """
    mu = z.mean(axis=0)
    zc = z - mu
    var = np.mean(zc * zc, axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    z_norm = zc * inv_std
    z_tilde = gamma * z_norm + beta
    return z_tilde, (z_norm, inv_std, gamma), mu, var


def batchnorm_eval(z, gamma, beta, running_mean, running_var, eps: float = BN_EPS):
    """Test-time batch norm: the running (exponentially weighted) estimates replace the batch
    statistics, so a single example can be normalized."""
    return gamma * (z - running_mean) / np.sqrt(running_var + eps) + beta


def batchnorm_backward(dz_tilde: np.ndarray, cache):
    """Backward of train-mode batch norm (the compact form; the batch statistics depend on z).

    ``dz = inv_std/m * (m*dz_norm - sum(dz_norm) - z_norm*sum(dz_norm*z_norm))``.

    Returns ``(dz, dgamma, dbeta)`` with shapes ``(m, n), (n,), (n,)``.
    """
    z_norm, inv_std, gamma = cache
    m = dz_tilde.shape[0]
    dbeta = dz_tilde.sum(axis=0)
    dgamma = np.sum(dz_tilde * z_norm, axis=0)
    dz_norm = dz_tilde * gamma
    dz = (inv_std / m) * (
        m * dz_norm - dz_norm.sum(axis=0) - z_norm * np.sum(dz_norm * z_norm, axis=0)
    )
    return dz, dgamma, dbeta


def activation_forward(z: np.ndarray, kind: str) -> np.ndarray:
    """``a = g(z)`` for g in relu, tanh, sigmoid, linear."""
    if kind == "relu":
        return np.maximum(z, 0)
    if kind == "tanh":
        return np.tanh(z)
    if kind == "sigmoid":
        return sigmoid(z)
    if kind == "linear":
        return z.copy()
    raise ValueError(f"unknown activation {kind!r}; choose one of {', '.join(ACTIVATIONS)}")


def activation_backward(da: np.ndarray, z: np.ndarray, a: np.ndarray, kind: str) -> np.ndarray:
    """``dz = da * g'(z)``, using the output ``a`` where g' is cheaper in terms of it."""
    if kind == "relu":
        return da * (z > 0)
    if kind == "tanh":
        return da * (1 - a * a)
    if kind == "sigmoid":
        return da * a * (1 - a)
    if kind == "linear":
        return da
    raise ValueError(f"unknown activation {kind!r}")


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic sigmoid, written with exp of a non-positive number so it never overflows."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax ``a = t / sum(t)``, ``t = e^z``; the row max is subtracted first so
    ``e^z`` cannot overflow (the result is unchanged because the factor cancels)."""
    t = np.exp(logits - logits.max(axis=1, keepdims=True))
    return t / t.sum(axis=1, keepdims=True)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """``log a = z - logsumexp(z)``, finite even for logits of +-1e4."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax_cross_entropy(logits: np.ndarray, y: np.ndarray):
    """Mean cross-entropy ``L = -1/m sum_i log yhat_{i, y_i}`` and its gradient.

    Parameters
    ----------
    logits : (m, C) output-layer z.  y : (m,) integer labels.

    Returns
    -------
    loss : float, dlogits : (m, C) equal to ``(yhat - Y) / m`` with Y one-hot.
    """
    m = logits.shape[0]
    logp = log_softmax(logits)
    rows = np.arange(m)
    loss = -float(logp[rows, y].mean())
    dlogits = np.exp(logp)
    dlogits[rows, y] -= 1
    dlogits /= m
    return loss, dlogits
