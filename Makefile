# Entry points (see README): `make demo` installs and runs the main job, `make test`
# installs and runs the test suite, `make test-slow` the tests marked slow (which
# `make test` deselects). All need only Python 3.11 and pip; .ci/run runs both test targets.
# `make docs` builds the documentation site into site/ (strict: broken links fail it),
# `make docs-serve` previews it live.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install demo test test-slow figures clean docs docs-serve

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -U pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

demo: install
	$(PY) -m eqgat demo

test: install
	$(PY) -m pytest -n 2 -q

test-slow: install
	$(PY) -m pytest -m slow -n 2 -q

clean:
	rm -rf $(VENV) build src/*.egg-info site

docs: install
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

docs-serve: install
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs serve

figures: install
	$(PY) -m eqgat show --algo bfs --out docs/bfs-weights.png
	$(PY) -m eqgat show --algo bellman_ford --out docs/bellman_ford-weights.png
	$(PY) -m eqgat show --algo dfs_light --out docs/dfs/dfs_light-weights.png
