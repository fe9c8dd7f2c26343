# The two commands of the README: `make book` and `make test`. Each creates the local
# environment (.venv) on first use and refreshes it when a requirements file changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: book test env test-env benchmark clean

book: env
	$(BIN)/jupyter-book build --all . --warningiserror --keep-going || \
	  (echo "book build failed: see the chapter and cell named above"; exit 1)

test: test-env
	$(BIN)/python -m pytest

benchmark: test-env
	$(BIN)/python benchmarks/bench_extract.py

env: $(VENV)/.book-env

test-env: $(VENV)/.test-env

$(VENV)/.book-env: requirements.txt postBuild pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	PATH="$(CURDIR)/$(BIN):$$PATH" sh postBuild
	touch $@

$(VENV)/.test-env: $(VENV)/.book-env requirements-test.txt
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	touch $@

clean:
	rm -rf _build .pytest_cache
