# The few commands people use. Each installs what it needs first (pinned, into .venv and
# node_modules), so they work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
ENV ?= dev
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1
# Same as local_aws.settings.CDK_CLI_QUIET_ENV (the AWS SDK's Node-version notice on every command).
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED := true

.PHONY: install local local-down local-logs test test-fast lint synth diff summary bench snapshot-update clean

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
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
	$(PY) -m mypy app.py stacks vectora_constructs local_aws scripts layers/vectora_core/python/vectora_core
	# Each handler is its own top-level module "handler": one mypy run per function folder.
	for handler in lambdas/*/handler.py; do $(PY) -m mypy "$$handler" || exit 1; done

synth: install
	$(CDK) synth -c env=$(ENV) --quiet
	$(PY) scripts/deploy/synth_summary.py cdk.out

diff: install
	$(CDK) diff -c env=$(ENV) --method=template

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
