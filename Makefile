# Cadence — the two commands a new user needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo-company

.PHONY: demo test lint typecheck unit docs bench system-deps clean cli-smoke serve

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Cadence needs Python 3.11 ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# htmx (which only enhances the web app's pages: they work without it) comes from the npm registry into the
# package's static folder, git-ignored; a machine without npm simply serves the pages without it.
HTMX := src/cadence/web/static/htmx.min.js
$(HTMX):
	@if command -v npm >/dev/null 2>&1; then \
	  tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent htmx.org@2 >/dev/null) && \
	  tar -xzf $$tmp/htmx.org-*.tgz -C $$tmp package/dist/htmx.min.js && cp $$tmp/package/dist/htmx.min.js $@ && \
	  rm -rf $$tmp || echo "htmx could not be fetched from npm: the web app works without it"; \
	else echo "npm not found: the web app works without htmx"; fi

## make demo: install, build the demo company on the embedded DuckDB, show its summary and its scorecard
demo: $(STAMP) $(HTMX)
	$(BIN)/cadence demo $(DEMO_DIR)
	$(BIN)/cadence --workspace $(DEMO_DIR) scorecard --html $(DEMO_DIR)/reports/scorecard.html

## make serve: the web app over the demo company on http://127.0.0.1:8000 (after `make demo`)
serve: $(STAMP) $(HTMX)
	$(BIN)/cadence --workspace $(DEMO_DIR) serve

## make test: install what tests need (PostgreSQL from Debian), lint, type-check, run the suite
# The checks before the suite run side by side (the clean install of cli-smoke waits on files, mypy on one core),
# each one's output kept together; then the suite, which uses both cores.
test: system-deps $(STAMP) $(HTMX)
	@$(MAKE) --no-print-directory -j2 --output-sync=target lint typecheck cli-smoke
	@$(MAKE) --no-print-directory unit

## make cli-smoke: a clean `pip install .` (no extras) in a throwaway venv gives a working `cadence`
cli-smoke:
	PYTHON=$(PYTHON) tools/cli_smoke.sh

# Tests use a real PostgreSQL, a real browser (Debian's Chromium, driven by Playwright; never downloaded) and a
# local Apache Spark, which needs a Java 17 runtime (Debian's OpenJDK).
system-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v java >/dev/null 2>&1 || missing="$$missing openjdk-17-jre-headless"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing from Debian's packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src tests tools bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# Two workers (CI has two cores), each taking whole test files so module fixtures are built once;
# TEST_WORKERS=0 runs in one process. The 30 longest tests are listed at the end: where the suite's minutes go.
TEST_WORKERS ?= 2
unit: $(STAMP)
	@$(BIN)/pytest --durations=30 $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$status

## make bench: timings as ratios against a reference run in the same process (bench-results/*.json)
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH)

## make docs: regenerate the schema reference, the metric catalogue, the cadence.yml and CLI references and the
## SQL each metric compiles to per engine (tests/sql/)
docs: $(STAMP)
	$(BIN)/cadence schema --format markdown > docs/schema.md
	$(BIN)/cadence metrics --format markdown > docs/metrics.md
	$(BIN)/python -m cadence.config.doc > docs/config.md
	$(BIN)/python -m cadence.cli.reference > docs/cli.md
	$(BIN)/python -m tests.sql_snapshots --update

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
