"""The template pieces of an exported run: each a markdown text (the course's formula) and the
code that computes it, written out only when the settings need it (the chosen activation and
optimizer, batch norm or not, the data set's generator).

The code repeats :mod:`bnviz.nn.layers`, :mod:`bnviz.nn.optim`, the trainer's batch stream and
:func:`bnviz.data.dataset.standardize_split` operation for operation (the same float32
arithmetic in the same order: column sums as products with a vector of ones or of 1/m), so the
script's numbers equal ``bnviz train``'s; ``tests/export`` holds the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Piece:
    """One cell of the notebook, one section of the script."""

    markdown: str
    code: str


# -- data ---------------------------------------------------------------------------------------
CLASS_COUNTS = '''\
def class_counts(n_samples, n_classes):
    """Split n_samples as evenly as possible between the classes."""
    counts = np.full(n_classes, n_samples // n_classes)
    counts[: n_samples % n_classes] += 1
    return counts
'''

GENERATORS = {
    "spirals": '''\
def make_points(counts, noise, rng):
    """CS231n spirals: radius 0..1 along each arm, noise on the angle."""
    parts = []
    for j, k in enumerate(counts):
        r = np.linspace(0.0, 1.0, k)
        start = 2 * np.pi * j / len(counts)
        t = np.linspace(start, start + 4.0, k) + rng.standard_normal(k) * noise * 2.0
        parts.append(np.c_[r * np.sin(t), r * np.cos(t)])
    return np.concatenate(parts)
''',
    "blobs": '''\
def make_points(counts, noise, rng):
    """Gaussian blobs (std 0.2 + noise) centred evenly on the unit circle."""
    angles = 2 * np.pi * np.arange(len(counts)) / len(counts)
    centres = np.repeat(np.c_[np.cos(angles), np.sin(angles)], counts, axis=0)
    return centres + rng.standard_normal(centres.shape) * (0.2 + noise)
''',
    "rings": '''\
def make_points(counts, noise, rng):
    """Concentric rings of radius 1/C, 2/C, ..., 1, jittered by noise."""
    radius = np.repeat((np.arange(len(counts)) + 1) / len(counts), counts)
    t = rng.uniform(0, 2 * np.pi, radius.size)
    X = np.c_[radius * np.cos(t), radius * np.sin(t)]
    return X + rng.standard_normal(X.shape) * noise
''',
    "moons": '''\
def make_points(counts, noise, rng):
    """A chain of interleaving half circles (two of them: scikit-learn's make_moons)."""
    parts = []
    for k, m in enumerate(counts):
        t = rng.uniform(0, np.pi, m)
        sign = -1.0 if k % 2 else 1.0
        parts.append(np.c_[k + np.cos(t), 0.5 * (k % 2) + sign * np.sin(t)])
    X = np.concatenate(parts)
    return X + rng.standard_normal(X.shape) * noise
''',
}

MAKE_PLANAR = '''\
def make_data():
    """The 2-D points and labels (generation has its own random stream, [SEED, 0])."""
    rng = np.random.default_rng([SEED, 0])
    counts = class_counts(N_SAMPLES, N_CLASSES)
    return make_points(counts, NOISE, rng), np.repeat(np.arange(N_CLASSES), counts)
'''

MAKE_XOR = '''\
def make_data():
    """Uniform points in [-1, 1]^2 labelled by quadrant parity (its own stream, [SEED, 0])."""
    rng = np.random.default_rng([SEED, 0])
    X = rng.uniform(-1, 1, (N_SAMPLES, 2))
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64)
    return X + rng.standard_normal(X.shape) * NOISE, y
'''

MAKE_FROM_FILE = '''\
def make_data():
    """The data set's images (X, one row each) and labels, from the .npz beside this code."""
    with np.load(DATA_FILE) as f:
        return f["X"].astype(np.float64), f["y"].astype(np.int64)
'''

SPLIT = Piece(
    "Shuffle, hold out the first share of the rows for validation, and standardize every "
    "feature with the **training** rows' statistics (the validation rows never leak into "
    "them): $\\mu_j = \\frac{1}{m}\\sum_i x_{ij}$, "
    "$\\sigma_j = \\sqrt{\\frac{1}{m}\\sum_i (x_{ij} - \\mu_j)^2}$, "
    "$x \\leftarrow (x - \\mu) / \\sigma$.",
    '''\
