# The two set-up commands of the README: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: install run test lint external

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

# The broker on 127.0.0.1:9092, data in ./luong-data (Ctrl-C stops it cleanly).
run: install
	$(BIN)/luong serve --data-dir luong-data

lint: install
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/lint-imports

# kafka-python's own integration suite against a real luong serve (see the script)
external: install
	bash scripts/kafka_python_suite.sh

# the external suite first, so the run closes on our own pytest summary
test: lint
	bash scripts/kafka_python_suite.sh
	$(BIN)/pytest
