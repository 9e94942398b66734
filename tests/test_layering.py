"""The core's layering, read from the source with ``ast`` (imports inside functions count too:
a cycle hidden in a function is still a cycle).

- ``augkit/*.py`` (the core) imports nothing from ``augkit.plugins`` or ``augkit.benchmarks``;
- the imports among core modules form no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import augkit

CORE = Path(augkit.__file__).parent
CORE_MODULES = sorted(p.stem for p in CORE.glob("*.py") if p.stem != "__init__")


def _imported(path: Path) -> set[str]:
    """Every module a file imports (``from augkit import x`` counts as ``augkit.x``)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def _core_graph() -> dict[str, set[str]]:
    """Core module -> the core modules it imports (the package ``augkit`` itself excluded:
    its lazy name table imports nothing until a name is asked for)."""
    graph = {}
    for name in CORE_MODULES:
        imported = _imported(CORE / f"{name}.py")
        graph[name] = {m.split(".")[1] for m in imported
                       if m.startswith("augkit.") and m.split(".")[1] in CORE_MODULES} - {name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of nodes, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_core_imports_no_plugin_or_benchmark():
    bad = {
        name: sorted(m for m in _imported(CORE / f"{name}.py")
                     if m.startswith(("augkit.plugins", "augkit.benchmarks")))
        for name in ["__init__", *CORE_MODULES]
    }
    assert not {k: v for k, v in bad.items() if v}


def test_core_import_graph_has_no_cycle():
    cycle = _cycle(_core_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
