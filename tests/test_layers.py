"""The package structure: imports point one way (no cycle, counting imports inside
functions), and the generic ``landscape`` core never imports eqgat."""

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _module(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the eqgat/landscape modules it imports anywhere in its body (an imported
    name that is a submodule counts as that submodule)."""
    files = {_module(p): p for p in SRC.rglob("*.py")}
    graph = {m: set() for m in files}
    for mod, path in files.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            else:
                continue
            graph[mod] |= {t for t in targets if t in files and t != mod}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_counting_imports_inside_functions():
    graph = import_graph()
    assert "eqgat.landscapes" in graph["landscape.cli"]  # the graph sees function-level imports
    assert cycles(graph) == []


def test_the_landscape_core_knows_nothing_of_eqgat():
    graph = import_graph()
    core = [m for m in graph if m.startswith("landscape") and m not in ("landscape.cli", "landscape.__main__")]
    assert all(not any(t.startswith("eqgat") for t in graph[m]) for m in core), {m: graph[m] for m in core}
    code = "import landscape, sys; assert 'eqgat' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_library_modules_never_import_command_lines():
    graph = import_graph()
    clis = {"eqgat.cli", "eqgat.__main__", "landscape.cli", "landscape.__main__"}
    assert {m: graph[m] & clis for m in graph if m not in clis and graph[m] & clis} == {}
