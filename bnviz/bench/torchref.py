"""The same network in PyTorch, for ``bnviz bench`` to measure against. torch is never a
dependency: this module imports without it, and torch is loaded only when a twin is built
(:func:`require_torch` says plainly when it is missing).

:class:`TorchTwin` copies an :class:`~bnviz.nn.network.MLP`'s weights, so both start from the
same init, and trains with the equivalent optimizer on the same mini-batch stream.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import numpy as np

from bnviz.nn.network import MLP
from bnviz.nn.optim import Hyper
from bnviz.train.trainer import BatchStream


class TorchMissingError(RuntimeError):
    """PyTorch is asked for (the bench's comparison) but is not installed."""


def require_torch() -> ModuleType:
    """The ``torch`` module, imported on first use; a clear error when it is not installed."""
    try:
        return importlib.import_module("torch")
    except ImportError as e:
        raise TorchMissingError(
            "PyTorch is not installed; the comparison needs it (pip install torch), "
            "the NumPy figures do not"
        ) from e


def torch_version() -> str:
    return str(require_torch().__version__).split("+")[0]


class TorchTwin:
    """``net``'s architecture and weights as a ``torch.nn.Sequential`` on the CPU, one thread.

    Parameters
    ----------
    net : the network to copy (float32).
    X, y : (n, n_in) float32 training inputs and (n,) labels; batches are drawn by a
        :class:`BatchStream` seeded with ``seed``, as the NumPy trainer does.
    optimizer : "adam" or "momentum". PyTorch's momentum ``v = mu v + g`` equals the course's
        ``v = beta v + (1 - beta) g`` when its learning rate is ``lr * (1 - beta)``.
    """

    def __init__(
        self,
        net: MLP,
        X: np.ndarray,
        y: np.ndarray,
        optimizer: str,
        hyper: Hyper,
        batch_size: int,
        seed: int = 0,
    ) -> None:
        torch = self.torch = require_torch()
        torch.set_num_threads(1)
        self.model = _sequential(net)
        self.X = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        self.y = torch.from_numpy(np.asarray(y, dtype=np.int64))
        self.stream = BatchStream(len(X), seed)
        self.batch_size = batch_size
        self.opt, self.optimizer_name = _optimizer(self.model, optimizer, hyper)
        self.loss_fn = torch.nn.CrossEntropyLoss()

    def step(self) -> float:
        idx = self.torch.from_numpy(self.stream.next(self.batch_size))
        self.opt.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.model(self.X[idx]), self.y[idx])
        loss.backward()
        self.opt.step()
        return loss.item()


def _sequential(net: MLP) -> Any:
    """``net`` as a ``torch.nn.Sequential`` with the same weights, in train mode."""
    torch = require_torch()
    P, mods, L = net.params, [], net.n_layers
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}
    with torch.no_grad():
        for l in range(1, L + 1):
            hidden_bn = l < L and net.batchnorm
            lin = torch.nn.Linear(net.sizes[l - 1], net.sizes[l], bias=not hidden_bn)
            lin.weight.copy_(torch.from_numpy(np.array(P[f"W{l}"], dtype=np.float32)))
            if not hidden_bn:
                lin.bias.copy_(torch.from_numpy(np.array(P[f"b{l}"], dtype=np.float32)))
            mods.append(lin)
            if l == L:
                break
            if hidden_bn:
                bn = torch.nn.BatchNorm1d(net.sizes[l], eps=net.eps, momentum=1 - net.bn_momentum)
                bn.weight.copy_(torch.from_numpy(np.array(P[f"gamma{l}"], dtype=np.float32)))
                bn.bias.copy_(torch.from_numpy(np.array(P[f"beta{l}"], dtype=np.float32)))
                mods.append(bn)
            if net.activation in act:
                mods.append(act[net.activation]())
    return torch.nn.Sequential(*mods).train()


def _optimizer(model: Any, kind: str, hp: Hyper) -> tuple[Any, str]:
    """PyTorch's fastest CPU variant of the optimizer: fused, else foreach, else the loop."""
    torch = require_torch()
    params = list(model.parameters())
    for variant in ("fused", "foreach", None):
        kwargs = {variant: True} if variant else {}
        try:
            if kind == "adam":
                opt = torch.optim.Adam(
                    params, lr=hp.lr, betas=(hp.beta, hp.beta2), eps=hp.eps, **kwargs
                )
                name = "Adam"
            elif kind == "momentum":
                opt = torch.optim.SGD(params, lr=hp.lr * (1 - hp.beta), momentum=hp.beta, **kwargs)
                name = "SGD momentum"
            else:
                raise ValueError(f"bench compares adam or momentum, not {kind!r}")
            # A fused kernel may only be refused at the first step; try one on zero gradients.
            for p in params:
                p.grad = torch.zeros_like(p)
            state = [p.detach().clone() for p in params]
            opt.step()
            with torch.no_grad():
                for p, s in zip(params, state):
                    p.copy_(s)
            opt.state.clear()
            opt.zero_grad(set_to_none=True)
            return opt, f"{name}({variant}=True)" if variant else name
        except (RuntimeError, TypeError, ValueError) as e:
            if variant is None or "bench compares" in str(e):
                raise
    raise AssertionError("unreachable")
