# The two commands of a fresh machine: `make demo` and `make test` (each sets up .venv first).
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project/models dbt_project/seeds dbt_project/macros dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml dbt_project/profiles.yml

.PHONY: setup demo test lint format dagster clean-demo browser

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# Dagster loads the dbt assets from the manifest: prepare it at build time, not at load time.
$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	cd dbt_project && ../$(BIN)/dbt parse --quiet
	@touch $@

# Debian's Chromium opens the officials' report in the browser test (skipped without it).
browser:
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	   >/dev/null) || echo "note: chromium could not be installed; the browser test will skip"; }

setup: $(STAMP) $(MANIFEST) browser  ## create .venv, install the project and its test tools

demo: setup  ## generate the demo sources and run the whole pipeline on them
	$(BIN)/cds demo

test: setup  ## lint, then run the test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

dagster: setup  ## open the Dagster UI on http://127.0.0.1:3000
	$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

clean-demo:  ## remove the generated demo sources and the warehouse
	rm -rf warehouse/demo warehouse/*.duckdb warehouse/*.duckdb.wal
