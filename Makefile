# make run       - set up (first time) and serve the app on http://127.0.0.1:8050/
# make test      - set up (first time), lint, build the docs, and run the tests (browser tests included) in about 7 minutes
# make test-quick - the tests that need no service and no browser, the slow ones left out (about 65 s here)
# make test-full - the same, plus the checks that take minutes (10^8 places; 10^9 with the native build)
# make web       - scaled out: serve with gunicorn in PI_WEB_PROCESSES processes, tasks to Celery (docs/scale-out.md)
# make worker    - scaled out: a Celery worker computing PI_WORKERS tasks at once with its own PI_DATA_DIR
# make first-run - what a new user runs, checked: a venv from requirements.txt alone, make run, make web + make worker
# make docs      - build the documentation site (MkDocs, --strict) into site/; make docs-serve serves it
# make lint      - ruff, ruff format --check, mypy --strict and the import contracts
# make flake     - the default suite 10 times in a row: any failure is a flaky test to fix
# make bench-load  - Locust's visitors against make run and make web with 2 workers (bench/load.py)
# make bench-viewers - live updates to 1,000-10,000 open pages, push and polling, both modes (bench/viewers.py)
# make bench-table - the task table at a million tasks (bench/table.py)
# make bench     - the digit engines against their peers, 10^5 to 10^8 places, with memory per phase (bench/engine.py)
# make bench-large - the same, and 10^9 places on the native engine
# make native    - optional: build the faster native engine (see docs/engine.md)
# make messages  - after changing a message for people: update the Russian catalogue (then translate the new ones)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# On every core, up to 4 (each pytest-xdist worker has a Redis database of its own: 11 to 14); tests/conftest.py
# groups the PostgreSQL tests on one worker.
PYTEST := $(BIN)/python -m pytest --durations=15 --numprocesses=auto --maxprocesses=4 --dist=loadgroup

.PHONY: docs docs-serve first-run test-quick messages run web worker bench-load bench-viewers bench-table test test-full lint flake bench bench-large native test-setup

run: $(VENV)/installed
	$(BIN)/python app.py

web: $(VENV)/installed
	$(BIN)/gunicorn wsgi:application

worker: $(VENV)/installed
	$(BIN)/python -m tasks.runners.celery_worker

first-run:
	$(PYTHON) scripts/first_run.py

test: test-setup lint docs
	$(PYTEST)

test-quick: $(VENV)/installed-dev
	$(PYTEST) -m "not browser and not postgres and not scaled and not slow and not full"

test-full: test-setup lint
	$(PYTEST) -m "full or not full"

flake: test-setup
	for run in 1 2 3 4 5 6 7 8 9 10; do \
		echo "== flake run $$run of 10"; \
		$(PYTEST) -q || exit 1; \
	done

test-setup: $(VENV)/installed-dev
	scripts/install-browser.sh
	scripts/install-nginx.sh
	scripts/start-services.sh

lint: $(VENV)/installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

docs: $(VENV)/installed-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-serve: $(VENV)/installed-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

messages: $(VENV)/installed-dev
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output -o i18n/messages.pot .
	$(BIN)/pybabel update -i i18n/messages.pot -d i18n/locales -D messages --ignore-obsolete --width 120 --no-fuzzy-matching

bench-load: test-setup .venv-bench/installed
	$(BIN)/python bench/load.py --locust .venv-bench/bin/locust

bench-viewers: test-setup
	$(BIN)/python bench/viewers.py

bench-table: test-setup
	$(BIN)/python bench/table.py

bench: $(VENV)/installed-dev
	scripts/install-bench-peers.sh
	$(BIN)/python bench/engine.py

bench-large: $(VENV)/installed-dev
	scripts/install-bench-peers.sh
	$(BIN)/python bench/engine.py --large

# FLINT built for this CPU, python-flint and the C engine against it, and the check kernel, all
# inside native/ (about 5 minutes on 2 cores). The app uses it when present.
native: $(VENV)/installed
	scripts/build-native.sh

$(VENV)/installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip check
	touch $@

$(VENV)/installed-dev: requirements-dev.txt $(VENV)/installed
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip check
	touch $@

# Locust's own venv (requirements-bench.txt says why it is apart).
.venv-bench/installed: requirements-bench.txt
	python3 -m venv .venv-bench
	.venv-bench/bin/python -m pip install --quiet --upgrade pip
	.venv-bench/bin/python -m pip install --quiet -r requirements-bench.txt
	.venv-bench/bin/python -m pip check
	touch $@
