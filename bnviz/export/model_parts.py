"""What every model export reads of a saved network: its layers in order, float32, with the
input standardization it was trained behind (mean 0 / std 1 when the file does not know it)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bnviz.nn.network import MLP


@dataclass(frozen=True)
class ModelParts:
    """A trained :class:`MLP` in eval mode as plain float32 arrays.

    ``weights[l]`` is W of layer l+1, (n_out, n_in); ``biases[l]`` its b or None under BN;
    ``norms[l]`` the hidden layer's (gamma, beta, running_mean, running_var) or None."""

    sizes: tuple[int, ...]
    activation: str
    batchnorm: bool
    eps: float
    bn_momentum: float
    mean: np.ndarray
    std: np.ndarray
    knows_scaling: bool
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray | None, ...]
    norms: tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None, ...]

    @classmethod
    def of(cls, net: MLP) -> ModelParts:
        P, B, L = net.params, net.buffers, net.n_layers
        f32 = lambda a: np.asarray(a, np.float32).copy()  # noqa: E731
        weights, biases, norms = [], [], []
        for l in range(1, L + 1):
            weights.append(f32(P[f"W{l}"]))
            biases.append(f32(P[f"b{l}"]) if f"b{l}" in P else None)
            norm = None
            if net.batchnorm and l < L:
                norm = (f32(P[f"gamma{l}"]), f32(P[f"beta{l}"]), f32(B[f"running_mean{l}"]),
                        f32(B[f"running_var{l}"]))  # fmt: skip
            norms.append(norm)
        known = net.input_mean is not None and net.input_std is not None
        n = net.sizes[0]
        mean = f32(net.input_mean) if net.input_mean is not None else np.zeros(n, np.float32)
        std = f32(net.input_std) if net.input_std is not None else np.ones(n, np.float32)
        return cls(
            tuple(net.sizes), net.activation, net.batchnorm, net.eps, net.bn_momentum, mean, std,
            known, tuple(weights), tuple(biases), tuple(norms),
        )  # fmt: skip

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays under bnviz's names (W1, b1 or gamma1/beta1/running_mean1/running_var1,
        ..., input_mean, input_std)."""
        out = {"input_mean": self.mean, "input_std": self.std}
        for l, (W, b, norm) in enumerate(zip(self.weights, self.biases, self.norms), 1):
            out[f"W{l}"] = W
            if b is not None:
                out[f"b{l}"] = b
            if norm is not None:
                for name, a in zip(("gamma", "beta", "running_mean", "running_var"), norm):
                    out[f"{name}{l}"] = a
        return out
