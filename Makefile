# The two commands of the README: `make run` (demo on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
PORT ?= 5000
INSTALLED := $(VENV)/.installed

# The versions CI tested (make lock refreshes them from pyproject.toml).
CONSTRAINTS := constraints.txt

# What the tests drive outside Python: Chromium (browser tests), poppler-utils (pdftotext, to read the PDFs
# back), Pango (WeasyPrint draws the PDFs with it).
SYSTEM_PACKAGES := chromium poppler-utils libpango-1.0-0 libpangoft2-1.0-0

.PHONY: install run test test-postgres bench lint audit lock db-upgrade system-packages oidc-provider

$(INSTALLED): pyproject.toml $(CONSTRAINTS)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 ou plus récent est nécessaire"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e '.[test,bench]'
	@touch $(INSTALLED)

install: $(INSTALLED)

db-upgrade: install
	$(FLASK) db upgrade

# The web server, the mail worker, the deadlines check and the receiver of replies by mail; Ctrl-C stops them all.
run: db-upgrade
	$(FLASK) demo load
	PORT=$(PORT) $(FLASK) demo serve

system-packages:
	@missing=$$(for package in $(SYSTEM_PACKAGES); do dpkg -s $$package >/dev/null 2>&1 || echo $$package; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installation des paquets Debian des tests : $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Paquets Debian nécessaires aux tests : $$missing"; \
	    echo "Installez-les (sudo apt-get install $$missing), puis relancez make test."; exit 1; \
	  fi; \
	fi

# The OpenID provider the ProConnect tests sign in with (npm package oidc-provider, on the machine's Node.js).
OIDC_PROVIDER := tests/oidc_provider
$(OIDC_PROVIDER)/node_modules/.package-lock.json: $(OIDC_PROVIDER)/package-lock.json
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
	  echo "Node.js et npm sont nécessaires aux tests de la connexion ProConnect (Node.js 20 ou plus) :"; \
	  echo "installez-les (sudo apt-get install nodejs npm), puis relancez make test."; exit 1; }
	cd $(OIDC_PROVIDER) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

oidc-provider: $(OIDC_PROVIDER)/node_modules/.package-lock.json

test: install system-packages oidc-provider
	$(PY) -m pytest $(PYTEST_ARGS)

test-postgres: install system-packages oidc-provider
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} $(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) bench/run.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# bandit on the application's code (bandit.yaml): fails on a finding of medium severity or more, of medium
# confidence or more; pip-audit on constraints.txt: fails on a known vulnerability, says which packages it could
# not check (FEEDBACK_AUDIT_STRICT=1: fails when it could check none).
audit: install
	$(VENV)/bin/bandit -c bandit.yaml -r feedback -q --severity-level medium --confidence-level medium
	$(PY) .ci/dependency_audit.py

# Resolve pyproject.toml afresh in a scratch environment and write the versions it took to constraints.txt.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet -e '.[test,bench]'
	{ echo "# The versions CI tested: 'make lock' writes this file from pyproject.toml (see the README)."; \
	  .lock-venv/bin/pip freeze --exclude-editable; } > $(CONSTRAINTS)
	rm -rf .lock-venv
