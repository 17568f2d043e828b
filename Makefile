# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: run test lint typecheck pytest pytest-sqlite pytest-postgres browsers bench clean document-templates

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

## run: install, migrate, load the demo data on an empty database, print logins, serve on :8000
run: $(VENV)/.installed
	$(BIN)/pbxportal serve

## test: ruff, import-linter (contracts in pyproject.toml), mypy, then pytest on SQLite and, when DATABASE_URL is set, on PostgreSQL
test: $(VENV)/.installed browsers lint typecheck pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/lint-imports --no-cache

typecheck: $(VENV)/.installed
	$(BIN)/mypy src

browsers:
	@scripts/ensure-chromium

pytest: pytest-sqlite pytest-postgres

pytest-sqlite: $(VENV)/.installed
	env -u DATABASE_URL $(BIN)/pytest -m "not postgres"

pytest-postgres: $(VENV)/.installed
	@if [ -n "$$DATABASE_URL" ]; then \
		echo "== pytest on PostgreSQL ($$DATABASE_URL)"; scripts/ensure-postgres && $(BIN)/pytest; \
	else echo "== DATABASE_URL not set: PostgreSQL run skipped (CI sets it)"; fi

## document-templates: regenerate the demo catalog's downloadable templates (PDF, docs/catalog.md)
document-templates: $(VENV)/.installed
	$(PY) scripts/make-document-templates

clean:
	rm -rf $(VENV) var
