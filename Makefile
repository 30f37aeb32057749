# The two commands of the README: `make run` (demo on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
PORT ?= 5000
INSTALLED := $(VENV)/.installed

# The versions CI tested (make lock refreshes them from pyproject.toml).
CONSTRAINTS := constraints.txt

.PHONY: install run test test-postgres bench lint lock db-upgrade

$(INSTALLED): pyproject.toml $(CONSTRAINTS)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 ou plus récent est nécessaire"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e '.[test]'
	@touch $(INSTALLED)

install: $(INSTALLED)

db-upgrade: install
	$(FLASK) db upgrade

run: db-upgrade
	$(FLASK) demo load
	$(FLASK) run --port $(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

test-postgres: install
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} $(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) bench/run.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Resolve pyproject.toml afresh in a scratch environment and write the versions it took to constraints.txt.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet -e '.[test]'
	{ echo "# The versions CI tested: 'make lock' writes this file from pyproject.toml (see the README)."; \
	  .lock-venv/bin/pip freeze --exclude-editable; } > $(CONSTRAINTS)
	rm -rf .lock-venv
