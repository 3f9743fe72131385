# Two commands on a fresh machine with Python 3.11:  make demo  |  make test
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install browser lint format messages bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

## make demo: install, migrate, seed the small demo province, serve on 127.0.0.1:8000 (SQLite, eager Celery)
demo: install
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo --scale small
	$(MANAGE) runserver $(HOST):$(PORT)

## make test: lint, Django checks, migrations check, the whole suite with coverage.
## With DATABASE_URL and REDIS_URL set, the same suite runs on PostgreSQL with a real Celery worker.
test: install browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MANAGE) check
	$(MANAGE) makemigrations --check --dry-run
	$(PY) scripts/compile_messages.py --check
	@# schemathesis sends about a thousand generated requests: its own pass, without coverage (3x slower with it)
	$(VENV)/bin/pytest -q -m schema $(PYTEST_ARGS)
	$(VENV)/bin/pytest --cov --cov-report=term:skip-covered -m "not schema" $(PYTEST_ARGS)

## Headless Chromium from Debian's packages for the browser tests (never a downloaded browser).
browser:
	@bash scripts/ensure_chromium.sh

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format:
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Recompile locale/*/LC_MESSAGES/django.mo from the .po files (pure Python, no gettext needed).
messages: install
	$(PY) scripts/compile_messages.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache htmlcov .coverage test-artifacts
