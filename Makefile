# Two commands for a fresh machine: `make demo` and `make test`. Everything installs from this repo.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench schema policies clean venv browser gl

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP) gl
	$(BIN)/kitgate demo --serve  # ends with the console URL; Ctrl-C stops it

# Debian's chromium, which Playwright drives in tests/e2e/test_docs_browser.py and test_console_browser.py
# (Playwright downloads nothing). Installed when we are root with apt; otherwise those tests skip and say why
# (under CI=true the console's fail instead).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: no chromium, so the browser tests in tests/e2e skip (apt-get install -y chromium)"; fi

# Mesa's EGL + llvmpipe: the headless renderer (kitgate.render, tests/render) draws with it, no GPU or display.
# Installed when we are root with apt; otherwise tests/render skips and says why.
gl:
	@ldconfig -p 2>/dev/null | grep libEGL_mesa.so >/dev/null || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libegl1 libegl-mesa0 \
	      libgl1-mesa-dri >/dev/null; \
	  else echo "note: no Mesa EGL, so tests/render skips (apt-get install -y libegl1 libegl-mesa0 libgl1-mesa-dri)"; fi

test: $(STAMP) browser gl
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/e2e_latency.py
	$(BIN)/python bench/e2e_latency.py --policy bench-trusted
	$(BIN)/python bench/soak.py --duration 60
	$(BIN)/python bench/sandbox.py
	$(BIN)/python bench/auth.py
	$(BIN)/python bench/worker_overhead.py
	$(BIN)/python bench/render.py

policies: $(STAMP)
	$(BIN)/python -m kitgate.sandbox.policy_layers src/kitgate/policies/sources src/kitgate/policies

schema: $(STAMP)
	$(BIN)/kitgate export-schema --output shared_schema.json

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache dist
