# relayarr: `make run` serves on the embedded SQLite default, `make test` runs the whole suite.
# Each target builds its own virtualenv on first use; nothing needs installing by hand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check bench clean

# arq, a Redis peer in the benchmarks, pins redis-py below 6, which would hold the whole
# environment (relayarr's Redis engine included) back at redis-py 5: it goes in without its
# pin, and runs on the current redis-py (tests/integration/test_server_bench_smoke.py).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	$(BIN)/python -m pip install -q --no-deps 'arq==0.28.0'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/relayarr serve

test: $(STAMP)
	bash scripts/ensure-test-servers.sh
	bash scripts/ensure-wrk.sh
	$(BIN)/pytest -q

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# wrk drives the webhook benchmark's highest rate (the Python client would take CPU the
# server needs on a small machine); without it the benchmark falls back and says so.
bench: $(STAMP)
	bash scripts/ensure-wrk.sh
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.webhooks

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
