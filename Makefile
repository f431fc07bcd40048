# The two commands of a fresh machine: `make demo` and `make test` (each sets up .venv first).
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint format dagster clean-demo

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

setup: $(STAMP)  ## create .venv and install the project with its test tools

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