def split_and_standardize(X, y, seed):
    """(X_train, y_train, X_val, y_val), the inputs float32 with mean 0 and std 1 in training."""
    order = np.random.default_rng(seed).permutation(len(X))
    X, y = X[order], y[order]
    n_val = min(max(int(round(len(X) * VAL_FRACTION)), 1), len(X) - 1)
    X_train, y_train, X_val, y_val = X[n_val:], y[n_val:], X[:n_val], y[:n_val]
    mean = X_train.sum(axis=0) / len(X_train)
    d = X_train - mean
    std = np.sqrt(np.einsum("ij,ij->j", d, d) / len(X_train))
    std = np.where(std > 1e-8 * (1.0 + np.abs(mean)), std, 1.0)  # a constant feature stays
    X_train, X_val = ((A - mean) / std for A in (X_train, X_val))
    return X_train.astype(DTYPE), y_train, X_val.astype(DTYPE), y_val
''',
)

READY_SPLIT = Piece(
    "bnviz read the data file, shuffled it, held out the validation rows and standardized "
    "every feature with the training rows' mean and std; the .npz beside this code holds the "
    "result.",
    '''\
def load_data():
    """(X_train, y_train, X_val, y_val) as bnviz split and standardized them."""
    with np.load(DATA_FILE) as f:
        return f["X_train"], f["y_train"], f["X_val"], f["y_val"]
''',
)

# -- formulas -----------------------------------------------------------------------------------
AFFINE = Piece(
    "**The affine step** of layer $l$, one example per row: $z = a^{[l-1]} W^T + b$, "
    "with $W$ of shape $(n_l, n_{l-1})$. Backward: $dW = dz^T a^{[l-1]}$, "
    "$db = \\sum_i dz_i$, $da^{[l-1]} = dz\\, W$.",
    '''\
def affine_forward(a_prev, W, b):
    """z = a_prev W^T + b; a_prev (m, n_in), W (n_out, n_in), b (n_out,) or None under BN."""
    z = a_prev @ W.T
    if b is not None:
        z += b
    return z


def affine_backward(dz, a_prev, W):
    """(da_prev, dW, db) of z = a_prev W^T + b; column sums are products with ones."""
    return dz @ W, dz.T @ a_prev, np.ones(len(dz), DTYPE) @ dz
''',
)

BATCHNORM = Piece(
    "**Batch norm** (training mode) normalizes each unit over the mini-batch: "
    "$\\mu = \\frac{1}{m}\\sum_i z_i$, $\\sigma^2 = \\frac{1}{m}\\sum_i (z_i - \\mu)^2$, "
    "$z_{norm} = (z - \\mu)/\\sqrt{\\sigma^2 + \\varepsilon}$, "
    "$\\tilde z = \\gamma z_{norm} + \\beta$.\n\n"
    "Backward, with the batch statistics depending on $z$: "
    "$d\\beta = \\sum_i d\\tilde z_i$, $d\\gamma = \\sum_i d\\tilde z_i\\, z_{norm,i}$, "
    "$dz = \\frac{\\gamma}{\\sqrt{\\sigma^2+\\varepsilon}}\\left(d\\tilde z - "
    "\\frac{d\\beta}{m} - z_{norm} \\frac{d\\gamma}{m}\\right)$.\n\n"
    "**The running average** kept for test time: "
    "$\\mu_{run} \\leftarrow k\\,\\mu_{run} + (1-k)\\,\\mu$ and the same for $\\sigma^2$ "
    "(made unbiased by $m/(m-1)$, PyTorch's convention). At test time "
    "$\\tilde z = \\gamma (z - \\mu_{run})/\\sqrt{\\sigma^2_{run} + \\varepsilon} + \\beta$.",
    '''\
def batchnorm_forward(z, gamma, beta):
    """Train mode: (z_tilde, z_norm, std, mu, var), all over the batch (axis 0)."""
    mean_w = np.full(len(z), 1.0 / len(z), DTYPE)  # the mean as one product with 1/m
    mu = mean_w @ z
    z_norm = z - mu
    var = mean_w @ (z_norm * z_norm)  # biased, as PyTorch normalizes
    std = np.sqrt(var + BN_EPS)
    z_norm /= std
    return z_norm * gamma + beta, z_norm, std, mu, var


