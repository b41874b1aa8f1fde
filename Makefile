# Two commands for a fresh machine: `make run` serves the site, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 5000

.PHONY: run test index lint bench clean catalogs

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# The interface's message catalogs are compiled in the build (the .mo files are not committed).
catalogs: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d kb/translations 2>&1 | grep -v "^compiling" || true

instance/index/CURRENT: | $(STAMP)
	$(BIN)/kb index --rebuild || test -f instance/index/CURRENT

run: $(STAMP) catalogs instance/index/CURRENT
	$(BIN)/kb index || true
	$(BIN)/kb serve --port $(PORT)

index: $(STAMP)
	$(BIN)/kb index

lint: $(STAMP)
	$(BIN)/ruff check kb tests bench

test: $(STAMP) catalogs
	$(BIN)/ruff check kb tests bench
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) instance
