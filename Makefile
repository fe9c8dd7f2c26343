# The two commands of the README: `make book` and `make test`. Each creates the local
# environment (.venv) on first use and refreshes it when a requirements file changes.
# `make test-fast` is the development loop: lint, types and every test but the book builds.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: book test test-fast lint env test-env assets benchmark clean clean-collection collection collection-store

# Scripts the built pages serve themselves (no CDN): MathJax (and its lazy typesetting), from npm.
VENDOR := _vendor
MATHJAX := js/node_modules/mathjax/es5

# The execution cache only watches notebook code, so a change to the package (every subpackage), the shipped
# audio, the requirements or the chosen audio file ($$MUSICNN_NB_AUDIO) empties it first.
FINGERPRINT = $(shell { find musicnn_nb -name '*.py' -o -path 'musicnn_nb/data/*' -type f | LC_ALL=C sort | xargs cat requirements.txt js/package-lock.json "$${MUSICNN_NB_AUDIO:-/dev/null}"; \
                        echo "$${MUSICNN_NB_AUDIO} $${MUSICNN_NB_COLLECTION}"; ls -R "$${MUSICNN_NB_COLLECTION:-$(COLLECTION)/store}"; } \
                        2>/dev/null | sha256sum | cut -c1-16)

# Chapter 14's default collection: pinned Debian packages -> 30-s excerpts (WHOLE=1: whole
# tracks, in collection-whole/) with credits; its store is computed once, then resumed/reused.
COLLECTION := $(if $(WHOLE),collection-whole,collection)

collection: $(COLLECTION)/.done

$(COLLECTION)/.done: scripts/make_collection.py scripts/collection.json | $(VENV)/.book-env
	$(BIN)/python scripts/make_collection.py --out $(COLLECTION) $(if $(WHOLE),--whole)
	touch $@

# the store chapter 14 reads, unless $$MUSICNN_NB_COLLECTION names another one
collection-store: env
	@if [ -z "$$MUSICNN_NB_COLLECTION" ]; then \
	  $(MAKE) --no-print-directory collection && \
	  $(BIN)/python -m musicnn_nb collect $(COLLECTION)/audio -o $(COLLECTION)/store --model both; fi

book: env assets collection-store
	@if [ "$$(cat _build/.fingerprint 2>/dev/null)" != "$(FINGERPRINT)" ]; then \
	  echo "package, audio or requirements changed: executing every chapter afresh"; \
	  rm -rf _build/.jupyter_cache _build/jupyter_execute _build/html _build/.doctrees; fi
	$(BIN)/jupyter-book build . || { echo "book build failed: the chapter and cell are named above"; exit 1; }
	@echo "$(FINGERPRINT)" > _build/.fingerprint

test: test-env assets lint collection-store
	$(BIN)/python -m pytest

# Everything but tests/book (the whole-book builds, Binder and the browser): minutes, not a quarter hour.
test-fast: test-env lint
	$(BIN)/python -m pytest --ignore=tests/book

# ruff with pyproject.toml's rule set; mypy on the layers pyproject.toml names (model, facts).
lint: test-env
	$(BIN)/ruff check musicnn_nb tests scripts benchmarks _ext
	$(BIN)/mypy

benchmark: test-env
	$(BIN)/python benchmarks/bench_extract.py
	$(BIN)/python benchmarks/bench_book.py
	$(BIN)/python benchmarks/bench_explore.py
	$(BIN)/python benchmarks/bench_collect.py

env: $(VENV)/.book-env

assets: $(VENDOR)/.done

$(VENDOR)/.done: js/package.json js/package-lock.json Makefile
	npm ci --prefix js --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/mathjax/output/chtml/fonts $(VENDOR)/mathjax/ui
	cp $(MATHJAX)/tex-chtml.js $(VENDOR)/mathjax/
	cp $(MATHJAX)/ui/lazy.js $(VENDOR)/mathjax/ui/
	cp -r $(MATHJAX)/output/chtml/fonts/woff-v2 $(VENDOR)/mathjax/output/chtml/fonts/
	touch $@

test-env: $(VENV)/.test-env

$(VENV)/.book-env: requirements.txt postBuild pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	PATH="$(CURDIR)/$(BIN):$$PATH" sh postBuild
	touch $@

$(VENV)/.test-env: $(VENV)/.book-env requirements-test.txt
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	@missing=""; for tool in chromium ffmpeg; do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; \
	  else echo "not installed:$$missing (apt-get install$$missing): the tests that need them are skipped"; fi; fi
	touch $@

clean:  # keeps the collection and its store (make clean-collection removes them)
	rm -rf _build .pytest_cache $(VENDOR)

clean-collection:
	rm -rf collection collection-whole
