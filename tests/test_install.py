"""The lean install: dm-clrs (TensorFlow, tfds, Haiku) is the extra ``eqgat[clrs]``, the
core runs without it and what needs it says which extra to install; constraints.txt pins
every dependency inside pyproject's ranges."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# ``sys.modules["clrs"] = None`` makes ``import clrs`` fail as if dm-clrs were not installed
WITHOUT_CLRS = """
import sys
sys.modules["clrs"] = None
import eqgat
from eqgat import data
from eqgat.data import fork
from eqgat.workflows import interop  # load_clrs_checkpoint and from_clrs need no dm-clrs
batch = eqgat.sample("bfs", 5, 2, seed=0)
model = eqgat.compile_algorithm("bfs")
assert eqgat.score(model, batch) == 1.0
for call in (lambda: data.Sampler("bfs", 5, 2, seed=0, backend="clrs"),
             lambda: data.clrs30_split("bfs", "val", length=5, backend="clrs"),
             lambda: fork.build_sampler("bfs_seq", num_samples=2, length=5, seed=0),
             lambda: interop.predict(model, None)):
    try:
        call()
    except ImportError as err:
        print("ImportError:", err)
    else:
        raise AssertionError("no ImportError")
assert "tensorflow" not in sys.modules
"""


def test_the_core_runs_without_dm_clrs_and_what_needs_it_names_the_extra():
    res = subprocess.run([sys.executable, "-c", WITHOUT_CLRS], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-3000:]
    errors = [line for line in res.stdout.splitlines() if line.startswith("ImportError:")]
    assert len(errors) == 4, res.stdout
    assert all("needs dm-clrs" in e and "pip install 'eqgat[clrs]'" in e for e in errors), errors
    assert 'backend="clrs" needs' in errors[0] and "interop.predict needs" in errors[3]


def _requirements(project: dict) -> list[str]:
    extras = project["optional-dependencies"]
    return project["dependencies"] + [r for reqs in extras.values() for r in reqs if not r.startswith("eqgat")]


def test_dm_clrs_is_an_extra_that_the_test_extra_brings():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    name = lambda r: re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower()  # noqa: E731
    assert "dm-clrs" not in {name(r) for r in project["dependencies"]}
    assert "dm-clrs" in {name(r) for r in project["optional-dependencies"]["clrs"]}
    assert "eqgat[clrs]" in project["optional-dependencies"]["test"]
    assert not any("==" in r for r in project["dependencies"]), "core dependencies are ranges, not pins"


def test_constraints_pin_every_requirement_inside_its_range():
    requirements = pytest.importorskip("packaging.requirements")
    utils = pytest.importorskip("packaging.utils")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            pin = requirements.Requirement(line)
            assert len(pin.specifier) == 1 and next(iter(pin.specifier)).operator == "==", line
            pins[utils.canonicalize_name(pin.name)] = next(iter(pin.specifier)).version
    assert "eqgat" not in pins
    for line in _requirements(project):
        req = requirements.Requirement(line)
        name = utils.canonicalize_name(req.name)
        assert name in pins, f"constraints.txt pins no {req.name}"
        assert req.specifier.contains(pins[name], prereleases=True), (line, pins[name])