def batchnorm_backward(dz_tilde, z_norm, std, gamma):
    """(dz, dgamma, dbeta) of train-mode batch norm."""
    m = len(dz_tilde)
    ones = np.ones(m, DTYPE)
    dbeta = ones @ dz_tilde
    dgamma = ones @ (dz_tilde * z_norm)
    dz = (dz_tilde - z_norm * (dgamma * (1.0 / m)) - dbeta * (1.0 / m)) * (gamma / std)
    return dz, dgamma, dbeta


def running_average(running, batch, k):
    """running = k running + (1 - k) batch, in place."""
    update = batch * (1.0 - k)
    running *= k
    running += update


def batchnorm_eval(z, gamma, beta, running_mean, running_var):
    """Test mode: the running estimates replace the batch statistics."""
    s = gamma / np.sqrt(running_var + BN_EPS)
    return z * s + (beta - s * running_mean)
''',
)

ACTIVATIONS = {
    "relu": Piece(
        "**ReLU**: $g(z) = \\max(0, z)$, $g'(z) = [z > 0]$ (He initialization, "
        "$W \\sim \\mathcal N(0, 2/n_{in})$).",
        '''\
def activation(z):
    """ReLU, g(z) = max(0, z)."""
    return np.maximum(z, 0)


def activation_backward(da, a):
    """dz = da g'(z) with g'(z) = [a > 0]."""
    return da * (a > 0)
''',
    ),
    "tanh": Piece(
        "**tanh**: $g(z) = \\tanh z$, $g'(z) = 1 - a^2$ (Xavier initialization, "
        "$W \\sim \\mathcal N(0, 1/n_{in})$).",
        '''\
def activation(z):
    """g(z) = tanh(z)."""
    return np.tanh(z)


def activation_backward(da, a):
    """dz = da g'(z) with g'(z) = 1 - a^2."""
    return da * (1 - a * a)
''',
    ),
    "sigmoid": Piece(
        "**Sigmoid**: $g(z) = 1/(1 + e^{-z})$, $g'(z) = a(1 - a)$ (Xavier initialization, "
        "$W \\sim \\mathcal N(0, 1/n_{in})$).",
        '''\
def activation(z):
    """g(z) = 1 / (1 + e^-z); -z clipped at 80 so e^-z stays finite in float32."""
    return 1.0 / (1.0 + np.exp(np.minimum(-z, 80.0)))


def activation_backward(da, a):
    """dz = da g'(z) with g'(z) = a (1 - a)."""
    return da * ((1 - a) * a)
''',
    ),
    "linear": Piece(
        "**Linear** (no activation): $g(z) = z$, $g'(z) = 1$ (Xavier initialization).",
        '''\
def activation(z):
    """g(z) = z."""
    return z.copy()


def activation_backward(da, a):
    """dz = da (g' = 1)."""
    return da
''',
    ),
}

SOFTMAX = Piece(
    "**Softmax cross-entropy**: $a = e^{z}/\\sum_j e^{z_j}$ (computed from $z - \\max z$, "
    "which changes no probability but cannot overflow), "
    "$L = -\\frac{1}{m}\\sum_i \\log a_{i,y_i}$ and the simplest derivative of the course, "
    "$dz = (a - Y)/m$ with $Y$ one-hot.",
    '''\
def softmax_cross_entropy(logits, y):
    """(mean loss, dlogits) for logits (m, C) and integer labels y (m,)."""
    m, C = logits.shape
    rows = np.arange(m)
    u = logits - logits.max(axis=1, keepdims=True)
    t = np.exp(u)
    s = t @ np.ones(C, DTYPE)
    loss = float((np.log(s) - u[rows, y]).sum()) / m  # log a = u - log s, at the labels
    dlogits = t * (1.0 / (s * m))[:, None]
    dlogits[rows, y] -= 1.0 / m
    return loss, dlogits
''',
)

OPTIMIZERS = {
    "sgd": Piece(
        "**Gradient descent**: $w \\leftarrow w - \\alpha\\, dw$.",
        '''\
def update(w, dw, state, lr):
    """w -= alpha dw (in place)."""
    w -= dw * lr
