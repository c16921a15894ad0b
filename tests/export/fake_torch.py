"""A NumPy stand-in for the few PyTorch APIs an exported model script uses, with PyTorch's
documented semantics (``nn.Linear``: ``x W^T + b`` with W (out, in); ``nn.BatchNorm1d`` in
eval mode: ``(x - running_mean) / sqrt(running_var + eps) * weight + bias``; ``softmax`` over
``dim``). Where torch is not installed, it lets the test run the script's ``load()`` and check
that every weight lands where PyTorch would read it; the real-torch test runs where torch is."""

from __future__ import annotations

import contextlib
import sys
import types

import numpy as np


class Tensor(np.ndarray):
    def copy_(self, other):
        self[...] = np.asarray(other)
        return self

    def detach(self):
        return self

    def numpy(self):
        return np.asarray(self)


def _t(a) -> Tensor:
    return np.array(a, dtype=np.float32).view(Tensor)


class Module:
    def __init__(self):
        self.training = True

    def register_buffer(self, name, value):
        setattr(self, name, value)

    def __call__(self, x):
        return self.forward(x)

    def eval(self):
        """As torch: this module and every submodule (attributes and a Sequential's)."""
        self.training = False
        subs = [v for v in vars(self).values() if isinstance(v, Module)]
        for m in subs + getattr(self, "_children", []):
            m.eval()
        return self


class Linear(Module):
    def __init__(self, n_in, n_out, bias=True):
        super().__init__()
        self.weight = _t(np.full((n_out, n_in), np.nan))
        self.bias = _t(np.full(n_out, np.nan)) if bias else None

    def forward(self, x):
        z = np.asarray(x) @ np.asarray(self.weight).T
        return _t(z if self.bias is None else z + np.asarray(self.bias))


class BatchNorm1d(Module):
    def __init__(self, n, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight, self.bias = _t(np.full(n, np.nan)), _t(np.full(n, np.nan))
        self.running_mean, self.running_var = _t(np.zeros(n)), _t(np.ones(n))

    def forward(self, x):
        assert not self.training, "the exported model must be in eval mode"
        norm = (np.asarray(x) - self.running_mean) / np.sqrt(self.running_var + self.eps)
        return _t(norm * self.weight + self.bias)


def _activation(fn):
    class Activation(Module):
        def forward(self, x):
            return _t(fn(np.asarray(x, np.float64)))

    return Activation


class Sequential(Module):
    def __init__(self, *modules):
        super().__init__()
        self._children = list(modules)

    def __iter__(self):
        return iter(self._children)

    def forward(self, x):
        for m in self._children:
            x = m(x)
        return x


def softmax(x, dim):
    e = np.exp(np.asarray(x, np.float64) - np.max(x, axis=dim, keepdims=True))
    return _t(e / e.sum(axis=dim, keepdims=True))


def install() -> None:
    """Make ``import torch`` and ``from torch import nn`` give this stand-in."""
    nn = types.ModuleType("torch.nn")
    nn.Module, nn.Linear, nn.BatchNorm1d, nn.Sequential = Module, Linear, BatchNorm1d, Sequential
    nn.ReLU = _activation(lambda z: np.maximum(z, 0))
    nn.Tanh = _activation(np.tanh)
    nn.Sigmoid = _activation(lambda z: 1 / (1 + np.exp(-z)))
    nn.Identity = _activation(lambda z: z)
    torch = types.ModuleType("torch")
    torch.nn, torch.softmax = nn, softmax
    torch.zeros = lambda n: _t(np.zeros(n))
    torch.ones = lambda n: _t(np.ones(n))
    torch.from_numpy = _t
    torch.tensor = lambda a, dtype=None: _t(a)
    torch.float32 = np.float32
    torch.no_grad = contextlib.nullcontext
    sys.modules["torch"], sys.modules["torch.nn"] = torch, nn
