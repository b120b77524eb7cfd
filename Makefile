# The two commands of the README:  make run  (the portal with demo data)  and  make test.
PY ?= python3
VENV := .venv
PYTHON := $(VENV)/bin/python

.PHONY: run test venv bench lint

run:
	$(PY) bin/run

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PYTHON) || $(PY) -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -r requirements-dev.txt
	touch $@

test: venv
	bash scripts/ensure_test_deps.sh
	$(PYTHON) -m pytest -q $(PYTEST_ARGS)

bench: venv
	for b in bench/*.py; do echo "== $$b"; $(PYTHON) $$b || exit 1; done
