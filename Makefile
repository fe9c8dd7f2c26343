# The two commands of the README: `make book` and `make test`. Each creates the local
# environment (.venv) on first use and refreshes it when a requirements file changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: book test env test-env benchmark clean

# The execution cache only watches notebook code, so a change to the package, the shipped
# audio, the requirements or the chosen audio file ($$MUSICNN_NB_AUDIO) empties it first.
FINGERPRINT = $(shell { cat musicnn_nb/*.py musicnn_nb/data/* requirements.txt "$${MUSICNN_NB_AUDIO:-/dev/null}"; \
                        echo "$${MUSICNN_NB_AUDIO}"; } 2>/dev/null | sha256sum | cut -c1-16)

book: env
	@if [ "$$(cat _build/.fingerprint 2>/dev/null)" != "$(FINGERPRINT)" ]; then \
	  echo "package, audio or requirements changed: executing every chapter afresh"; \
	  rm -rf _build/.jupyter_cache _build/jupyter_execute _build/html; fi
	$(BIN)/jupyter-book build . || { echo "book build failed: the chapter and cell are named above"; exit 1; }
	@echo "$(FINGERPRINT)" > _build/.fingerprint

test: test-env
	$(BIN)/python -m pytest

benchmark: test-env
	$(BIN)/python benchmarks/bench_extract.py
	$(BIN)/python benchmarks/bench_book.py

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
