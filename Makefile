# storedb: every target sets up what it needs on a fresh machine.
#   make run    create the virtualenv, install, start the local database, migrate, print status
#               and the two local URLs (owner for migrating, app role for serving)
#   make test   lint, then the whole test suite against a throwaway PostgreSQL
#   make test-matrix  the tests marked `matrix` on PostgreSQL 14, 16, 17 and 18 (builds from PyPI)
#   make bench  the benchmarks (bench/README.md), figures and chart into bench/
#   make mutation  mutation testing of the core (tools/mutation.py; minutes, not part of make test)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run test test-matrix lint typecheck bench mutation clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

run: install
	$(BIN)/python -m storedb migrate
	$(BIN)/python -m storedb status
	@echo "migrate as (owner):       $$($(BIN)/python -m storedb local url -q)"
	@echo "serve the app as (RLS):   $$($(BIN)/python -m storedb local url --app -q)"

lint: install
	$(BIN)/ruff check storedb tests bench tools

typecheck: install
	$(BIN)/mypy storedb

test: lint typecheck
	$(BIN)/python -m pytest

# Each version is downloaded once into /var/cache/storedb/pg (root) or ~/.cache/storedb/pg.
test-matrix: install
	$(BIN)/python -m tools.pgversions test

bench: install
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/run_all.py

mutation: install
	$(BIN)/python -m tools.mutation

clean:
	-$(BIN)/python -m storedb local stop
	-[ -f .storedb/location ] && rm -rf "$$(cat .storedb/location)"
	rm -rf $(VENV) .storedb dist build
