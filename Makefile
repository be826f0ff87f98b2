# One command to set up and run, one to set up and test (README.md).
VENV ?= .venv
PYTHON ?= python3
SETTINGS ?= config/settings.example.yaml

.PHONY: run test system-deps bench sandbox-up sandbox-down

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

# The light core: what the bot needs to run (fits a 512 MiB Toolforge job).
$(VENV)/.installed-core: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -e .
	touch $@

# Everything the tests exercise. torch goes first, pinned: an unpinned torch pulls CUDA.
$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet torch==2.13.0
	$(VENV)/bin/pip install --quiet -e '.[test,local,analysis,multilingual,serve]'
	touch $@

# Dry-run against the live Wikimedia stream: prints candidate edits, edits nothing.
run: $(VENV)/.installed-core
	$(VENV)/bin/automod run --settings $(SETTINGS) --dry-run

# MediaWiki 1.39 and PHP from Debian, for the sandbox wiki the tests start.
system-deps:
	./scripts/install-system-deps.sh

# The import layers (docs/ARCHITECTURE.md), style and types (pyproject.toml) first, then the suite.
test: system-deps $(VENV)/.installed-test
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

# bench_serve.py starts a sandbox wiki (MediaWiki from system-deps) to record real API answers.
bench: system-deps $(VENV)/.installed-test
	$(VENV)/bin/python benchmarks/bench_stream.py
	$(VENV)/bin/python benchmarks/bench_decisions.py
	$(VENV)/bin/python benchmarks/bench_local_model.py
	$(VENV)/bin/python benchmarks/bench_model_quality.py
	$(VENV)/bin/python benchmarks/bench_multilingual.py
	$(VENV)/bin/python benchmarks/bench_serve.py --multilingual

# The trial (README "Try it on a local wiki") trains a local model: the `local` extra.
$(VENV)/.installed-local: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -e '.[local]'
	touch $@

sandbox-up: system-deps $(VENV)/.installed-local
	$(VENV)/bin/automod sandbox up --dir sandbox --seed

sandbox-down: $(VENV)/.installed-core
	$(VENV)/bin/automod sandbox down --dir sandbox
