# Two commands on a fresh machine:  make report  |  make test
# Everything runs inside .venv, installed from the pinned requirements.lock.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# re-install whenever the lock or the package metadata changes
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)
YEAR   ?= 2018

.PHONY: report test test-fast lab bench synth lock clean help

help:
	@echo "make report   set up .venv (pinned deps) and build outputs/$(YEAR)/report.html from data/raw/"
	@echo "make test     set up .venv and run every test (unit, pipeline, nbval)"
	@echo "make lab      JupyterLab on the notebooks"
	@echo "make bench    performance benchmark (slow; not part of make test)"
	@echo "make synth    regenerate the synthetic example exports in data/raw/"
	@echo "make lock     re-pin requirements.lock from the current .venv"
	@echo "make clean    remove generated outputs and processed data (raw data is never touched)"

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

report: $(STAMP)
	$(BIN)/python -m rmlib run params/$(YEAR).yaml

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

synth: $(STAMP)
	$(BIN)/python -m rmlib synth

lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^rmlib' > requirements.lock

clean:
	rm -rf outputs/[0-9]* outputs/.[0-9]* audit/[0-9]* audit/.[0-9]* data/processed/[0-9]* data/processed/.[0-9]* .pytest_cache
