"""Named slices of one flat parameter vector.

Keeping every parameter in one contiguous array lets an optimizer update a whole network in a
handful of NumPy calls (per-call overhead dominates small networks) while code and users still
see ``params["W1"]`` as an ordinary array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ParamLayout:
    """Names, shapes and offsets of the parameters inside a flat vector."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    offsets: tuple[int, ...]

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> ParamLayout:
        names, shapes, offsets, pos = [], [], [], 0
        for name, value in arrays.items():
            shape = tuple(np.shape(value))
            names.append(name)
            shapes.append(shape)
            offsets.append(pos)
            pos += int(np.prod(shape, dtype=np.int64))
        return cls(tuple(names), tuple(shapes), tuple(offsets + [pos]))

    @property
    def size(self) -> int:
        return self.offsets[-1]

    def slice(self, name: str) -> slice:
        i = self.names.index(name)
        return slice(self.offsets[i], self.offsets[i + 1])

    def views(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Named views (no copies) into ``flat``."""
        return {
            n: flat[self.offsets[i] : self.offsets[i + 1]].reshape(s)
            for i, (n, s) in enumerate(zip(self.names, self.shapes))
        }

    def remap(self, flat: np.ndarray, new: ParamLayout) -> np.ndarray:
        """Carry a vector laid out as ``self`` (e.g. optimizer state) over to ``new``: entries
        whose name and shape match are kept, the rest start at zero."""
        out = np.zeros(new.size, dtype=flat.dtype)
        for i, name in enumerate(new.names):
            if name in self.names and self.shapes[self.names.index(name)] == new.shapes[i]:
                out[new.offsets[i] : new.offsets[i + 1]] = flat[self.slice(name)]
        return out
