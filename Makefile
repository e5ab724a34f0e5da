# Two commands for a fresh machine: `make demo` and `make test`. Everything installs from this repo.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench schema clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kitgate demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/e2e_latency.py
	$(BIN)/python bench/sandbox.py
	$(BIN)/python bench/auth.py
	$(BIN)/python bench/worker_overhead.py

schema: $(STAMP)
	$(BIN)/kitgate export-schema --output shared_schema.json

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache dist
