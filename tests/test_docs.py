"""The documentation site (``docs/``, ``mkdocs.yml``): every Python code block of the
tutorial pages and of the README runs, in order, in one namespace per page, and the site
builds with ``mkdocs build --strict`` (broken links, anchors and API references fail it).

Each page runs in a fresh Python process in its own temporary folder (the pages write
``runs/`` and ``out/``, and one registers an algorithm), with jaxtyping's import hook on
eqgat and landscape as in this suite, so the tutorials' shapes are checked too. A page
takes 10-30 s of CPU (mostly XLA compiling): the pages that train a model
(``eqgat.train``) are marked slow and run with ``make test-slow`` (CI runs both), so the
default suite spends about 30 s of CPU here, ``pytest -n 2`` spreading the pages.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "docs" / "tutorials").glob("*.md"))
PAGES = [*TUTORIALS, ROOT / "README.md"]  # the README's example runs too
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)

# Runs the blocks in one namespace; on an error, names the block and prints it.
RUNNER = r"""
import json, sys, traceback
from jaxtyping import install_import_hook
install_import_hook(["eqgat", "landscape"], "beartype.beartype")  # kept for the whole run
page, blocks = json.load(open(sys.argv[1]))
namespace = {"__name__": "__main__"}
for k, source in enumerate(blocks, 1):
    try:
        exec(compile(source, f"{page} (python block {k})", "exec"), namespace)
    except BaseException:
        traceback.print_exc()
        print(f"\n{page}: python block {k} of {len(blocks)} failed:\n{source}", file=sys.stderr)
        sys.exit(1)
print(f"{page}: {len(blocks)} python blocks ran")
"""


def python_blocks(path: Path) -> list[str]:
    """The ```python fenced blocks of a Markdown page, in order."""
    return [m.group(1) for m in FENCE.finditer(path.read_text())]


def _env() -> dict[str, str]:
    env = dict(os.environ, MPLBACKEND="Agg", NO_MKDOCS_2_WARNING="1", PYTHONPATH=os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]))
    env.pop("XLA_FLAGS", None)  # one CPU device, as a reader has
    return env


def test_every_tutorial_page_is_found():
    assert len(TUTORIALS) >= 5
    for page in TUTORIALS:
        assert python_blocks(page), f"{page.name} has no python blocks"


def _trains(page: Path) -> bool:
    """Whether a page trains a model with ``eqgat.train`` (XLA compiles a training step:
    10-20 s on 2 CPU cores, so those pages run with the slow tests)."""
    return any("eqgat.train(" in block for block in python_blocks(page))


@pytest.mark.parametrize("page", [pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if _trains(p) else [])
                                  for p in PAGES])
def test_page_runs(page: Path, tmp_path: Path):
    blocks = tmp_path / "blocks.json"
    blocks.write_text(json.dumps([str(page.relative_to(ROOT)), python_blocks(page)]))
    work = tmp_path / "work"
    work.mkdir()
    res = subprocess.run([sys.executable, "-c", RUNNER, str(blocks)], cwd=work, env=_env(),
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, f"{page.name} failed:\n{res.stdout[-3000:]}\n{res.stderr[-6000:]}"


def _missing_docs_tools() -> str | None:
    missing = [m for m in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")
               if importlib.util.find_spec(m.split(".")[0]) is None
               or (m.startswith("mkdocstrings_handlers") and importlib.util.find_spec(m) is None)]
    return f"the docs tools are not installed ({', '.join(missing)}): pip install -e '.[docs]'" if missing else None


def test_site_builds_strict(tmp_path: Path):
    if reason := _missing_docs_tools():
        pytest.skip(reason)
    res = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                          "-d", str(tmp_path / "site")], cwd=ROOT, env=_env(), capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, f"mkdocs build --strict failed:\n{res.stdout[-3000:]}\n{res.stderr[-6000:]}"
    site = tmp_path / "site"
    for page in ("index.html", "tutorials/gatv2/index.html", "reference/cli/index.html",
                 "reference/api-eqgat/index.html", "reference/api-landscape/index.html"):
        assert (site / page).exists(), page
    cli = (site / "reference/cli/index.html").read_text()
    for command in ("python -m eqgat compile", "python -m eqgat train", "python -m landscape plot",
                    "--mechanism", "--trajectory-every"):
        assert command in cli, command
    api = (site / "reference/api-eqgat/index.html").read_text()
    assert "eqgat.GATv2" in api and "eqgat.compile_algorithm" in api


def test_public_names_have_docstring_sections():
    """Every public name of eqgat and landscape has Equinox-style ``**Arguments:**`` /
    ``**Returns:**`` sections (``tools/docstring_sections.py`` says which its kind needs),
    except the names listed in its ``KNOWN_MISSING``."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import docstring_sections
    finally:
        sys.path.remove(str(ROOT / "tools"))
    counted, missing = docstring_sections.report()
    assert len(counted) >= 70
    unexpected = {k: v for k, v in missing.items() if k not in docstring_sections.KNOWN_MISSING}
    assert not unexpected, f"public names without docstring sections: {unexpected}"
    stale = set(docstring_sections.KNOWN_MISSING) - set(missing)
    assert not stale, f"these have their sections now: remove them from KNOWN_MISSING: {sorted(stale)}"
