# Entry points (see README): `make demo` installs the core package (no extras: no dm-clrs,
# no TensorFlow) and runs the main job, `make test` installs the test extra (pytest,
# dm-clrs for the parity tests, mkdocs for the site) and runs the test suite, `make
# test-slow` the tests marked slow (which `make test` deselects). All need only Python
# 3.11 and pip and share .venv/; every install is pinned by constraints.txt. .ci/run runs
# both test targets. `make docs` builds the documentation site into site/ (strict: broken
# links fail it), `make docs-serve` previews it live.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip install -q -c constraints.txt

.PHONY: install install-core demo test test-slow figures constraints clean docs docs-serve

# the core package alone (what `make demo` needs)
install-core: $(VENV)/.installed-core
# the core package with the test extra (what the tests need)
install: $(VENV)/.installed

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -U pip

$(VENV)/.installed-core: pyproject.toml constraints.txt | $(PY)
	$(PIP) -e .
	touch $@

$(VENV)/.installed: pyproject.toml constraints.txt | $(PY)
	$(PIP) -e '.[test]'
	touch $@ $(VENV)/.installed-core

demo: install-core
	$(PY) -m eqgat demo

test: install
	$(PY) -m pytest -n 2 -q --durations=15

test-slow: install
	$(PY) -m pytest -m slow -n 2 -q --durations=10

# constraints.txt from the packages installed in .venv (after `make install`), eqgat left out
constraints: install
	{ sed -n '/^#/p' constraints.txt; $(VENV)/bin/pip freeze --exclude-editable | grep -iv '^eqgat'; } > constraints.new
	mv constraints.new constraints.txt

clean:
	rm -rf $(VENV) build src/*.egg-info site

docs: install
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

docs-serve: install
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs serve

figures: install-core
	$(PY) -m eqgat show --algo bfs --out docs/bfs-weights.png
	$(PY) -m eqgat show --algo bellman_ford --out docs/bellman_ford-weights.png
	$(PY) -m eqgat show --algo dfs_light --out docs/dfs/dfs_light-weights.png
