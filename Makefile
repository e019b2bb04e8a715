# Two commands do everything on a fresh machine:
#   make extract   extract events from the seed articles with the embedded offline model
#   make test      lint, type-check and run the tests (cassette replay + the live embedded model)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install extract test record lint

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# The embedded smoke-test model fails some seeds (it is 135M parameters); the run records each failure
# and exits 1, which this target reports without failing.
extract: install
	$(BIN)/extractor extract seeds/*.txt --out results/seeds-v1-embedded.jsonl --overwrite \
	  || echo "Some seeds failed with the embedded smoke-test model: see the summary above and results/seeds-v1-embedded.jsonl"

test: install
	$(BIN)/ruff check extractor evals tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest

# Record the cassettes that are missing for the seeds (prompt v1, embedded model).
record: install
	$(BIN)/extractor extract seeds/*.txt --prompt v1 --cassettes record --out results/record-v1.jsonl
