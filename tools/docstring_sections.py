"""Which public names of ``eqgat`` and ``landscape`` have Equinox-style docstring sections.

    python tools/docstring_sections.py          # the count, then every name that lacks one

The public names are those the packages' ``__init__.py`` re-export (``from .x import a as
a``, ``from . import m as m``) or assign. What each kind needs:

- a function: ``**Arguments:**`` and ``**Returns:**`` in its docstring (``**Returns:**``
  alone when it takes no arguments);
- a class: ``**Arguments:**`` (its constructor) in the class or ``__init__`` docstring,
  and, when it defines ``__call__``, ``**Returns:**`` in that docstring (or the class's);
- a class of named constants (``Stage``, ``Location``, ``Type``) or a warning: a
  docstring saying what its members mean;
- modules (``eqgat.lang``, ``eqgat.programs``, ``eqgat.algorithms``) and data
  (``CONSTANTS``, ``CLRS30``, ...) are not counted: the API reference documents them in
  prose and member by member.

``tests/test_docs.py`` asserts that no name outside ``KNOWN_MISSING`` (names whose source
lies in files another change owns) lacks a section.
"""

import ast
import importlib
import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("eqgat", "landscape")

#: Names that lack a section today, with the file they live in (not edited with the docs).
KNOWN_MISSING: dict[str, str] = {}


def public_names(package: str) -> list[str]:
    """The names ``package/__init__.py`` re-exports or assigns, in source order."""
    tree = ast.parse((ROOT / "src" / package / "__init__.py").read_text())
    names = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            names += [a.asname for a in node.names if a.asname and a.asname == a.name and not a.name.startswith("_")]
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name) and not t.id.startswith("_")]
    return names


def _doc(obj) -> str:
    return inspect.getdoc(obj) or ""


def kind_and_missing(obj) -> tuple[str, list[str]]:
    """(kind, the sections it lacks) for one public object."""
    has = lambda text, section: f"**{section}:**" in text  # noqa: E731
    if inspect.ismodule(obj):
        return "module", []
    if inspect.isclass(obj):
        doc = _doc(obj)
        init = obj.__dict__.get("__init__")
        init_doc = inspect.getdoc(init) or "" if init is not None else ""
        if issubclass(obj, Warning) or all(k.isupper() or k.startswith("_") for k in vars(obj)):
            return "constants", [] if doc else ["a docstring"]
        missing = [] if has(doc, "Arguments") or has(init_doc, "Arguments") else ["Arguments"]
        call = obj.__dict__.get("__call__")
        if call is not None and not (has(inspect.getdoc(call) or "", "Returns") or has(doc, "Returns")):
            missing.append("Returns")
        return "class", missing
    if callable(obj):
        doc = _doc(obj)
        needs = ("Arguments", "Returns") if inspect.signature(obj).parameters else ("Returns",)
        return "function", [s for s in needs if not has(doc, s)]
    return "data", []


def report() -> tuple[list[str], dict[str, list[str]]]:
    """(every counted name, {name: the sections it lacks})."""
    counted, missing = [], {}
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in public_names(package):
            kind, lacks = kind_and_missing(getattr(module, name))
            if kind in ("module", "data"):
                continue
            counted.append(f"{package}.{name}")
            if lacks:
                missing[f"{package}.{name}"] = lacks
    return counted, missing


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    counted, missing = report()
    print(f"{len(counted) - len(missing)} of {len(counted)} public names have the sections their kind needs")
    for name, lacks in missing.items():
        where = KNOWN_MISSING.get(name, "")
        print(f"  {name}: no {', '.join(lacks)}" + (f"  ({where})" if where else ""))
