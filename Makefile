# One command sets up and runs the demo; one sets up and runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS ?= dev,train,spark

.PHONY: venv demo test lint format bench clean

$(BIN)/limitwise: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(BIN)/limitwise

venv: $(BIN)/limitwise

demo: venv
	LIMITWISE_ENV=dev $(BIN)/limitwise demo --serve

lint: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: lint
	LIMITWISE_ENV=dev $(BIN)/pytest -n 2 -q

format: venv
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

bench: venv
	$(BIN)/python benchmarks/ledger_transfers.py
	$(BIN)/python benchmarks/onboarding_apply.py
	$(BIN)/python benchmarks/servicing.py
	$(BIN)/python benchmarks/scorecard_auc.py
	$(BIN)/python benchmarks/policy_eval.py
	$(BIN)/python benchmarks/api.py

clean:
	rm -rf $(VENV) limitwise.db .pytest_cache .mypy_cache .ruff_cache