''',
    ),
    "momentum": Piece(
        "**Momentum**: $v \\leftarrow \\beta v + (1 - \\beta)\\, dw$, "
        "$w \\leftarrow w - \\alpha v$.",
        '''\
def update(w, dw, state, lr):
    """v = beta v + (1 - beta) dw, w -= alpha v (in place; state holds v)."""
    v = state["v"]
    v += (dw - v) * (1 - BETA)
    w -= v * lr
''',
    ),
    "rmsprop": Piece(
        "**RMSprop**: $s \\leftarrow \\beta_2 s + (1 - \\beta_2)\\, dw^2$, "
        "$w \\leftarrow w - \\alpha\\, dw / (\\sqrt{s} + \\varepsilon)$.",
        '''\
def update(w, dw, state, lr):
    """s = beta2 s + (1 - beta2) dw^2, w -= alpha dw / (sqrt(s) + eps)."""
    s = state["s"]
    s += (dw * dw - s) * (1 - BETA2)
    w -= (dw / (np.sqrt(s) + ADAM_EPS)) * lr
''',
    ),
    "adam": Piece(
        "**Adam**: momentum and RMSprop together, $v \\leftarrow \\beta_1 v + (1-\\beta_1) dw$, "
        "$s \\leftarrow \\beta_2 s + (1-\\beta_2) dw^2$, with bias correction "
        "$\\hat v = v/(1-\\beta_1^t)$, $\\hat s = s/(1-\\beta_2^t)$ and "
        "$w \\leftarrow w - \\alpha \\hat v/(\\sqrt{\\hat s} + \\varepsilon)$.",
        '''\
def update(w, dw, state, lr):
    """Adam; state holds v, s and t (the step, counted once per step by the caller)."""
    v, s, t = state["v"], state["s"], state["t"]
    v += (dw - v) * (1 - BETA)
    s += (dw * dw - s) * (1 - BETA2)
    # alpha v_hat / (sqrt(s_hat) + eps), with the corrections taken out of the arrays
    c1, c2 = 1 - BETA**t, 1 - BETA2**t
    w -= (v / (np.sqrt(s) + ADAM_EPS * math.sqrt(c2))) * (lr * math.sqrt(c2) / c1)
''',
    ),
}

MINIBATCHES = Piece(
    "**Mini-batches**: every epoch the training rows are shuffled and cut into batches; a "
    "final remainder smaller than a batch is dropped (batch norm needs full batches).",
    '''\
def minibatches(n, batch_size, seed):
    """Yield (row indices, epoch) forever; the epoch turns as soon as no full batch is left."""
    rng = np.random.default_rng(seed)
    b = min(batch_size, n)
    epoch, order, pos = 0, rng.permutation(n), 0
    while True:
        idx = order[pos : pos + b]
        pos += b
        if pos + b > n:
            epoch, order, pos = epoch + 1, rng.permutation(n), 0
        yield idx, epoch
''',
)

# -- the network ----------------------------------------------------------------------------------
INIT = Piece(
    "**Initialization**: $W^{[l]} \\sim \\mathcal N(0, g/n_{l-1})$ drawn layer by layer from "
    "one seeded generator (gain $g$ = 2 for ReLU hidden layers, He; 1 otherwise, Xavier), "
    "biases 0; under batch norm a hidden layer has $\\gamma = 1$, $\\beta = 0$ instead of $b$, "
    "and running estimates $\\mu_{run} = 0$, $\\sigma^2_{run} = 1$.",
    '''\
def init_network(sizes, seed):
    """(params, buffers): the weights by name (W1, b1 or gamma1/beta1, ...) and BN's running
    estimates (running_mean1, running_var1, ...), float32."""
    rng = np.random.default_rng(seed)
    params, buffers, L = {}, {}, len(sizes) - 1
    for l in range(1, L + 1):
        n_in, n_out = sizes[l - 1], sizes[l]
        gain = GAIN if l < L else 1.0
        params[f"W{l}"] = (rng.standard_normal((n_out, n_in)) * np.sqrt(gain / n_in)).astype(DTYPE)
        if l < L and BATCHNORM:
            params[f"gamma{l}"], params[f"beta{l}"] = np.ones(n_out, DTYPE), np.zeros(n_out, DTYPE)
            buffers[f"running_mean{l}"] = np.zeros(n_out, DTYPE)
            buffers[f"running_var{l}"] = np.ones(n_out, DTYPE)
        else:
            params[f"b{l}"] = np.zeros(n_out, DTYPE)
    return params, buffers
