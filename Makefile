# make run   - set up (first time) and serve the app on http://127.0.0.1:8050/
# make test  - set up (first time) and run every test, browser tests included
# make native - optional: build the faster native engine (see README)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench native

run: $(VENV)/installed
	$(BIN)/python app.py

test: $(VENV)/installed-dev
	scripts/install-browser.sh
	scripts/start-services.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(VENV)/installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/installed-dev
	scripts/install-bench-peers.sh
	$(BIN)/python bench/engine.py

# FLINT built for this CPU, python-flint and the C engine against it, and the check kernel, all
# inside native/ (about 5 minutes on 2 cores). The app uses it when present.
native: $(VENV)/installed
	scripts/build-native.sh

$(VENV)/installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/installed-dev: requirements-dev.txt $(VENV)/installed
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@
