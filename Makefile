# orgconnectors. Quick start: `make run` (the demo), `make test` (the suite on PostgreSQL + Redis).
# Every variable below can be overridden from the environment or the command line.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Touched after each install: pip runs again only when pyproject.toml is newer than this file.
INSTALLED := $(VENV)/.installed
PORT ?= 8000

# `make test` uses PostgreSQL and Redis, never the SQLite fallback; an empty value counts as unset.
TEST_DATABASE_URL := $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/orgconnectors)
TEST_REDIS_URL := $(or $(REDIS_URL),redis://127.0.0.1:6379/15)
# The browser tests' Celery worker takes every task on its broker: give it a database of its own.
TEST_E2E_REDIS_URL := $(or $(REDIS_URL),redis://127.0.0.1:6379/14)

.PHONY: help install run serve test test-e2e lint bench

help:
	@echo "make run    the dashboard with demo data, a Celery worker, beat and demo MCP servers on http://127.0.0.1:$(PORT)"
	@echo "            (the demo servers speak https with their own authority, made in var/demo-ca/)"
	@echo "make serve  the production layout on this machine: granian with N workers, a Celery worker, beat"
	@echo "            (DJANGO_DEBUG=0; refuses to start without production settings, naming them)"
	@echo "make test   the test suite on PostgreSQL and Redis (DATABASE_URL, REDIS_URL)"
	@echo "make test-e2e  the browser journeys in Debian's Chromium (/usr/bin/chromium), same servers"
	@echo "make lint   ruff check, ruff format --check and the import layers (lint-imports)"
	@echo "make bench  every script in bench/"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "orgconnectors needs Python 3.11 or newer, and '$(PYTHON)' is not. Install one, or run" \
	       "make with PYTHON=/path/to/python3.11 (or newer)." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable '.[dev]'
	@touch $@

install: $(INSTALLED)

# Development defaults: a fixed secret key, loopback MCP servers allowed, Django's debug pages
# (not for bench: debug mode records every SQL query, which would skew the numbers).
# run_dev makes the demo's certificate authority in var/demo-ca/ and has its children trust it
# (ORGCONNECTORS_EGRESS_CA_FILE); nothing here sets that for any other use.
run bench: export ORGCONNECTORS_DEV ?= 1
run bench: export ORGCONNECTORS_ALLOW_LOOPBACK ?= 1
run: export DJANGO_DEBUG ?= 1
run: export PORT := $(PORT)
run: export ORGCONNECTORS_BASE_URL ?= http://127.0.0.1:$(PORT)

run: $(INSTALLED)
	$(BIN)/python manage.py migrate --no-input
	@# Lets the dashboard serve its CSS and JS with DJANGO_DEBUG=0 as well.
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	$(BIN)/python manage.py seed_demo
	exec $(BIN)/python manage.py run_dev

# Production on one machine: settings only from the environment (orgconnectors/serve.py checks
# them first and names what is missing), migrations and static files, then the processes.
serve: export DJANGO_DEBUG := 0

serve: $(INSTALLED)
	$(BIN)/python -m orgconnectors.serve --check
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	exec $(BIN)/python -m orgconnectors.serve

test: export DATABASE_URL := $(TEST_DATABASE_URL)
test: export REDIS_URL := $(TEST_REDIS_URL)
test: export ORGCONNECTORS_DEV ?= 1
test: export ORGCONNECTORS_ALLOW_LOOPBACK ?= 1

test: $(INSTALLED)
	$(BIN)/python -m orgconnectors.preflight
	$(BIN)/python -m pytest -q -p no:cacheprovider --ignore=tests/e2e $(PYTEST_ARGS)

# A live server, a Celery worker and Chromium; screenshots and logs go to test-artifacts/e2e/.
test-e2e: export DATABASE_URL := $(TEST_DATABASE_URL)
test-e2e: export REDIS_URL := $(TEST_E2E_REDIS_URL)
test-e2e: export ORGCONNECTORS_DEV ?= 1
test-e2e: export ORGCONNECTORS_ALLOW_LOOPBACK ?= 1

test-e2e: $(INSTALLED)
	$(BIN)/python -m orgconnectors.preflight
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/e2e $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: $(INSTALLED)
	@shopt -s nullglob; for script in bench/*.py; do \
	  echo "== $$script"; $(BIN)/python "$$script"; \
	done
