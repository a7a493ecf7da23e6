# The two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.9
DEMO_DIR := demo-out

.PHONY: demo test test-fast lint format install clean help

help:
	@echo "make demo   - install, make a sample ad, analyse it with the local analyser, print a summary"
	@echo "make test   - install, lint (ruff, mypy, import-linter) and run the whole test suite"
	@echo "make test-fast - lint and every test not marked slow (no Prefect server, browser, benchmark)"

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Installs exactly what uv.lock pins (hashes included); --inexact keeps uv itself in the venv.
# Bytecode is compiled at install, as pip does: where PYTHONDONTWRITEBYTECODE is set, Python
# would otherwise compile every imported module again in every process (`import prefect`
# measured 2.3 s of CPU instead of 0.9 s), and each flow run is a process.
$(VENV)/.installed: pyproject.toml uv.lock | $(BIN)/uv
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --locked --inexact --quiet --compile-bytecode
	$(BIN)/python -m compileall -q adref > /dev/null
	@touch $@

install: $(VENV)/.installed

demo: install
	@mkdir -p $(DEMO_DIR)
	$(BIN)/python -c "from pathlib import Path; from adref.video.testclips import make_clip; make_clip('ad', Path('$(DEMO_DIR)/sample-ad.mp4'))"
	$(BIN)/adref analyze $(DEMO_DIR)/sample-ad.mp4 --tag demo --owner demo

lint: install
	$(BIN)/ruff check adref tests
	$(BIN)/ruff format --check adref tests
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix adref tests
	$(BIN)/ruff format adref tests

test: lint
	$(BIN)/pytest

# Leaves out @pytest.mark.slow: real Prefect servers, `adref up`, browsers, benchmarks,
# multi-process writers (tests/conftest.py marks every test on the Prefect server).
test-fast: lint
	$(BIN)/pytest -m "not slow"

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
