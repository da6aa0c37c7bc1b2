# Clientela: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PORT ?= 8000
LINT_PATHS := $(wildcard src tests bench) conftest.py manage.py
export CLIENTELA_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test install system-deps lint format typecheck migrations-check pytest bench messages clean help

help:
	@echo "make run     start Clientela on http://127.0.0.1:$(PORT) (SQLite under var/)"
	@echo "make test    lint, type check, migrations check, tests on SQLite and PostgreSQL"
	@echo "make bench   benchmarks against a real server (BENCH_ARGS='--scale 1')"

# --- environment -------------------------------------------------------------------------------------
$(PY):
	@bash scripts/python.sh $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

system-deps:
	@bash scripts/system-deps.sh

# --- run ---------------------------------------------------------------------------------------------
run: install
	@$(BIN)/clientela migrate --verbosity 0
	@$(BIN)/clientela demo
	@$(BIN)/clientela serve --port $(PORT)

# --- quality gates and tests ------------------------------------------------------------------------
lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

format: install
	$(BIN)/ruff check --fix $(LINT_PATHS)
	$(BIN)/ruff format $(LINT_PATHS)

typecheck: install
	$(BIN)/mypy

migrations-check: install
	CLIENTELA_DATA_DIR=$$(mktemp -d) $(PY) manage.py makemigrations --check --dry-run

test: install system-deps lint typecheck migrations-check
	@bash scripts/test.sh $(PYTEST_ARGS)

# Run the suite once, on whatever DATABASE_URL says (SQLite when unset): `make pytest PYTEST_ARGS=-k sign_in`
pytest: install
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install system-deps
	$(PY) -m bench $(BENCH_ARGS)

messages: install
	cd src/clientela && ../../$(PY) ../../manage.py makemessages --all --no-location --ignore 'static/*' && ../../$(PY) ../../manage.py compilemessages

clean:
	rm -rf $(VENV) build *.egg-info
