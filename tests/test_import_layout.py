"""The package's import rules (README, Architecture), read from the code with ``ast``.

Imports run one way: ``nn`` and ``data`` import no other part of bnviz; ``train`` imports
``nn`` and ``data``; ``search`` and ``lessons`` import those three; ``gui`` imports all of
them; ``bench`` may import ``gui``; only the command line imports ``commands``. And no two
files import each other, directly or round a longer loop. Every import counts, also one made
inside a function: deferring an import hides a cycle, it does not remove it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "bnviz"

# part -> the parts it may import (besides itself)
ALLOWED = {
    "nn": set(),
    "data": set(),
    "train": {"nn", "data"},
    "search": {"nn", "data", "train"},
    "lessons": {"nn", "data", "train"},
    "gui": {"nn", "data", "train", "search", "lessons", "export"},
    "export": {"nn", "data", "train"},
    "bench": {"nn", "data", "train", "search", "lessons", "gui", "export"},
    "face": {"nn", "data", "train"},  # bnviz/__init__.py re-exports the public API
    "commands": {"nn", "data", "train", "search", "lessons", "gui", "bench", "face", "export"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def part_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "face"
    if parts[1] in ("cli", "__main__", "commands"):
        return "commands"
    if parts[1] == "assets":
        return "data"
    return parts[1]


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(path: Path, here: str | None = None) -> set[str]:
    """The bnviz modules (files) that ``path`` (the module ``here``) imports, anywhere in it."""
    found: set[str] = set()
    here = here or module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
    return {m for m in found if m == "bnviz" or m.startswith("bnviz.")}


GRAPH = {name: {m for m in imported_modules(p) if m in MODULES} for name, p in MODULES.items()}


def test_every_module_is_in_a_known_part():
    unknown = sorted(m for m in MODULES if part_of(m) not in ALLOWED)
    assert not unknown, f"modules outside the layout of README's Architecture: {unknown}"


def test_imports_run_one_way():
    wrong = [
        f"{src} ({part_of(src)}) imports {dst} ({part_of(dst)})"
        for src, targets in GRAPH.items()
        for dst in sorted(targets)
        if part_of(dst) != part_of(src) and part_of(dst) not in ALLOWED[part_of(src)]
    ]
    assert not wrong, "imports against the layout:\n" + "\n".join(wrong)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a list of modules (first = last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycles():
    cycle = find_cycle(GRAPH)
    assert cycle is None, "files that import each other: " + " -> ".join(cycle or [])


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, ["a", "b", "a"]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
    ],
)
def test_cycle_finder_finds_cycles(graph, expected):
    assert find_cycle(graph) == expected


def test_the_reader_sees_deferred_and_relative_imports(tmp_path):
    """A check that could not see a deferred import would pass on the cycles this layout was
    made to remove (network <-> model_io, datasets <-> files)."""
    nn = PACKAGE / "nn"
    assert "bnviz.nn.layers" in imported_modules(nn / "network.py")
    assert "bnviz.nn.model_io" in imported_modules(nn / "network.py")
    assert "bnviz.nn.network" not in imported_modules(nn / "model_io.py")
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from bnviz.gui import style\n    from . import trainer\n")
    found = imported_modules(probe, "bnviz.train.probe")
    assert {"bnviz.gui.style", "bnviz.train.trainer"} <= found
