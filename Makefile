# Two commands for a fresh machine: `make demo` and `make test`. Everything installs from this repo.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench schema policies clean venv browser

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kitgate demo

# Debian's chromium, which Playwright drives in tests/e2e/test_docs_browser.py (Playwright downloads nothing).
# Installed when we are root with apt; otherwise that one test skips and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: no chromium, so tests/e2e/test_docs_browser.py skips (apt-get install -y chromium)"; fi

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/e2e_latency.py
	$(BIN)/python bench/sandbox.py
	$(BIN)/python bench/auth.py
	$(BIN)/python bench/worker_overhead.py

policies: $(STAMP)
	$(BIN)/python -m kitgate.sandbox.policy_layers src/kitgate/policies/sources src/kitgate/policies

schema: $(STAMP)
	$(BIN)/kitgate export-schema --output shared_schema.json

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache dist
