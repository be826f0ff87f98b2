# One command to set up and run, one to set up and test (README.md).
VENV ?= .venv
PYTHON ?= python3
SETTINGS ?= config/settings.example.yaml

.PHONY: run test system-deps venv bench sandbox-up sandbox-down

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test,local,analysis]'
	touch $@

venv: $(VENV)/.installed

# Dry-run against the live Wikimedia stream: prints candidate edits, edits nothing.
run: venv
	$(VENV)/bin/automod run --settings $(SETTINGS) --dry-run

# MediaWiki 1.39 and PHP from Debian, for the sandbox wiki the tests start.
system-deps:
	./scripts/install-system-deps.sh

test: system-deps venv
	$(VENV)/bin/pytest

bench: venv
	$(VENV)/bin/python benchmarks/bench_stream.py
	$(VENV)/bin/python benchmarks/bench_decisions.py

sandbox-up: system-deps venv
	$(VENV)/bin/automod sandbox up --dir sandbox

sandbox-down: venv
	$(VENV)/bin/automod sandbox down --dir sandbox
