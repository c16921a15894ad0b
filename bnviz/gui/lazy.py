"""Views built when first asked for, not when the window is built.

Building every lesson view at start took about a second of the GUI thread (nine views, 64 plot
items among them) before the window could show, for views most sessions never open. A
:class:`LazyViews` knows each view's class (the Lessons menu needs only its title) and builds a
view the first time it is looked up (``views[name]``), then tells the window (``built``), which
wires it as it would have at start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

V = TypeVar("V")


class LazyViews(Mapping[str, V], Generic[V]):
    """``name -> view``, each view built on its first lookup. Iterating gives every name (built
    or not); :meth:`built` only the views built so far (what a window may touch without
    building: set a data set, shut down). ``values()`` and ``items()`` build every view."""

    def __init__(self, classes: Mapping[str, Callable[[], V]], built: Callable[[V], None]) -> None:
        self.classes = dict(classes)
        self._on_built = built
        self._views: dict[str, V] = {}

    def __getitem__(self, name: str) -> V:
        view = self._views.get(name)
        if view is None:
            view = self.classes[name]()  # KeyError for a name with no class, as a dict's
            self._views[name] = view
            self._on_built(view)
        return view

    def __contains__(self, name: object) -> bool:  # Mapping's would build the view
        return name in self.classes

    def __iter__(self) -> Iterator[str]:
        return iter(self.classes)

    def __len__(self) -> int:
        return len(self.classes)

    def built(self) -> list[V]:
        """The views built so far, in the order they were built."""
        return list(self._views.values())

    def is_built(self, name: str) -> bool:
        return name in self._views
