"""The course's formulas, each written once: affine, batch norm (train, eval, running averages),
the activations and their derivatives, softmax, log-softmax and softmax cross-entropy.

Layers follow cs231n: ``forward -> (out, cache)`` and ``backward(dout, cache) -> grads``. Shapes
follow the course notes: inputs ``X`` are ``(m, n_in)`` with one example per row and weights
``W`` are ``(n_out, n_in)``, so a linear layer computes ``z = X @ W.T + b``.

Every function allocates its results unless it is given ``out=`` arrays (NumPy's ufunc style);
scratch arrays it would otherwise allocate can be passed as keyword arguments too. The fast
training step (:mod:`bnviz.nn.fastnet`) passes arrays it allocated once, so it runs these same
functions rather than a second copy of the maths. The arithmetic does not depend on where the
results go, so a call with ``out=`` gives the allocating call's result to the bit. Column sums
(BN's mean and variance, the bias and beta gradients) are products with a vector of ones or of
``1/m``: one BLAS call instead of a strided reduction, which is what costs at these sizes.
Products go through ``np.dot``, which hands 1-D and 2-D operands to the same BLAS routines as
``np.matmul`` without its generalized-ufunc set-up: 0.3-0.5 us less per call, about 20 a step.
"""

from __future__ import annotations

import math

import numpy as np

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
BN_EPS = 1e-5
DEFAULT_BN_MOMENTUM = 0.9  # running = k*running + (1-k)*batch, PyTorch's momentum 0.1
ROW_MAX_COLUMNS = 12  # up to this many classes, a row's max is taken column by column
SIGMOID_CLIP = 80.0  # e^80 is finite in float32; sigmoid(-80) ~ 2e-35 is 0 for any purpose

AffineCache = tuple[np.ndarray, np.ndarray, bool]  # (X, W, whether the layer has a bias)
BatchnormCache = tuple[np.ndarray, np.ndarray, np.ndarray]  # (z_norm, std, gamma)


def _weights(m: int, value: float, dtype: np.dtype) -> np.ndarray:
    """The vector that turns a column sum into one matrix-vector product (ones, or 1/m)."""
    return np.full(m, value, dtype=dtype)


# -- affine --------------------------------------------------------------------------------------
def affine_forward(
    X: np.ndarray, W: np.ndarray, b: np.ndarray | None, out: np.ndarray | None = None
) -> tuple[np.ndarray, AffineCache]:
    """Linear part ``z = X W^T + b``.

    Parameters
    ----------
    X : (m, n_in) inputs.
    W : (n_out, n_in) weights.
    b : (n_out,) bias, or None (a layer followed by BN has none: beta takes its place).
    out : (m, n_out), optional; receives z.

    Returns
    -------
    z : (m, n_out); cache for :func:`affine_backward`.
    """
    z = np.dot(X, W.T, out=out)
    if b is not None:
        z += b
    return z, (X, W, b is not None)


