# Whistle: `make run` starts the whole system, `make test` runs every test.
# GNU make. Everything runs from the virtual environment in .venv.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.whistle-installed

# Python 3.11 is required (pyproject.toml). Prefer python3.11, else python3 when it is 3.11.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || \
	(python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null && command -v python3))

# Extra arguments for pytest, e.g. make test PYTEST_ARGS="-x tests/teams".
PYTEST_ARGS ?=

# The PostgreSQL role web, worker and beat of `make run` connect as (core/db_roles.py).
APP_ROLE ?= whistle_app

.PHONY: help venv install run test lint format messages lock clean bench fuzz chaos drill backup restore

help:
	@echo "make run       install, migrate, seed the demo city (and once its year of history), start web + worker + beat"
	@echo "make test      install and run the whole test suite (DATABASE_URL/REDIS_URL honoured)"
	@echo "make fuzz      schemathesis + Open311 fuzzing with thousands of requests: no 5xx"
	@echo "make bench     timer burst, intake load (beside the one-row ceiling and django-helpdesk), page speed, the lab's replay, an SMS burst, an organisation import and a megacity's history (20,000,000 cases) on PostgreSQL + Redis -> docs/benchmarks.md"
	@echo "make chaos     scripted faults on a private PostgreSQL and Redis -> docs/reliability.md"
	@echo "make drill     primary + streaming replica, 2 gunicorn behind nginx, 2 workers, 2 beats; kills under load -> docs/scaling.md"
	@echo "make backup    dump DATABASE_URL's database and tar the media into BACKUP_DIR (var/backups)"
	@echo "make restore   BACKUP=<folder>: into DATABASE_URL and WHISTLE_VAR_DIR (empty), then verify_trace"
	@echo "make lint      ruff check, ruff format --check and lint-imports (the apps' layers)"
	@echo "make format    ruff format and ruff check --fix"
	@echo "make messages  update and compile the translation catalogues under locale/"
	@echo "make lock      rewrite requirements.lock from the installed versions"
	@echo "make clean     remove caches and collected static files (keeps .venv and var/ data)"

$(PY):
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.11 not found (need python3.11 or python3 = 3.11)" >&2; exit 1; fi
	$(PYTHON) -m venv $(VENV)

# Re-install only when the declared or locked dependencies changed since the last install.
$(STAMP): pyproject.toml requirements.lock | $(PY)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c requirements.lock -e ".[dev]"
	@touch $(STAMP)

venv install: $(STAMP)

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	@if command -v msgfmt >/dev/null 2>&1; then \
		$(PY) manage.py compilemessages --ignore=$(VENV) --ignore=var; \
	else \
		echo "msgfmt not found: using the committed .mo files"; \
	fi
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@# The history (a year of cases through the services, about a minute) is built only once.
	$(PY) manage.py seed_demo --history
	@echo
	@echo "Whistle is starting at http://127.0.0.1:$${PORT:-8000}/  (Ctrl-C stops web, worker and beat)"
	@echo
	@# On PostgreSQL, DATABASE_URL is the tables' owner (it ran migrate and the seeding); web,
	@# worker and beat connect as APP_ROLE, which reads and writes rows only (docs/security.md).
	@# grant_app_role prints its URL with a fresh password, or nothing on SQLite.
	app_url="$$($(PY) manage.py grant_app_role --role "$(APP_ROLE)" --print-url)" && \
	if [ -n "$$app_url" ]; then export DATABASE_URL="$$app_url"; fi && \
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start --port "$${PORT:-8000}"

# DATABASE_URL, REDIS_URL, WHISTLE_VAR_DIR etc. reach pytest from the environment unchanged.
# Browser tests (tests/e2e, marker e2e) will need Debian's chromium; .ci/run installs it.
test: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The fuzz tests of tests/security with many examples (make test runs them with a few).
FUZZ_EXAMPLES ?= 150
fuzz: $(STAMP)
	WHISTLE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/pytest -s -p no:cacheprovider tests/security/test_fuzz_api.py $(PYTEST_ARGS)

# PostgreSQL + Redis: DATABASE_URL (default .../whistle_bench, plus _intake, _pages, _replay,
# _deliveries, _import_org, _sizes, _history) is emptied and refilled, _history kept for the next
# run (20,000,000 cases: about 70 GB); BENCH_ARGS runs one benchmark, e.g.
# BENCH_ARGS="sweep --open 100000" or BENCH_ARGS=history.
bench: $(STAMP)
	PY=$(CURDIR)/$(PY) scripts/bench.sh $(BENCH_ARGS)

# Its own PostgreSQL cluster (port 55432) and redis-server (port 56379), started and stopped.
chaos: $(STAMP)
	PY=$(CURDIR)/$(PY) scripts/chaos.sh $(CHAOS_ARGS)

# bench/drill.py: its own PostgreSQL primary and replica, redis-server (or WHISTLE_DRILL_REDIS_URL),
# gunicorn, nginx (Debian's), Celery workers and beats on free loopback ports; about 5 minutes.
# DRILL_ARGS e.g. "--seconds 90 --no-write".
drill: $(STAMP)
	$(PY) -m bench.drill $(DRILL_ARGS)

# scripts/backup.py, README "Backup and restore". RESTORE_ARGS=--force replaces what is there.
BACKUP_DIR ?= var/backups
backup: $(STAMP)
	$(PY) scripts/backup.py backup --to "$(BACKUP_DIR)"

restore: $(STAMP)
	@if [ -z "$(BACKUP)" ]; then echo "usage: make restore BACKUP=<backup folder>" >&2; exit 2; fi
	$(PY) scripts/backup.py restore "$(BACKUP)" $(RESTORE_ARGS)

# Every check always runs, so one report shows everything; any failing fails the target.
lint: $(STAMP)
	@status=0; \
	$(VENV)/bin/ruff check . || status=1; \
	$(VENV)/bin/ruff format --check . || status=1; \
	$(VENV)/bin/lint-imports --no-cache --no-logo || status=1; \
	exit $$status

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: $(STAMP)
	$(PY) manage.py makemessages -l zh_Hans -l en --ignore=$(VENV) --ignore=var --ignore=static/vendor
	$(PY) manage.py compilemessages --ignore=$(VENV) --ignore=var

lock: $(STAMP)
	@{ echo "# Exact versions that CI tested. Regenerate with: make lock"; \
	   echo "# Used as a constraints file: pip install -c requirements.lock -e \".[dev]\""; \
	   $(PIP) freeze --exclude-editable; } > requirements.lock.new
	mv requirements.lock.new requirements.lock
	@touch $(STAMP)

clean:
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf
	rm -rf .pytest_cache .ruff_cache .hypothesis *.egg-info build var/staticfiles var/cache
