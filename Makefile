# Two commands do all set-up on a fresh machine: `make synth` and `make test`.
# Everything is installed into this directory: .venv/ (Python) and node_modules/ (CDK CLI, Node 22).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := synth
# The installs that do not depend on each other run side by side (`make test` in a fresh clone: the
# checkov virtualenv beside npm ci and the .venv installs); the stamps' prerequisites keep every order
# that matters (.venv's installs after node_modules, the dev pins after the runtime ones).
MAKEFLAGS += --jobs=2

PYTHON ?= python3
VENV := .venv
# Install stamps live inside what they describe: deleting .venv or node_modules re-installs.
PY_STAMP := $(VENV)/.installed-runtime
PY_DEV_STAMP := $(VENV)/.installed-dev
# checkov cannot share .venv's pins (requirements-checkov.txt says why): its own virtualenv inside it.
CHECKOV_VENV := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
NODE_STAMP := node_modules/.installed
CDK_OUT ?= cdk.out

# Node 22 and the pinned CDK CLI from node_modules come first: jsii and cdk run on them.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
CDK := cdk --no-notices --no-version-reporting

# Extra arguments for cdk (settings: ARGS="-c region=eu-west-1 -c keyAdminArns=arn:...").
ARGS ?=
# Modules `make` compiles to bytecode after installing with --no-compile (see scripts/precompile.py):
# what the app, the CLI and the tests import, the access proofs' z3 and the moto services the tests
# start (moto.cloudformation.parsing imports most of moto); NAME.* for cfn-lint's rules, loaded by path.
RUNTIME_MODULES := stacks.recordings_stack stacks.guardrails_stack stacks.iam_events_stack constructs_lib.compliance \
	constructs_lib.proofs constructs_lib.core.prover.properties constructs_lib.core.prover.guardrail_properties cdk_nag \
	recordings_kms.cli recordings_kms.verify.readers recordings_kms.verify.checks
MOTO_SERVICES := s3 kms iam sts cloudformation sns events cloudtrail ssm organizations
DEV_MODULES := pytest '_pytest.*' xdist syrupy hypothesis _hypothesis_pytestplugin tests.policy_eval \
	moto moto.server moto.cloudformation.parsing moto.iam.access_control $(foreach s,$(MOTO_SERVICES),moto.$(s).urls) \
	cfnlint.api cfnlint.runner 'cfnlint.rules.*' 'cfnlint.data.schemas.*'

.PHONY: synth test deploy import lint ruff bench docs clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# pip --no-compile: compiling all of aws_cdk costs ~15 s; precompile.py compiles what the code imports.
$(PY_STAMP): requirements.txt constraints.txt pyproject.toml | $(VENV)/bin/python $(NODE_STAMP)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-compile -r requirements.txt -c constraints.txt
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-compile --no-deps -e .
	$(VENV)/bin/python scripts/precompile.py $(RUNTIME_MODULES)
	@touch $@

$(PY_DEV_STAMP): $(PY_STAMP) requirements-dev.txt
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-compile -r requirements-dev.txt -c constraints.txt
	$(VENV)/bin/python scripts/precompile.py $(DEV_MODULES)
	@touch $@

# Not compiled here: checkov's first scan (tests/stacks/test_scanners.py runs it with bytecode writing on)
# compiles and writes the ~3,800 modules it imports, about half of the 6,400 that compileall compiled.
$(CHECKOV_STAMP): requirements-checkov.txt | $(VENV)/bin/python
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-compile --no-deps -r requirements-checkov.txt
	$(CHECKOV_VENV)/bin/python -m pip check --disable-pip-version-check
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@test "$$(node --version | cut -d. -f1)" = "v22" || { echo "node_modules/.bin/node is not Node 22" >&2; exit 1; }
	@touch $@

## synth: synthesize the default app with every compliance gate; prints the templates and the storage URI
synth: $(PY_STAMP) $(NODE_STAMP)
	rm -rf $(CDK_OUT)
	$(CDK) synth --quiet --output $(CDK_OUT) $(ARGS)
	$(VENV)/bin/python scripts/synth_summary.py $(CDK_OUT)

## lint: ruff (lint and format) and mypy --strict
lint: ruff
	$(VENV)/bin/mypy

ruff: $(PY_DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## test: ruff, then the whole test suite with mypy --strict beside it
# mypy (cold in a fresh clone: ~8 s of CPU) runs beside pytest and fills the cores pytest leaves
# idle (start-up, the last tests); its report follows pytest's, and either failing fails the target.
test: ruff $(NODE_STAMP) $(CHECKOV_STAMP)
	@mypy_log=$$(mktemp); $(VENV)/bin/mypy > "$$mypy_log" 2>&1 & mypy_pid=$$!; \
	status=0; $(VENV)/bin/python -m pytest -n 2 -q || status=$$?; \
	if wait "$$mypy_pid"; then tail -n 1 "$$mypy_log"; else cat "$$mypy_log"; status=1; fi; \
	rm -f "$$mypy_log"; exit "$$status"

## bench: fresh-clone set-up, synth cost vs a bare app, prover times, migrate vs the AWS CLI, test-suite time
bench: $(PY_DEV_STAMP) $(NODE_STAMP)
	$(VENV)/bin/python scripts/bench.py

## deploy: cdk deploy for users with AWS credentials (and a bootstrapped account); settings in ARGS.
## STACKS: the recordings stack (and the us-east-1 IAM events stack it depends on) by default; the
## guardrails stack deploys with the management account's credentials: STACKS=TeleportSessionRecordingsGuardrails
STACKS ?= TeleportSessionRecordings
deploy: $(PY_STAMP) $(NODE_STAMP)
	$(CDK) deploy $(STACKS) $(ARGS) $(CDK_DEPLOY_ARGS)

## import: phase 1 of adopting an existing bucket (README: The bucket a team already has): synthesize the
## import template (the bucket alone), write the resource mapping, and `cdk import` it; needs AWS credentials.
## Then `make deploy` with the same ARGS (without bucketImportPhase) sets the bucket up in place.
IMPORT_MAPPING := $(CDK_OUT)/import-mapping.json
import: $(PY_STAMP) $(NODE_STAMP)
	rm -rf $(CDK_OUT)
	$(CDK) synth --quiet --output $(CDK_OUT) -c existingBucket=true -c bucketImportPhase=true $(ARGS)
	$(VENV)/bin/python scripts/import_mapping.py $(CDK_OUT)/$(STACKS).template.json $(IMPORT_MAPPING)
	$(CDK) import $(STACKS) --app $(CDK_OUT) --resource-mapping $(IMPORT_MAPPING) $(CDK_IMPORT_ARGS)

## docs: regenerate the README's settings tables from the settings model
docs: $(PY_STAMP)
	$(VENV)/bin/python scripts/settings_table.py README.md

clean:
	rm -rf $(CDK_OUT) $(PY_STAMP) $(PY_DEV_STAMP) $(CHECKOV_STAMP) $(NODE_STAMP) .pytest_cache .mypy_cache .ruff_cache
