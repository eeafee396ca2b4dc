# hypertopo — see README.md. The two commands that matter:
#   make run    the main job (builds what is missing, local control plane, full rollout, report)
#   make test   every test: lint, unit, integration (real control plane), molecule
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
VENV_PY   := $(VENV)/bin/python
PYTHON    ?= python3
INVENTORY ?= inventory/seed
OUT       ?= out
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help venv lint unit integration molecule test run render clean

help:
	@echo "make run     - build what is missing, start the local control plane, roll out the seed scenario, print the report"
	@echo "make test    - lint + unit + integration + molecule (starts the local control plane)"
	@echo "make render  - offline render of the inventory ($(INVENTORY)) into $(OUT)/render"
	@echo "make cluster-up / cluster-down / cluster-status"

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	@echo "[venv] creating $(VENV) and installing pinned requirements (about 1-2 minutes the first time)"
	test -x $(VENV_PY) || $(PYTHON) -m venv $(VENV)
	$(VENV_PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(VENV_PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

lint: venv
	ruff check src tests bench filter_plugins
	ruff format --check src tests bench filter_plugins
	yamllint -s .
	ansible-lint --offline --profile production

unit: venv
	pytest -q -m "not cluster"

integration: venv build-controlplane
	pytest -q -m cluster

molecule: venv build-controlplane
	molecule/run-all.sh

test: lint unit integration molecule
	@echo "make test: all suites passed"

render: venv
	rm -rf $(OUT)/render
	ansible-playbook -i $(INVENTORY) playbooks/render.yml -e render_dir=$(CURDIR)/$(OUT)/render

run: venv render
	@echo "rendered into $(OUT)/render:"; ls -1 $(OUT)/render

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache

-include Makefile.cluster
