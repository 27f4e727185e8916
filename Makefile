# Chokepoint: `make demo` builds the warehouse from the bundled demo data; `make test` runs the tests.
# Needs only Python >= 3.11, pip and make: uv is installed into .tools/ when it is not on PATH.

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never
# Trust the machine's CA store too (needed behind TLS-inspecting proxies).
export UV_SYSTEM_CERTS := 1
RUN := $(UV) run --locked --quiet
# The project's own modules and pytest's rewritten test modules are cached as bytecode in
# __pycache__ (ignored by git), as Python does by default: where the environment turns that off,
# every process (each run worker, test worker and subprocess) compiled them again, about 0.3 s
# of every import of the definitions and 5 s of every test worker's collection.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help demo test test-e2e test-all lint format dev bundle benchmark tour dictionary clean
# A bare `make` lists the targets: on a production host it must not seed the demo data.
.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /  make \1\t/' | expand -t 24

demo: .venv/.synced ## Build every asset from the demo data into data/ and print where it is
	$(RUN) python -m orchestration.cli demo

test: .venv/.synced ## Run the test suite (a shared demo build per worker; end-to-end and slow tests excluded)
	$(RUN) pytest -m "not slow and not e2e" -q -n auto --maxprocesses 4 --durations=12

test-e2e: .venv/.synced ## The end-to-end tests: builds of their own, the daemon, PostgreSQL, a browser
	$(RUN) pytest -m "e2e and not slow" -q -n 2 --dist loadfile --durations=12

test-all: .venv/.synced ## Run every test, slow ones included
	$(RUN) pytest -q

lint: .venv/.synced ## ruff, mypy and sqlfluff
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy .
	$(RUN) sqlfluff lint sql

format: .venv/.synced ## Apply ruff and sqlfluff fixes
	$(RUN) ruff format .
	$(RUN) ruff check --fix .
	$(RUN) sqlfluff fix sql

dev: .venv/.synced ## Dagster UI and daemon (sensors, schedules) on http://127.0.0.1:3000, storage under data/
	DAGSTER_HOME="$$($(RUN) python -m orchestration.cli dagster-home)" \
		$(RUN) dagster dev -m orchestration.definitions

tour: .venv/.synced ## Refresh the outputs shown in the README's tour from data/ (run make demo first)
	$(RUN) python -m orchestration.tour --write

dictionary: .venv/.synced ## Regenerate docs/data_dictionary.md from the data contracts
	$(RUN) python -m orchestration.cli dictionary

bundle: .venv/.synced ## Regenerate the synthetic demo bundle (deterministic)
	$(RUN) python -m demo.generate --out demo/bundle

benchmark: .venv/.synced ## Speed benchmarks (not run by `make test` or CI); prints figures
	$(RUN) python benchmarks/fixed_cost.py
	$(RUN) python benchmarks/dagster_floor.py
	$(RUN) python benchmarks/sanctions_snapshot.py
	$(RUN) python benchmarks/screening.py
	$(RUN) python benchmarks/marts_10m.py

clean: ## Remove the built warehouse, landing copies and Dagster state
	rm -rf data

# Bytecode is compiled at install: imports then read .pyc even where PYTHONDONTWRITEBYTECODE is
# set (without it every process compiles dagster and Great Expectations again, 2.5 s an import).
.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --compile-bytecode
	@touch $@

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install --quiet "uv==$(UV_VERSION)"
