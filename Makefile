# Charter: `make demo` to try it, `make test` to run the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
export CHARTER_HOME ?= $(CURDIR)/var/demo
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo install install-dev test lint types chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP) $@

install: $(STAMP)
install-dev: $(DEV_STAMP)

## demo: install, create the embedded database, publish the example statements, serve.
demo: install
	$(BIN)/python -m charter.demo --host $(HOST) --port $(PORT)

## chromium: the system browser the browser tests drive (Debian package).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium (Debian package) for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

## test: install the dev tools and run lint, types and the whole suite (SQLite and PostgreSQL).
test: install-dev chromium
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest -n 2 --dist loadgroup -q

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench || true

types: install-dev
	$(BIN)/mypy

clean:
	rm -rf var/demo .pytest_cache .mypy_cache .ruff_cache .hypothesis
