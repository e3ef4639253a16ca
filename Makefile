# relayarr: `make run` serves on the embedded SQLite default, `make test` runs the whole suite.
# Each target builds the virtualenv on first use from uv.lock, so every machine gets exactly
# the versions main was tested with; nothing needs installing by hand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# uv itself lives in a small venv of its own (.uv/), pinned here, so the project venv holds
# only what the lock names.
UV_VERSION := 0.13.9
UV := .uv/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test check bench lock upgrade clean

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/python -m pip install -q 'uv==$(UV_VERSION)'

# Rebuilt whenever the lock or pyproject.toml changes. --locked refuses a lock that no
# longer matches pyproject.toml: run `make lock` after editing the dependencies.
$(STAMP): uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --all-extras --python $(PYTHON)
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/relayarr serve

test: $(STAMP)
	bash scripts/ensure-test-servers.sh
	bash scripts/ensure-wrk.sh
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-kodi.sh
	$(BIN)/pytest -q

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# wrk drives the webhook benchmark's highest rate (the Python client would take CPU the
# server needs on a small machine); without it the benchmark falls back and says so. The
# pipeline benchmark tells the tests' headless Kodi.
bench: $(STAMP)
	bash scripts/ensure-wrk.sh
	bash scripts/ensure-kodi.sh
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.webhooks
	$(BIN)/python -m benchmarks.library
	$(BIN)/python -m benchmarks.pipeline

# After editing dependencies in pyproject.toml: resolve the lock again, changing as little
# as it can.
lock: | $(UV)
	$(UV) lock --python $(PYTHON)

# Move every locked package to the newest release pyproject.toml allows; then run
# `make check test` and commit uv.lock if they pass.
upgrade: | $(UV)
	$(UV) lock --upgrade --python $(PYTHON)

clean:
	rm -rf $(VENV) .uv .mypy_cache .ruff_cache .pytest_cache .hypothesis
