# Nomflow: one command for each everyday job. `make help` lists them.
#
# Everything runs inside .venv, created on first use with Python 3.11.
# The install step re-runs only when pyproject.toml is newer than .venv/.installed.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
BIN     := $(VENV)/bin
PY      := $(BIN)/python
MANAGE  := $(PY) manage.py
STAMP   := $(VENV)/.installed

HOST    ?= 127.0.0.1
PORT    ?= 8000
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k screening -x"`.
# -rfEs lists failures, errors and the reason of every skipped test.
PYTEST_ARGS ?= -rfEs

.PHONY: help install var run test test-fast prodcheck lint format bench bench-load messages compilemessages migrate chromium clean distclean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# --- environment -----------------------------------------------------------

# Python 3.11 exactly (Django 5.2 LTS; pyproject pins >=3.11,<3.12): python3.11 if present,
# else python3 when it is 3.11.
$(PY):
	@set -e; py=""; \
	for candidate in python3.11 python3; do \
	  if command -v $$candidate >/dev/null 2>&1 && \
	     $$candidate -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then \
	    py=$$candidate; break; \
	  fi; \
	done; \
	if [ -z "$$py" ]; then echo "Nomflow needs Python 3.11 (python3.11 or python3)." >&2; exit 1; fi; \
	echo "Creating $(VENV) with $$(command -v $$py) ($$($$py --version))"; \
	$$py -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install Nomflow with its dev tools

# var/ holds the local database, media, the beat schedule and the filesystem broker, whose
# folders kombu does not create itself.
var:
	@mkdir -p var/broker/queue var/broker/processed

# --- running ----------------------------------------------------------------

migrate: $(STAMP) var ## Apply database migrations
	$(MANAGE) migrate --noinput

compilemessages: $(STAMP) ## Compile translations (needs gettext's msgfmt)
	@if [ -z "$$(find locale -name '*.po' 2>/dev/null | head -n 1)" ]; then \
	  echo "note: no translations under locale/ yet; nothing to compile."; \
	elif ! command -v msgfmt >/dev/null 2>&1; then \
	  echo "note: gettext's msgfmt is not installed; the interface stays in English (apt-get install gettext)."; \
	else \
	  $(MANAGE) compilemessages --ignore=$(VENV) --ignore=var; \
	fi

# Ctrl-C stops runserver; the EXIT trap then stops the worker (and its embedded beat).
# Started without -Q, the worker consumes every queue (email, sweeps, exports, celery);
# production runs a worker per group of queues (docs/operations.md, "Workers and queues").
# Links in emails and the hub's feed are built from SITE_URL: here, where runserver listens
# (for load_demo, the worker and the site alike).
run: export SITE_URL = http://$(HOST):$(PORT)
run: migrate compilemessages ## Migrate, load demo data, start worker+beat and the site on 127.0.0.1:8000
	$(MANAGE) load_demo
	@set -u; \
	$(BIN)/celery -A config worker -B --loglevel=info --concurrency=1 \
	  --schedule var/celerybeat-schedule & \
	worker=$$!; \
	trap 'echo "Stopping the Celery worker ($$worker)"; kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	echo "Celery worker with beat started (pid $$worker); site at http://$(HOST):$(PORT)/"; \
	$(MANAGE) runserver $(HOST):$(PORT)

# --- quality ----------------------------------------------------------------

# The browser tests drive Debian's chromium; without it they are skipped with a reason.
chromium:
	@if [ -x /usr/bin/chromium ]; then \
	  :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y chromium || { apt-get update && apt-get install -y chromium; } \
	    || echo "warning: could not install chromium; the browser tests will be skipped."; \
	else \
	  echo "note: /usr/bin/chromium is missing; the browser tests will be skipped" \
	       "(install it with: sudo apt-get install chromium)."; \
	fi

# pytest exits 5 when it collected no tests: that is a failure here, not a pass.
test: $(STAMP) var compilemessages chromium ## Run every test (SQLite, or PostgreSQL when DATABASE_URL is set)
	@echo "Database: $${DATABASE_URL:-SQLite (no DATABASE_URL set)}"
	@set +e; $(BIN)/pytest -m "not production" $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "error: pytest collected no tests." >&2; exit 1; fi; \
	exit $$status

test-fast: $(STAMP) var compilemessages ## Everyday tests: all but the slow ones (no browser, no worker)
	@set +e; $(BIN)/pytest -m "not production and not slow" $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "error: pytest collected no tests." >&2; exit 1; fi; \
	exit $$status

# What a partner deploys (docs/operations.md): config.settings.production on a fresh
# PostgreSQL database (beside DATABASE_URL's) and a Redis of its own, with collectstatic,
# gunicorn, the two Celery workers (-Q email,sweeps and -Q exports,celery) and one beat;
# every role's pages walked over HTTP, an Excel export built, then walked again with the
# workers killed and Redis stopped. Prints the figures.
prodcheck: $(STAMP) var compilemessages ## Run the production configuration and walk it as every role (needs DATABASE_URL on PostgreSQL)
	@if [ "$${DATABASE_URL#postgres}" = "$${DATABASE_URL}" ]; then \
	  echo "error: make prodcheck needs DATABASE_URL=postgres://… (the production settings run on PostgreSQL)." >&2; exit 1; \
	fi
	@set +e; $(BIN)/pytest tests/production -m production -rfEs -s; status=$$?; \
	if [ $$status -eq 5 ]; then echo "error: pytest collected no tests." >&2; exit 1; fi; \
	exit $$status

lint: $(STAMP) ## Check style (ruff check, ruff format --check) and the import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP) ## Fix what ruff can and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) var ## Run the benchmarks
	$(PY) bench/run.py
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} $(PY) bench/production_pages.py

# 10,000 nominations in nomflow_bench_pages, then gunicorn (BENCH_WORKERS, default 4) and
# Locust stepping through BENCH_USERS (default 4,8,16,32,64), BENCH_STEP_SECONDS each.
bench-load: $(STAMP) var ## Load test: requests/s of a mix of roles at p95 <= 200 ms (Locust)
	$(PY) -m pip install --disable-pip-version-check --quiet -e ".[dev,bench]"
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/nomflow_bench_pages} \
	  $(PY) bench/run.py --only pages --keep --sessions var/bench/sessions.json
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/nomflow_bench_pages} \
	  $(PY) bench/locustfile.py

messages: $(STAMP) ## Update locale/*.po for all five languages, then compile them
	$(MANAGE) makemessages -l en -l sv -l fr -l es -l lv --no-obsolete --ignore=$(VENV) --ignore=var --ignore=staticfiles
	$(MAKE) --no-print-directory compilemessages

# --- cleaning ---------------------------------------------------------------

clean: ## Remove local data (var/: database, broker, beat schedule) and caches
	rm -rf var staticfiles .pytest_cache .ruff_cache tests/e2e/artifacts
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean ## Also remove .venv
	rm -rf $(VENV)
