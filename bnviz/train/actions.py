"""Actions: Qt-free changes to the live networks that a view asks for by name.

A probe (:mod:`bnviz.train.probes`) only reads the networks; an action may change them (a lesson
setting a unit's gamma and beta, then undoing it). An action is a function
``fn(ctx, **args) -> result`` of an :class:`ActionContext`, registered under a name::

    @action("bn_set_gamma_beta")
    def set_gamma_beta(ctx: ActionContext, run: str, layer: int, unit: int,
                       gamma: float, beta: float) -> GammaBeta: ...

The app runs one with ``TrainingWorker.act("bn_set_gamma_beta", run="bn", ...)``: a
:class:`~bnviz.train.protocol.RunAction` carries the request to the training process, which
runs it between two steps and answers with a :class:`~bnviz.train.protocol.Replied` (the result,
or the error's message). Every probe is then due at once, so the views show the change. The
result must be picklable. Names, requests and the module import are the probes' machinery
(:mod:`bnviz.train.registry`).

An action changes the networks' arrays *in place* (``net.params[name][i] = v``): the training
step's preallocated workspace (:mod:`bnviz.nn.fastnet`) and the optimizer hold views of those
arrays, and would not see a new array put in their place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from bnviz.train.probes import ProbeContext
from bnviz.train.protocol import ActionRequest
from bnviz.train.registry import Registry
from bnviz.train.trainer import Run

F = TypeVar("F", bound=Callable[..., Any])


class ActionError(LookupError):
    """An unknown action name (a typo, or a module that does not register it)."""


@dataclass(frozen=True)
class Action:
    """A registered action: ``fn(ctx, **args)`` under ``name``."""

    name: str
    fn: Callable[..., object]


REGISTRY: Registry[Action, ActionRequest] = Registry("action", ActionError, ActionRequest)
ACTIONS: dict[str, Action] = REGISTRY.entries


def register(name: str, fn: Callable[..., object]) -> Action:
    """Register ``fn`` as action ``name`` (the same function again is harmless)."""
    return REGISTRY.add(Action(name, fn))


def action(name: str) -> Callable[[F], F]:
    """Decorator form of :func:`register`."""

    def decorate(fn: F) -> F:
        register(name, fn)
        return fn

    return decorate


#: ``request(name, **args) -> ActionRequest``: what the app sends to run action ``name``.
request = REGISTRY.request
#: ``resolve(req) -> Action``: the action ``req`` names, its module imported when needed.
resolve = REGISTRY.resolve


def run(req: ActionRequest, ctx: ActionContext) -> object:
    """Run ``req`` now; raises what the action raises."""
    return resolve(req).fn(ctx, **req.kwargs)


class ActionContext(ProbeContext):
    """What an action works on: the probes' view of the trainer, whose networks it may change
    (in place, between two steps)."""

    __slots__ = ()

    def run(self, name: str) -> Run:
        """The network called ``name`` ("bn", "plain", or the one run's name)."""
        for r in self.runs:
            if r.name == name:
                return r
        names = ", ".join(repr(r.name) for r in self.runs)
        raise ValueError(f"no network named {name!r}; the networks are {names}")
