# Two commands on a fresh machine:  make report  |  make test
# Everything runs inside .venv, installed from the pinned requirements.lock.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# re-install whenever the lock or the package metadata changes
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)
# each set-up step logs to $(SETUP_LOG); on failure its last lines are printed with the log's path
SETUP_LOG := $(VENV)/setup.log
PIP := $(BIN)/python -m pip install --disable-pip-version-check
logged = $(1) >>$(SETUP_LOG) 2>&1 || { echo "make: set-up step failed: $(1)" >&2; tail -n 25 $(SETUP_LOG) >&2; echo "(whole log: $(SETUP_LOG))" >&2; exit 1; }
YEAR   ?= 2018

.PHONY: report all-years lint test test-fast lab bench synth lock clean help

help:
	@echo "make report   set up .venv (pinned deps) and build outputs/$(YEAR)/report.html from data/raw/"
	@echo "make all-years build every year that has params/<year>.yaml, oldest first"
	@echo "make test     set up .venv, lint (ruff) and run every test (unit, doctests, pipeline, nbval, benchmark smokes)"
	@echo "make test-fast lint and the quick tests (no pipeline runs, browser or benchmark smokes; under 2 min)"
	@echo "make lint     ruff check and ruff format --check (fix the format with .venv/bin/ruff format .)"
	@echo "make lab      JupyterLab on the notebooks"
	@echo "make bench    performance benchmark (slow; not part of make test)"
	@echo "make synth    regenerate the synthetic example exports in data/raw/"
	@echo "make lock     re-pin requirements.lock from the current .venv"
	@echo "make clean    remove generated outputs, the audit area, scratch and processed data (raw data is never touched)"

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { \
	  echo "make: needs Python 3.11 (requirements.lock pins wheels for it); '$(PYTHON)' is: $$($(PYTHON) --version 2>/dev/null || echo 'not found')." >&2; \
	  echo "      Install Python 3.11 (Debian/Ubuntu: apt-get install python3.11 python3.11-venv) and run: make $(MAKECMDGOALS) PYTHON=python3.11" >&2; \
	  exit 1; }
	@if [ -x $(BIN)/python ] && ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then \
	  echo "make: $(VENV) was made with another Python; remove it (rm -rf $(VENV)) and run make again" >&2; exit 1; fi
	@echo "setup 1/4: creating $(VENV) with $$($(PYTHON) --version) (a few seconds)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@: > $(SETUP_LOG)
	@echo "setup 2/4: upgrading pip in $(VENV) (about 5 s)"
	@$(call logged,$(PIP) --upgrade pip)
	@echo "setup 3/4: installing the $$(grep -c '==' requirements.lock) pinned packages of requirements.lock (1-3 min the first time, seconds after)"
	@$(call logged,$(PIP) -r requirements.lock)
	@echo "setup 4/4: installing rmlib itself, editable (about 10 s)"
	@$(call logged,$(PIP) --no-deps -e .)
	@rm -f $(VENV)/.installed-*
	@touch $@
	@echo "setup done: $(VENV) is ready (pip's output is in $(SETUP_LOG))"

report: $(STAMP)
	$(BIN)/python -m rmlib run params/$(YEAR).yaml

all-years: $(STAMP)
	$(BIN)/python -m rmlib run --all

# ruff: lint rules and formatting (configuration in pyproject.toml); `ruff format .` fixes the formatting
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# every test, the docstring examples of rmlib/ and the benchmark smokes
test: lint
	$(BIN)/python -m pytest

# the quick loop, on every core (pytest-xdist): no slow tests (pipeline runs, kernels, CLI subprocesses,
# simulations), no browser, no benchmark smokes; under 2 min on 2 cores
test-fast: lint
	$(BIN)/python -m pytest -n auto -m "not slow and not benchmark and not browser"

# JupyterLab refuses to start as root unless told: say so rather than fail (containers often run as root)
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
lab: $(STAMP)
	@$(if $(LAB_ROOT),echo "make lab: running as root, so JupyterLab is started with --allow-root")
	$(BIN)/jupyter lab $(LAB_ROOT) notebooks/

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

synth: $(STAMP)
	$(BIN)/python -m rmlib synth

lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^rmlib' > requirements.lock

clean:
	rm -rf scratch outputs/[0-9]* outputs/.[0-9]* audit/[0-9]* audit/.[0-9]* data/processed/[0-9]* data/processed/.[0-9]* .pytest_cache
