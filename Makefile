# Everything a developer or CI needs; `make demo` and `make test` are the README's two commands.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The Lambda runtime is python3.12: use it when this machine has it (pyenv included), else python3 (>= 3.11).
PYTHON ?= $(shell for p in python3.12 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 2>/dev/null | sort -V | tail -1) python3; do \
	  $$p -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null && { command -v $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .venv-tools
STAMP := $(VENV)/.installed

# sam build needs a real python3.12 on PATH (the Lambda runtime); empty when this machine has none.
PY312 := $(shell for p in python3.12 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 2>/dev/null | sort -V | tail -1); do \
	  $$p -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && { command -v $$p; break; }; done)
export SAM_CLI_TELEMETRY := 0

.PHONY: help venv tools test lint typecheck openapi openapi-check demo serve bench bench-design bench-load fuzz fuzz-quick cfn-lint sam-validate sam-build check clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): requirements-dev.txt layers/shared/requirements.txt layers/imaging/requirements.txt layers/vectors/requirements.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python >= 3.11 is required" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

venv: $(STAMP)  ## Create .venv with the project and its dev dependencies

$(TOOLS)/.installed: requirements-tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/bin/python -m pip install --quiet -r requirements-tools.txt
	@touch $@

tools: $(TOOLS)/.installed  ## Create .venv-tools with the SAM CLI (it pins its own boto3, so it lives apart)

test: $(STAMP)  ## Run the whole test suite (unit, contract, integration)
	$(BIN)/python -m pytest -q

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check .

typecheck: $(STAMP)  ## pyright over the shared layer and the local runtime (zero errors)
	PYRIGHT_PYTHON_CACHE_DIR=$(CURDIR)/$(VENV)/.pyright $(BIN)/pyright

cfn-lint: $(STAMP)  ## cfn-lint on template.yaml (zero errors, zero warnings)
	$(BIN)/cfn-lint template.yaml

sam-validate: $(TOOLS)/.installed  ## sam validate --lint
	$(TOOLS)/bin/sam validate --lint

sam-build: $(TOOLS)/.installed  ## sam build (needs python3.12; skipped with a message when absent)
	@if [ -z "$(PY312)" ]; then echo "sam-build: SKIPPED, no python3.12 on this machine (the Lambda runtime)"; \
	else PATH="$(dir $(PY312)):$$PATH" PYTHON="$(PY312)" $(TOOLS)/bin/sam build; fi

bench: $(STAMP) $(TOOLS)/.installed  ## Performance budgets: cold init and package size -> bench/results/
	$(BIN)/python -m bench.run

BENCH_VENV := .venv-bench

$(BENCH_VENV)/.installed: requirements-bench.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -r requirements-bench.txt
	@touch $@

bench-design: $(STAMP) $(BENCH_VENV)/.installed  ## Design quality (structure, colour roles, OCR legibility, logo, crops) -> bench/results/
	$(BIN)/python -m bench.design_quality --sheets

fuzz: $(STAMP)  ## schemathesis against `sgd serve` (>= 3,000 requests, every check) -> bench/results/fuzz.*
	$(BIN)/python -m bench.fuzz --max-examples 150 --out bench/results

fuzz-quick: $(STAMP)  ## CI's slice of `make fuzz`: a few examples per operation
	$(BIN)/python -m bench.fuzz --quick

bench-load: $(STAMP)  ## Load suite against `sgd serve` on loopback (soak, spike, saturation, fairness; ~8 min)
	$(BIN)/python -m bench.load

check: lint typecheck openapi-check cfn-lint sam-validate sam-build test fuzz-quick  ## Everything CI runs

openapi: $(STAMP)  ## Write docs/openapi.json from the code
	$(BIN)/sgd openapi --output docs/openapi.json

openapi-check: $(STAMP)  ## Fail when docs/openapi.json drifts from the code
	$(BIN)/sgd openapi --check docs/openapi.json

demo: $(STAMP)  ## The main job: the end-to-end demo on the embedded defaults
	$(BIN)/sgd demo

serve: $(STAMP)  ## The Docker-free local runtime on 127.0.0.1:3000
	$(BIN)/sgd serve

clean:  ## Remove build output and local state
	rm -rf .aws-sam .sgd out $(VENV) $(TOOLS) $(BENCH_VENV)
