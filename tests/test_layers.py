"""The package structure: imports point one way (no cycle, counting imports inside
functions), and the generic ``landscape`` core never imports eqgat."""

import ast
import re
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
    assert "eqgat.workflows.landscapes" in graph["landscape.cli"]  # the graph sees function-level imports
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


def _name_comparisons(source: str, label: str, names: set[str]) -> list[str]:
    """Comparisons (==, !=, in, not in, match/case) of a value against an algorithm name
    in the code ``source`` (docstrings and dict keys are not comparisons)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        strings = []
        if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn))
                                                 for op in node.ops):
            for side in [node.left, *node.comparators]:
                elts = side.elts if isinstance(side, (ast.Tuple, ast.List, ast.Set)) else [side]
                strings += [e.value for e in elts if isinstance(e, ast.Constant)]
        elif isinstance(node, ast.MatchValue) and isinstance(node.value, ast.Constant):
            strings.append(node.value.value)
        found += [f"{label}:{node.lineno}: {s!r}" for s in strings if s in names]
    return found


def test_only_the_registry_and_the_compiler_backends_look_at_algorithm_names():
    import eqgat

    names = {a.name for a in eqgat.algorithms()}
    allowed = (SRC / "eqgat" / "algorithms", SRC / "eqgat" / "compiler")
    found = [hit for p in SRC.rglob("*.py") if not any(a in p.parents for a in allowed)
             for hit in _name_comparisons(p.read_text(), str(p.relative_to(SRC)), names)]
    assert found == []
    # the check sees a comparison when there is one
    code = 'def f(algo):\n    match algo:\n        case "bfs": return algo == "dfs_light" or algo in ("dfs",)\n'
    assert len(_name_comparisons(code, "probe", names)) == 3


def test_nothing_outside_a_package_imports_its_underscore_modules():
    graph = import_graph()
    private = lambda m: m.rpartition(".")[2].startswith("_") and not m.endswith(("__init__", "__main__"))  # noqa: E731
    package = lambda module: module.rpartition(".")[0]  # noqa: E731
    inside = lambda importer, module: importer == package(module) or importer.startswith(package(module) + ".")  # noqa: E731
    bad = {m: sorted(t for t in targets if private(t) and not inside(m, t)) for m, targets in graph.items()}
    assert {m: t for m, t in bad.items() if t} == {}
    # tests, benchmarks and docs scripts: public names only
    root = SRC.parent
    pattern = re.compile(r"^\s*(?:from|import)\s+(eqgat[\w.]*\._[a-z]\w*)", re.M)
    scripts = [p for d in ("tests", "benchmarks", "docs") for p in (root / d).rglob("*.py")]
    assert {str(p.relative_to(root)): pattern.findall(p.read_text()) for p in scripts if pattern.findall(p.read_text())} == {}


#: The size a module or a function may grow to before it is split by responsibility.
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 80


def _oversized(paths) -> list[str]:
    """Modules over MAX_MODULE_LINES lines and functions (decorators and docstring
    included, nested ones counted on their own too) over MAX_FUNCTION_LINES."""
    out = []
    for path in paths:
        source = path.read_text()
        lines = len(source.splitlines())
        if lines > MAX_MODULE_LINES:
            out.append(f"{path.relative_to(SRC)}: {lines} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                if node.end_lineno - start + 1 > MAX_FUNCTION_LINES:
                    out.append(f"{path.relative_to(SRC)}:{start} {node.name}: {node.end_lineno - start + 1} lines")
    return out


def test_no_module_over_400_lines_and_no_function_over_80():
    assert _oversized(sorted(SRC.rglob("*.py"))) == []


def test_the_size_check_sees_a_long_module_and_a_long_function(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path)
    body = lambda n: "".join(f"    x{i} = {i}\n" for i in range(n))  # noqa: E731
    # 1 decorator + 1 def + 80 statements: 82 lines; then blank lines past the module limit
    (tmp_path / "long.py").write_text("@staticmethod\ndef f():\n" + body(MAX_FUNCTION_LINES) + "\n" * MAX_MODULE_LINES)
    (tmp_path / "short.py").write_text("def g():\n" + body(MAX_FUNCTION_LINES - 1))  # exactly 80: allowed
    found = _oversized(sorted(tmp_path.glob("*.py")))
    assert found == [f"long.py: {MAX_FUNCTION_LINES + 2 + MAX_MODULE_LINES} lines",
                     f"long.py:1 f: {MAX_FUNCTION_LINES + 2} lines"]
