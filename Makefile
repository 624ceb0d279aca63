# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app quizapp
HOST   ?= 127.0.0.1
PORT   ?= 5000
TEST_DATABASE_URL ?=
export TEST_DATABASE_URL
# Test processes (pytest-xdist workers) for `make test`: one per core by default; 0 runs the
# suite in this one process. Each worker has its own databases (tests/conftest.py).
TEST_WORKERS ?= auto
PYTEST := PYTEST_ADDOPTS="$(if $(filter 0,$(TEST_WORKERS)),-p no:xdist,-n $(TEST_WORKERS)) $$PYTEST_ADDOPTS" $(BIN)/python -m pytest

.PHONY: run setup test test-sqlite test-postgres e2e-deps translations translations-update serve bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

translations: $(VENV)/.runtime
	$(BIN)/pybabel -q compile --use-fuzzy -d quizapp/translations

# After changing user-facing strings: extract them and merge into both catalogs.
translations-update: $(VENV)/.runtime
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	  -o quizapp/translations/messages.pot .
	$(BIN)/pybabel -q update -i quizapp/translations/messages.pot -d quizapp/translations --no-fuzzy-matching

# Migrate, import the bank, seed the demo only into an empty database.
setup: $(VENV)/.runtime translations
	$(FLASK) db upgrade
	$(FLASK) bank import
	$(FLASK) demo seed --if-empty

run: setup
	$(FLASK) run --host $(HOST) --port $(PORT)

e2e-deps:
	@bash scripts/ensure-chromium.sh

# The whole suite on SQLite, then (when TEST_DATABASE_URL is set, as .ci/run sets it)
# again on PostgreSQL. Each run deselects the other database's tests and says so.
test: test-sqlite
	@if [ -n "$(TEST_DATABASE_URL)" ]; then $(MAKE) --no-print-directory test-postgres; fi

test-sqlite: $(VENV)/.dev translations e2e-deps
	$(PYTEST) -q -rs

test-postgres: $(VENV)/.dev translations
	@if [ -z "$(TEST_DATABASE_URL)" ]; then \
	  echo "test-postgres needs TEST_DATABASE_URL, e.g. postgresql://postgres@127.0.0.1:5432/test" >&2; \
	  exit 2; fi
	@echo "== on PostgreSQL ($(TEST_DATABASE_URL))"
	$(PYTEST) -q -rs --db=postgresql

# Production-style serving: gunicorn, N workers (WORKERS), settings from the environment
# (QUIZAPP_ENV=production needs SECRET_KEY and REDIS_URL, or ALLOW_MEMORY_RATE_LIMITS=1;
# DATABASE_URL, PUBLIC_URL, BEHIND_PROXY…).
# gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl), which
# two servers would take from each other: this one gets its own, per checkout and port.
WORKERS ?= 4
CONTROL_SOCKET ?= $(CURDIR)/instance/gunicorn-$(PORT).ctl
serve: $(VENV)/.runtime translations
	$(FLASK) db upgrade
	REQUEST_LOG=$${REQUEST_LOG:-1} $(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) \
	  --control-socket $(CONTROL_SOCKET) \
	  --access-logfile - --graceful-timeout 20 'quizapp:create_app()'

# The benchmarks (benchmarks/README.md); each rewrites its section of benchmarks/REPORT.md.
# autosave.py and contest_storm.py both run (6½ minutes on the 2-CPU dev machine) and
# fail the target if either failed; then scale.py.
bench: $(VENV)/.dev translations
	$(BIN)/python benchmarks/autosave.py; autosave=$$?; \
	$(BIN)/python benchmarks/contest_storm.py; contest=$$?; \
	test $$autosave -eq 0 && test $$contest -eq 0
	$(BIN)/python benchmarks/scale.py

clean:
	rm -rf $(VENV) instance/*.sqlite3*
