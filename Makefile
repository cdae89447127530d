# Tenang: `make run` sets up and serves on the embedded defaults; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= $(or $(TENANG_PORT),8000)

.PHONY: run test install install-test ingest bench eval clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when the project's requirements change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

ingest: install
	$(BIN)/tenang ingest

run: install ingest
	$(BIN)/tenang keys bootstrap
	TENANG_PORT=$(PORT) $(BIN)/tenang serve

test: install-test
	$(BIN)/python -m pytest

bench: install
	$(BIN)/tenang bench

eval: install
	$(BIN)/tenang eval drafts --data evals/datasets/complaints.dev.v1.jsonl
	$(BIN)/tenang eval drafts --taxonomy

clean:
	rm -rf $(VENV) var .pytest_cache