def affine_backward(
    dz: np.ndarray,
    cache: AffineCache,
    *,
    dX: np.ndarray | None = None,
    dW: np.ndarray | None = None,
    db: np.ndarray | None = None,
    ones: np.ndarray | None = None,
    input_grad: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Gradients of the linear part: ``dX = dz W``, ``dW = dz^T X``, ``db = sum_i dz_i``.

    Parameters
    ----------
    dz : (m, n_out) upstream gradient.
    cache : from :func:`affine_forward`.
    dX, dW, db : optional outputs of shapes (m, n_in), (n_out, n_in), (n_out,).
    ones : (m,) ones, optional scratch for the column sum.
    input_grad : False skips dX (the first layer's input is data: its gradient is never used,
        and it would cost as much as dW).

    Returns
    -------
    dX : (m, n_in) or None; dW : (n_out, n_in); db : (n_out,), or None for a layer without bias.
    """
    X, W, has_bias = cache
    dW = np.dot(dz.T, X, out=dW)
    if has_bias:
        w = ones if ones is not None else _weights(dz.shape[0], 1.0, dz.dtype)
        db = np.dot(w, dz, out=db)
    else:
        db = None
    return (np.dot(dz, W, out=dX) if input_grad else None), dW, db


# -- batch norm ----------------------------------------------------------------------------------
def batchnorm_std(var: np.ndarray, eps: float, out: np.ndarray | None = None) -> np.ndarray:
    """``sqrt(var + eps)``, the divisor of BN in both modes; eps keeps a constant unit finite."""
    std = np.add(var, eps, out=out)
    return np.sqrt(std, out=std)


def batchnorm_forward(
    z: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    eps: float = BN_EPS,
    *,
    out: np.ndarray | None = None,
    z_norm: np.ndarray | None = None,
    mu: np.ndarray | None = None,
    var: np.ndarray | None = None,
    std: np.ndarray | None = None,
    tmp: np.ndarray | None = None,
    mean_w: np.ndarray | None = None,
) -> tuple[np.ndarray, BatchnormCache, np.ndarray, np.ndarray]:
    """Train-mode batch norm over the mini-batch (axis 0).

    ``mu = mean(z)``, ``var = mean((z - mu)^2)`` (biased, as PyTorch normalizes),
    ``z_norm = (z - mu) / sqrt(var + eps)``, ``z_tilde = gamma * z_norm + beta``. The running
    estimates are :func:`batchnorm_running_update`'s job, from the returned ``mu`` and ``var``.

    Parameters
    ----------
    z : (m, n) linear outputs of the batch.
    gamma, beta : (n,) scale and shift.
    out, z_norm : (m, n), optional; receive z_tilde and z_norm.
    mu, var, std : (n,), optional; receive the batch mean, biased variance and sqrt(var + eps).
    tmp : (m, n) scratch; mean_w : (m,) scratch filled with 1/m.

    Returns
    -------
    z_tilde : (m, n); cache for :func:`batchnorm_backward`; mu : (n,); var : (n,).
    """
    if mean_w is None:
        mean_w = _weights(z.shape[0], 1.0 / max(z.shape[0], 1), z.dtype)
    mu = np.dot(mean_w, z, out=mu)
    zc = np.subtract(z, mu, out=z_norm)
    var = np.dot(mean_w, np.multiply(zc, zc, out=tmp), out=var)
    std = batchnorm_std(var, eps, out=std)
    zc /= std
    z_tilde = np.multiply(zc, gamma, out=out)
    z_tilde += beta
    return z_tilde, (zc, std, gamma), mu, var


def batchnorm_backward(
    dz_tilde: np.ndarray,
    cache: BatchnormCache,
    *,
    out: np.ndarray | None = None,
    dgamma: np.ndarray | None = None,
    dbeta: np.ndarray | None = None,
    tmp: np.ndarray | None = None,
    scale: np.ndarray | None = None,
    c1: np.ndarray | None = None,
    c2: np.ndarray | None = None,
    ones: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward of train-mode batch norm, where the batch statistics depend on z.

    With ``dz_norm = gamma dz_tilde`` the course's form is
    ``dz = 1/(m std) (m dz_norm - sum(dz_norm) - z_norm sum(dz_norm z_norm))``; since
    ``sum(dz_norm) = gamma dbeta`` and ``sum(dz_norm z_norm) = gamma dgamma`` it is computed as
    ``dz = gamma/std (dz_tilde - dbeta/m - z_norm dgamma/m)``, which reuses the parameter
    gradients instead of two more column sums.

    Parameters
    ----------
    dz_tilde : (m, n) upstream gradient.
    cache : from :func:`batchnorm_forward`.
    out : (m, n), optional; receives dz (may not be dz_tilde).
    dgamma, dbeta : (n,), optional outputs.
    tmp : (m, n) scratch; scale, c1, c2 : (n,) scratch; ones : (m,) scratch of ones.

    Returns
    -------
    dz : (m, n); dgamma : (n,); dbeta : (n,).
    """
    z_norm, std, gamma = cache
    m = dz_tilde.shape[0]
    w = ones if ones is not None else _weights(m, 1.0, dz_tilde.dtype)
    dbeta = np.dot(w, dz_tilde, out=dbeta)
    tmp = np.multiply(dz_tilde, z_norm, out=tmp)
    dgamma = np.dot(w, tmp, out=dgamma)
    scale = np.divide(gamma, std, out=scale)
    c2 = np.multiply(dgamma, 1.0 / m, out=c2)
    c1 = np.multiply(dbeta, 1.0 / m, out=c1)
    np.multiply(z_norm, c2, out=tmp)
    dz = np.subtract(dz_tilde, tmp, out=out)
    dz -= c1
    dz *= scale
    return dz, dgamma, dbeta


def batchnorm_eval_affine(
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    eps: float = BN_EPS,
) -> tuple[np.ndarray, np.ndarray]:
    """Test-time BN as the affine map ``z_tilde = s z + t`` it is once the statistics are fixed.

    ``s = gamma / sqrt(running_var + eps)``, ``t = beta - s running_mean``. Folding it into the
    preceding linear layer (``W <- s W``, ``b <- t``) removes BN without changing a prediction.

    Returns
    -------
    s : (n,); t : (n,).
    """
    s = gamma / batchnorm_std(running_var, eps)
    return s, beta - s * running_mean


def batchnorm_eval(
    z: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    eps: float = BN_EPS,
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Eval-mode batch norm: the running estimates replace the batch statistics, so each
    example is normalized on its own (a batch of one works).

    Parameters
    ----------
    z : (m, n).  gamma, beta, running_mean, running_var : (n,).  out : (m, n), optional.

    Returns
    -------
    z_tilde : (m, n).
    """
    s, t = batchnorm_eval_affine(gamma, beta, running_mean, running_var, eps)
    z_tilde = np.multiply(z, s, out=out)
    z_tilde += t
    return z_tilde


def unbiased_variance_factor(m: int) -> float:
    """``m / (m - 1)``, which turns a batch's biased variance into the unbiased estimate PyTorch
    keeps in its running variance; 1 at m = 1, where it is undefined."""
    return m / (m - 1) if m > 1 else 1.0


def running_average(
    running: np.ndarray,
    batch: np.ndarray,
    momentum: float,
    weight: float | np.ndarray = 1.0,
    *,
    tmp: np.ndarray | None = None,
) -> np.ndarray:
    """``running = k running + (1 - k) weight batch`` in place, k = momentum (an exponentially
    weighted average over about 1/(1-k) batches; PyTorch's ``momentum`` is 1 - k).

    Parameters
    ----------
    running : (n,) updated in place.  batch : (n,).  weight : scalar or (n,), e.g.
        :func:`unbiased_variance_factor` for a variance.  tmp : (n,) scratch.

    Returns
    -------
    running.
    """
    tmp = np.multiply(batch, weight, out=tmp)
    tmp *= 1.0 - momentum
    running *= momentum
    running += tmp
    return running


def batchnorm_running_update(
    running_mean: np.ndarray,
    running_var: np.ndarray,
    mu: np.ndarray,
    var: np.ndarray,
    m: int,
    momentum: float = DEFAULT_BN_MOMENTUM,
) -> None:
    """Update one BN layer's running estimates in place from its batch statistics (PyTorch's
    convention): the mean as it is, the biased batch variance made unbiased by m/(m-1).

    Parameters
    ----------
    running_mean, running_var : (n,).  mu, var : (n,) from :func:`batchnorm_forward`.
    m : the batch size.  momentum : k.
    """
    running_average(running_mean, mu, momentum)
    running_average(running_var, var, momentum, unbiased_variance_factor(m))


# -- activations ---------------------------------------------------------------------------------
def sigmoid(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Logistic sigmoid ``1 / (1 + e^-z)``; -z is clipped at :data:`SIGMOID_CLIP` so e^-z never
    overflows (no warning, and the result differs from the true value only below 1e-34)."""
    a = np.negative(z, out=out)
    np.minimum(a, SIGMOID_CLIP, out=a)
    np.exp(a, out=a)
    a += 1
    return np.reciprocal(a, out=a)


def activation_forward(z: np.ndarray, kind: str, out: np.ndarray | None = None) -> np.ndarray:
    """``a = g(z)`` for g in relu, tanh, sigmoid, linear; z and out any shape."""
    if kind == "relu":
        return np.maximum(z, 0, out=out)
    if kind == "tanh":
        return np.tanh(z, out=out)
    if kind == "sigmoid":
        return sigmoid(z, out=out)
    if kind == "linear":
        if out is None:
            return z.copy()
        out[...] = z
        return out
    raise ValueError(f"unknown activation {kind!r}; choose one of {', '.join(ACTIVATIONS)}")


def activation_derivative(a: np.ndarray, kind: str, out: np.ndarray | None = None) -> np.ndarray:
    """``g'(z)`` written in terms of the output ``a = g(z)``, which the forward pass kept:
    relu ``[a > 0]``, tanh ``1 - a^2``, sigmoid ``a (1 - a)``, linear 1."""
    if kind == "relu":
        # z > 0 exactly where a > 0; written as 0.0/1.0 into a float array
        return np.greater(a, 0, out=out if out is not None else np.empty_like(a))
    if kind == "tanh":
        d = np.multiply(a, a, out=out)
        return np.subtract(1, d, out=d)
    if kind == "sigmoid":
        d = np.subtract(1, a, out=out)
        d *= a
        return d
    if kind == "linear":
        if out is None:
            return np.ones_like(a)
        out.fill(1)
        return out
    raise ValueError(f"unknown activation {kind!r}; choose one of {', '.join(ACTIVATIONS)}")


def activation_backward(
    da: np.ndarray,
    a: np.ndarray,
    kind: str,
    *,
    out: np.ndarray | None = None,
    tmp: np.ndarray | None = None,
) -> np.ndarray:
    """``dz = da * g'(z)`` (elementwise), with g' from :func:`activation_derivative`.

    Parameters
    ----------
    da : (m, n) upstream gradient.  a : (m, n) the activation's output.
    out : (m, n), optional; may be da itself.  tmp : (m, n) scratch for g'.

    Returns
    -------
    dz : (m, n).
    """
    if kind == "linear":  # g' = 1: skip a multiplication by ones
        if out is None:
            return da.copy()
        if out is not da:
            out[...] = da
        return out
    return np.multiply(da, activation_derivative(a, kind, out=tmp), out=out)


# -- softmax -------------------------------------------------------------------------------------
def _check_temperature(temperature: float) -> None:
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be finite and > 0, got {temperature}")


def _as_float(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z)
    return z if np.issubdtype(z.dtype, np.floating) else z.astype(np.float64)


def _row_max(z: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    """``max_j z[..., j]``. A reduction along a short last axis walks it row by row (5 us for
    128 x 4 float32, 2-3% of a W1 step); for up to :data:`ROW_MAX_COLUMNS` classes the maximum
    is taken column by column instead, C - 1 vectorized ``np.maximum`` calls down the rows
    (0.5 us each). The maximum is exact either way."""
    C = z.shape[-1]
    if z.ndim != 2 or not 1 < C <= ROW_MAX_COLUMNS:
        return np.maximum.reduce(z, axis=-1, out=out)
    out = np.maximum(z[:, 0], z[:, 1], out=out)
    for j in range(2, C):
        np.maximum(out, z[:, j], out=out)
    return out


def _softmax_parts(
    z: np.ndarray,
    temperature: float,
    *,
    shifted: np.ndarray | None,
    t: np.ndarray | None,
    row_max: np.ndarray | None,
    row_sum: np.ndarray | None,
    ones: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``u = (z - max z) / T``, ``t = e^u`` and ``s = sum_j t_j`` over the last axis.

    Subtracting the row max changes no probability (the factor e^-max cancels in t / s) but keeps
    every exponent <= 0, so e^u cannot overflow; dividing after subtracting keeps a tiny T from
    overflowing too. ``t`` is None: e^u is written over u (a caller that needs u passes both).
    """
    if shifted is None:  # C order: the cross-entropy indexes it through ravel()
        shifted = np.empty(z.shape, dtype=z.dtype)
    row_max = _row_max(z, row_max)
    u = np.subtract(z, row_max[..., None], out=shifted)
    if temperature != 1.0:
        with np.errstate(over="ignore"):  # (z - max)/T -> -inf as T -> 0: e^u is then 0
            u /= temperature
    t = np.exp(u, out=t if t is not None else u)
    w = ones if ones is not None else _weights(z.shape[-1], 1.0, z.dtype)
    return u, t, np.dot(t, w, out=row_sum)


def softmax(
    z: np.ndarray,
    temperature: float = 1.0,
    *,
    out: np.ndarray | None = None,
    row_max: np.ndarray | None = None,
    row_sum: np.ndarray | None = None,
    ones: np.ndarray | None = None,
) -> np.ndarray:
    """Softmax with temperature over the last axis, ``a = t / sum(t)``, ``t = e^(z / T)``.

    T = 1 is the output layer's softmax. As T -> 0 it tends to the hardmax (one-hot at the
    argmax; ties share), as T -> infinity to the uniform distribution; finite for any finite z.

    Parameters
    ----------
    z : (..., C) logits, e.g. (m, C) one example per row, or (C,).
    temperature : T, finite and > 0.
    out : (..., C), optional; receives a (may be z itself).
    row_max, row_sum : (...,) scratch; ones : (C,) scratch of ones.

    Returns
    -------
    a : (..., C), rows summing to 1.
    """
    _check_temperature(temperature)
    z = _as_float(z)
    _, t, s = _softmax_parts(
        z, temperature, shifted=out, t=None, row_max=row_max, row_sum=row_sum, ones=ones
    )
    t /= s[..., None]
    return t


def log_softmax(
    z: np.ndarray,
    temperature: float = 1.0,
    *,
    out: np.ndarray | None = None,
    t: np.ndarray | None = None,
    row_max: np.ndarray | None = None,
    row_sum: np.ndarray | None = None,
    ones: np.ndarray | None = None,
) -> np.ndarray:
    """``log a = u - log sum_j e^(u_j)``, ``u = (z - max z) / T``: finite even where a itself
    underflows to 0 (logits of +-1e4).

    Parameters
    ----------
    z : (..., C).  temperature : T, finite and > 0.  out : (..., C), optional; receives log a.
    t : (..., C) scratch for e^u; row_max, row_sum : (...,) scratch; ones : (C,) scratch.

    Returns
    -------
    log a : (..., C).
    """
    _check_temperature(temperature)
    z = _as_float(z)
    if t is None:
        t = np.empty(z.shape, dtype=z.dtype)
    u, _, s = _softmax_parts(
        z, temperature, shifted=out, t=t, row_max=row_max, row_sum=row_sum, ones=ones
    )
    u -= np.log(s)[..., None]
    return u


def _label_index(
    m: int, C: int, y: np.ndarray, row_start: np.ndarray | None, out: np.ndarray | None
) -> np.ndarray:
    """Flat indices ``i C + y_i`` of the label entries of an (m, C) C-order array."""
    start = row_start if row_start is not None else np.arange(m, dtype=np.intp) * C
    return np.add(start, y, out=out)


def _mean_nll(shifted: np.ndarray, s: np.ndarray, flat: np.ndarray) -> float:
    """``-1/m sum_i log a_{i, y_i}`` with ``log a = u - log s`` taken at the labels only; the
    per-example terms are formed before summing, so a small loss keeps its digits."""
    m = s.shape[0]
    picked = shifted.ravel()[flat]
    return float(np.subtract(np.log(s), picked).sum()) / m if m else float("nan")


def softmax_cross_entropy(
    logits: np.ndarray,
    y: np.ndarray,
    *,
    out: np.ndarray | None = None,
    shifted: np.ndarray | None = None,
    row_max: np.ndarray | None = None,
    row_sum: np.ndarray | None = None,
    ones: np.ndarray | None = None,
    row_start: np.ndarray | None = None,
    flat_idx: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:
    """Mean cross-entropy ``L = -1/m sum_i log a_{i, y_i}`` of ``a = softmax(logits)``, and
    its gradient ``dL/dlogits = (a - Y) / m`` with Y one-hot: softmax and cross-entropy
    together have the simplest derivative of the course.

    Parameters
    ----------
    logits : (m, C) output-layer z.
    y : (m,) integer labels in 0..C-1 (not checked: a caller that takes user labels checks).
    out : (m, C) C-contiguous, optional; receives dlogits.
    shifted : (m, C) C-contiguous scratch; may be logits itself, which is then overwritten.
    row_max, row_sum : (m,) scratch; ones : (C,) scratch of ones.
    row_start : (m,) ``arange(m) * C``; flat_idx : (m,) intp scratch.

    Returns
    -------
    loss : float; dlogits : (m, C).
    """
    m, C = logits.shape
    if out is not None and not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    u, t, s = _softmax_parts(
        logits, 1.0, shifted=shifted, t=out if out is not None else np.empty((m, C), logits.dtype),
        row_max=row_max, row_sum=row_sum, ones=ones,
    )  # fmt: skip
    flat = _label_index(m, C, y, row_start, flat_idx)
    loss = _mean_nll(u, s, flat)
    np.multiply(s, m, out=s)
    np.reciprocal(s, out=s)
    t *= s[:, None]
    t.ravel()[flat] -= 1.0 / m
    return loss, t


def softmax_cross_entropy_loss(logits: np.ndarray, y: np.ndarray) -> float:
    """The loss of :func:`softmax_cross_entropy` without its gradient (evaluation).

    Parameters
    ----------
    logits : (m, C).  y : (m,) integer labels in 0..C-1.
    """
    m, C = logits.shape
    u, _, s = _softmax_parts(
        logits, 1.0, shifted=None, t=np.empty((m, C), logits.dtype),
        row_max=None, row_sum=None, ones=None,
    )  # fmt: skip
    return _mean_nll(u, s, _label_index(m, C, y, None, None))
