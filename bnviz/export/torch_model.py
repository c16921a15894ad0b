"""A trained network as a PyTorch script: ``OUT.py`` builds it from ``nn.Linear``,
``nn.BatchNorm1d`` and the activation, and its ``load()`` reads the weights from ``OUT.npz``
beside it and returns the module in eval mode, taking raw inputs and returning probabilities.

Writing the script needs no PyTorch: it is text, and the weights are an .npz (no pickle, so
loading it runs no code).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from bnviz.export.model_parts import ModelParts

TORCH_ACTIVATIONS = {"relu": "nn.ReLU", "tanh": "nn.Tanh", "sigmoid": "nn.Sigmoid",
                     "linear": "nn.Identity"}  # fmt: skip

_TEMPLATE = '''\
"""A bnviz model in PyTorch: {describe}.

Written by bnviz export-model. load() returns the network in eval mode with the weights from
{weights} beside this file; it takes inputs in the data's own units (the standardization it was
trained behind is its first step) and returns class probabilities:

    from {module} import load
    model = load()
    probabilities = model(torch.tensor(X, dtype=torch.float32))
"""

import os

import numpy as np
import torch
from torch import nn

WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), {weights!r})
SIZES = {sizes}  # inputs, hidden widths, classes
BATCHNORM = {batchnorm}
BN_EPS = {eps!r}
BN_MOMENTUM = {torch_momentum!r}  # PyTorch's momentum is 1 - k of bnviz's running average
ACTIVATION = {activation}


class BnvizMLP(nn.Module):
    """(x - mean) / std, then [Linear -> BatchNorm1d -> activation] per hidden layer, then
    Linear and softmax."""

    def __init__(self):
        super().__init__()
        self.register_buffer("input_mean", torch.zeros(SIZES[0]))
        self.register_buffer("input_std", torch.ones(SIZES[0]))
        layers = []
        for n_in, n_out in zip(SIZES[:-2], SIZES[1:-1]):
            layers.append(nn.Linear(n_in, n_out, bias=not BATCHNORM))  # beta replaces b
            if BATCHNORM:
                layers.append(nn.BatchNorm1d(n_out, eps=BN_EPS, momentum=BN_MOMENTUM))
            layers.append(ACTIVATION())
        layers.append(nn.Linear(SIZES[-2], SIZES[-1]))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        """Probabilities (m, C) of raw inputs x (m, n)."""
        return torch.softmax(self.layers((x - self.input_mean) / self.input_std), dim=1)


def load(path=WEIGHTS):
    """The network with bnviz's weights, in eval mode (BN uses the running estimates)."""
    model = BnvizMLP()
    with np.load(path, allow_pickle=False) as f:
        w = {{name: torch.from_numpy(np.asarray(f[name], np.float32)) for name in f.files}}
    linears = [m for m in model.layers if isinstance(m, nn.Linear)]
    norms = [m for m in model.layers if isinstance(m, nn.BatchNorm1d)]
    with torch.no_grad():
        model.input_mean.copy_(w["input_mean"])
        model.input_std.copy_(w["input_std"])
        for l, linear in enumerate(linears, 1):
            linear.weight.copy_(w[f"W{{l}}"])  # (n_out, n_in), as bnviz keeps W
            if linear.bias is not None:
                linear.bias.copy_(w[f"b{{l}}"])
        for l, norm in enumerate(norms, 1):
            norm.weight.copy_(w[f"gamma{{l}}"])
            norm.bias.copy_(w[f"beta{{l}}"])
            norm.running_mean.copy_(w[f"running_mean{{l}}"])
            norm.running_var.copy_(w[f"running_var{{l}}"])
    return model.eval()


if __name__ == "__main__":
    model = load()
    print(model)
    print("probabilities of the origin:", model(torch.zeros(1, SIZES[0])).detach().numpy())
'''


def torch_script(parts: ModelParts, module: str, weights: str) -> str:
    """The script's text; ``module`` is its import name, ``weights`` the .npz's file name."""
    hidden = ",".join(map(str, parts.sizes[1:-1])) or "no hidden layer"
    bn = "batch norm" if parts.batchnorm else "no batch norm"
    return _TEMPLATE.format(
        describe=f"{parts.sizes[0]} inputs, hidden {hidden} {parts.activation}, {bn}, "
        f"{parts.sizes[-1]} classes",
        weights=weights, module=module, sizes=list(parts.sizes), batchnorm=parts.batchnorm,
        eps=parts.eps, torch_momentum=round(1.0 - parts.bn_momentum, 12),
        activation=TORCH_ACTIVATIONS[parts.activation],
    )  # fmt: skip


def write_torch(parts: ModelParts, path: str | os.PathLike[str]) -> list[str]:
    """Write ``path`` (.py) and its weights (.npz beside it); returns both file names."""
    p = Path(path)
    weights = p.with_suffix(".npz")
    with open(weights, "wb") as f:
        # NumPy's stub reads any keyword as allow_pickle; the keys are W1, gamma1, input_mean...
        np.savez(f, **parts.arrays())  # type: ignore[arg-type]
    p.write_text(torch_script(parts, p.stem, weights.name))
    return [str(p), str(weights)]