''',
)

STEP_BN = Piece(
    "**One training step**: forward through every hidden layer "
    "($z \\to \\tilde z \\to a = g(\\tilde z)$, updating the running estimates), softmax "
    "cross-entropy at the output, then backward in reverse order.",
    '''\
def loss_and_grads(params, buffers, X, y):
    """Train-mode loss on the batch (X, y) and the gradient of every parameter."""
    L, m, a, caches = N_LAYERS, len(X), X, []
    for l in range(1, L):
        z = affine_forward(a, params[f"W{l}"], None)  # beta takes the place of b
        gamma, beta = params[f"gamma{l}"], params[f"beta{l}"]
        z_tilde, z_norm, std, mu, var = batchnorm_forward(z, gamma, beta)
        running_average(buffers[f"running_mean{l}"], mu, BN_MOMENTUM)
        running_average(buffers[f"running_var{l}"], var * (m / (m - 1)), BN_MOMENTUM)
        caches.append((a, z_norm, std))
        a = activation(z_tilde)
    loss, dz = softmax_cross_entropy(affine_forward(a, params[f"W{L}"], params[f"b{L}"]), y)
    grads = {}
    da, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dz, a, params[f"W{L}"])
    for l in range(L - 1, 0, -1):
        a_prev, z_norm, std = caches[l - 1]
        dz_tilde = activation_backward(da, a)
        gamma = params[f"gamma{l}"]
        dz, grads[f"gamma{l}"], grads[f"beta{l}"] = batchnorm_backward(dz_tilde, z_norm, std, gamma)
        da, grads[f"W{l}"], _ = affine_backward(dz, a_prev, params[f"W{l}"])
        a = a_prev
    return loss, grads


def predict_logits(params, buffers, X):
    """Eval-mode logits (m, C): batch norm uses the running estimates."""
    L, a = N_LAYERS, X
    for l in range(1, L):
        z = affine_forward(a, params[f"W{l}"], None)
        a = activation(batchnorm_eval(z, params[f"gamma{l}"], params[f"beta{l}"],
                                      buffers[f"running_mean{l}"], buffers[f"running_var{l}"]))
    return affine_forward(a, params[f"W{L}"], params[f"b{L}"])
''',
)

STEP_PLAIN = Piece(
    "**One training step**: forward through every hidden layer ($z \\to a = g(z)$), softmax "
    "cross-entropy at the output, then backward in reverse order.",
    '''\
def loss_and_grads(params, buffers, X, y):
    """Train-mode loss on the batch (X, y) and the gradient of every parameter."""
    L, a, inputs = N_LAYERS, X, []
    for l in range(1, L):
        inputs.append(a)
        a = activation(affine_forward(a, params[f"W{l}"], params[f"b{l}"]))
    loss, dz = softmax_cross_entropy(affine_forward(a, params[f"W{L}"], params[f"b{L}"]), y)
    grads = {}
    da, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dz, a, params[f"W{L}"])
    for l in range(L - 1, 0, -1):
        dz = activation_backward(da, a)
        a = inputs[l - 1]
        da, grads[f"W{l}"], grads[f"b{l}"] = affine_backward(dz, a, params[f"W{l}"])
    return loss, grads


def predict_logits(params, buffers, X):
    """Eval-mode logits (m, C)."""
    L, a = N_LAYERS, X
    for l in range(1, L):
        a = activation(affine_forward(a, params[f"W{l}"], params[f"b{l}"]))
    return affine_forward(a, params[f"W{L}"], params[f"b{L}"])
''',
)

EVALUATE = Piece(
    "**Evaluation** on the validation rows in eval mode: the mean cross-entropy and the share "
    "of rows whose largest logit is the label.",
    '''\
def evaluate(params, buffers, X, y):
    """(val_loss, val_acc)."""
    logits = predict_logits(params, buffers, X)
    loss, _ = softmax_cross_entropy(logits, y)
    return loss, float(np.mean(logits.argmax(axis=1) == y))
''',
)
