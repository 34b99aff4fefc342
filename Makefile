# The lab's tasks. `make help` lists them. Two commands on a fresh machine: `make reports`, `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
LAB := $(BIN)/lab
# uv compiles bytecode: this machine sets PYTHONDONTWRITEBYTECODE=1, which triples import times otherwise.
export UV_COMPILE_BYTECODE := 1
export UV_LINK_MODE := copy
# The demo's scale: empty = lab's default (1 % of the portal's published usage, seconds to make);
# SCALE=1 = the portal's real size (4.68M visits, 1.2M API calls: ~1 min, 4 GB of logs), in a folder and
# usage store of its own so the two never mix.
SCALE ?=
# Where the demo portal is generated (git-ignored).
DEMO_DIR ?= data/demo$(if $(SCALE),-scale-$(SCALE))
DEMO_ENV = LAB_DEMO=$(DEMO_DIR) $(if $(SCALE),LAB_USAGE_STORE=data/store-scale-$(SCALE))
PERIOD ?=

$(UV):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv>=0.13,<0.14"

$(VENV)/.installed-main: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --inexact --python $(BIN)/python
	@touch $@

$(VENV)/.installed-dev: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --inexact --extra dev --extra cluster --python $(BIN)/python
	@touch $@ $(VENV)/.installed-main

.PHONY: help install install-dev chromium demo reports test lint bench app lab lab-vi docs lock clean

help: ## List the tasks
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: $(VENV)/.installed-main ## Create .venv and install the lab (from uv.lock)

install-dev: $(VENV)/.installed-dev ## Install the lab with the test and lint tools

chromium: ## Install Debian chromium for the browser tests (when missing and root)
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || { echo "could not install Debian chromium: browser tests will fail"; exit 1; }; \
	  else echo "Debian chromium is missing: run 'sudo apt-get install chromium' for the browser tests"; fi; \
	fi

demo: install ## Generate the synthetic demo portal into data/demo (if missing; SCALE=1: real size)
	@test -f $(DEMO_DIR)/manifest.json || $(LAB) demo --out $(DEMO_DIR) $(if $(SCALE),--scale $(SCALE))

reports: demo ## The main job: run the due reports over the demo portal into reports/ (PERIOD=..., SCALE=1)
	$(DEMO_ENV) $(LAB) reports run $(if $(PERIOD),--period $(PERIOD),--due)

test: install-dev chromium ## Install the dev tools and run the whole test suite
	$(BIN)/python -m pytest

lint: install-dev ## ruff over the library, tests and benchmarks; mypy over the library
	$(BIN)/ruff check lab tests bench
	$(BIN)/ruff format --check lab tests bench
	$(BIN)/mypy

bench: install-dev ## Benchmarks: ratios against a baseline measured in the same run
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

app: demo ## Serve the Voilà apps on 127.0.0.1 (PORT=8866)
	$(DEMO_ENV) $(LAB) apps serve --port $${PORT:-8866}

lab: install ## JupyterLab on 127.0.0.1 with a token, on the project kernel (PORT=8888, LAB_TOKEN=...)
	$(BIN)/python -m lab.workbench

lab-vi: install ## make lab, with JupyterLab's Vietnamese language pack
	$(UV) sync --frozen --inexact --extra vi --python $(BIN)/python
	$(BIN)/python -m lab.workbench

docs: install-dev ## Reference docs (generated CLI and catalog pages, API from docstrings) into site/
	$(BIN)/python -m lab.docs_gen docs
	$(BIN)/mkdocs build --strict

lock: ## Re-resolve uv.lock after editing pyproject.toml
	$(UV) lock

clean: ## Remove the venv, caches and the generated demo portal (reports stay)
	rm -rf $(VENV) data/cache data/demo data/demo-scale-* data/store-scale-* .pytest_cache .ruff_cache .mypy_cache
