"""Functions registered by name that the training process runs when the app asks: the probes
(:mod:`bnviz.train.probes`, which read the networks) and the actions
(:mod:`bnviz.train.actions`, which may change them) share this machinery.

A function is registered under a name in its module; the app sends a request naming it and the
module (a picklable :class:`~bnviz.train.protocol.Request`); the training process imports the
module when it has not yet, so a lesson's or a test's function needs no change to the protocol
or the session loop.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar

from bnviz.train.protocol import Request


class Registered(Protocol):
    """What a registry holds: a function under a name (a probe, an action)."""

    @property
    def name(self) -> str: ...

    @property
    def fn(self) -> Callable[..., object]: ...


E = TypeVar("E", bound=Registered)
R = TypeVar("R", bound=Request)


class Registry(Generic[E, R]):
    """Entries of one kind by name, the requests that name them, and their lookup in the
    training process.

    ``kind`` names them in messages ("probe", "action"); ``error`` is raised for an unknown name;
    ``request_type`` is the message a request is sent as.
    """

    def __init__(self, kind: str, error: type[LookupError], request_type: type[R]) -> None:
        self.kind, self.error, self.request_type = kind, error, request_type
        self.entries: dict[str, E] = {}

    def add(self, entry: E) -> E:
        """Register ``entry``. The same function again (its module imported twice) is
        harmless; another function under a taken name is an error."""
        old = self.entries.get(entry.name)
        if old is not None and qualified(old.fn) != qualified(entry.fn):
            raise ValueError(
                f"{self.kind} {entry.name!r} is already registered by {qualified(old.fn)}"
            )
        self.entries[entry.name] = entry
        return entry

    def request(self, name: str, /, **args: Hashable) -> R:
        """The request for entry ``name`` with keyword ``args`` (hashable values): what the app
        sends to have it run."""
        entry = self.entries.get(name)
        if entry is None:
            known = ", ".join(sorted(self.entries))
            raise self.error(f"no {self.kind} named {name!r}; registered: {known}")
        items = tuple(sorted(args.items()))
        hash(items)  # a TypeError here, in the caller, rather than in the training process
        return self.request_type(name, items, str(entry.fn.__module__))

    def resolve(self, req: Request) -> E:
        """The entry ``req`` asks for, importing the module that registers it when needed."""
        entry = self.entries.get(req.name)
        if entry is None and req.module and req.module not in sys.modules:
            importlib.import_module(req.module)
            entry = self.entries.get(req.name)
        if entry is None:
            looked = req.module or "nothing"
            raise self.error(f"no {self.kind} named {req.name!r} (looked in {looked})")
        return entry


def qualified(fn: Callable[..., object]) -> str:
    """``module.qualname`` of ``fn``: the same function imported twice has the same one."""
    return f"{fn.__module__}.{getattr(fn, '__qualname__', repr(fn))}"


def describe_error(req: Request, e: BaseException) -> str:
    """What the user reads when the function ``req`` names raised ``e``."""
    return f"{req.kind} {req.name}: {type(e).__name__}: {e}"
