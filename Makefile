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
# The PD layouts `make run` rolls out and `make plan` predicts (RUN_LAYOUTS: the older name).
LAYOUTS   ?= seed joint deployment
RUN_LAYOUTS ?= $(LAYOUTS)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help venv chromium lint unit check integration agreement molecule test run plan render clean collection sanity

help:
	@echo "make run     - build what is missing, start the local control plane, roll out the three PD layouts, print the reports"
	@echo "make test    - lint + sanity + unit + integration + molecule (starts the local control plane)"
	@echo "make check   - the quick part of make test: lint + unit (no control plane)"
	@echo "make plan    - offline: predict the placement of the three PD layouts on the inventory ($(INVENTORY)), reports in $(OUT)/plan/<layout>"
	@echo "make collection - build the collection hypertopo.volcano and the hypertopo wheel into dist/"
	@echo "make sanity  - ansible-test sanity on the built collection (offline, this venv)"
	@echo "make render  - offline render of the inventory ($(INVENTORY)) into $(OUT)/render"
	@echo "(run, plan, render and cluster-up take INVENTORY=path, default inventory/seed)"
	@echo "make cluster-up / cluster-down / cluster-status"

# Also byte-compiles the project's own Python (src/, the plugins): every ansible-playbook, CLI and
# pytest process imports it, and with PYTHONDONTWRITEBYTECODE set (as on our CI machines) Python
# would otherwise compile its 25,000 lines again in each of them (an import of every module:
# 2.2 s without the .pyc files, 0.25 s with them). Up to date, this takes a fraction of a second;
# a .pyc older than its source is ignored by Python, so it is never wrong, only slower.
venv: $(VENV)/.installed
	@$(VENV_PY) -m compileall -q src filter_plugins action_plugins >/dev/null

$(VENV)/.installed: requirements.txt pyproject.toml
	@echo "[venv] creating $(VENV) and installing pinned requirements (about 1-2 minutes the first time)"
	test -x $(VENV_PY) || $(PYTHON) -m venv $(VENV)
	$(VENV_PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(VENV_PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

chromium:
	@scripts/install-chromium.sh

lint: venv
	ruff check src tests bench scripts filter_plugins action_plugins $(COLLECTION_SRC)/plugins/modules $(COLLECTION_SRC)/plugins/plugin_utils
	ruff format --check src tests bench scripts filter_plugins action_plugins $(COLLECTION_SRC)/plugins/modules $(COLLECTION_SRC)/plugins/plugin_utils
	yamllint -s .
	ansible-lint --offline --profile production

# pytest workers (pytest-xdist): the unit tests spread over UNIT_WORKERS processes, the integration
# tests over INTEGRATION_WORKERS (whole files per worker: a file's private control plane starts
# once; each worker has its own shared control plane, tests/cluster_plugin.py). 0 = no workers.
UNIT_WORKERS        ?= 2
INTEGRATION_WORKERS ?= 2

# Each test's worker, start, end and CPU go to $(OUT)/test-logs/<target>-timeline.tsv
# (bench/test_timeline.py summarises it: are the workers balanced, which files cost the most).
TIMELINE = HYPERTOPO_TEST_TIMELINE=$(abspath $(OUT))/test-logs/$@-timeline.tsv

unit: venv chromium
	@mkdir -p $(OUT)/test-logs && rm -f $(OUT)/test-logs/$@-timeline.tsv
	$(TIMELINE) pytest -q --durations=15 -n $(UNIT_WORKERS) -m "not cluster"

# The quick part of `make test`, no control plane: lint and the unit tests, at once (each
# target's output is printed when it ends).
check: venv chromium
	@$(MAKE) --no-print-directory -j2 --output-sync=target lint unit

integration: venv build-controlplane
	@mkdir -p $(OUT)/test-logs && rm -f $(OUT)/test-logs/$@-timeline.tsv
	$(TIMELINE) pytest -q --durations=40 -n $(INTEGRATION_WORKERS) --dist loadfile -m "cluster and not slow"

# The full randomized agreement run against the real vc-scheduler (>= 50 scenarios; writes
# docs/agreement-report.md). Not part of `make test` because of its length; its subset is.
agreement: venv build-controlplane
	pytest -q -m "cluster and slow" tests/agreement

molecule: venv build-controlplane
	molecule/run-all.sh

# Every suite CI runs, in three lanes at once (scripts/test-all.sh): lint, sanity and unit one
# after the other; integration; molecule. Logs in out/test-logs/, a status line every minute.
test: venv chromium build-controlplane
	@scripts/test-all.sh

render: venv
	rm -rf $(OUT)/render
	ansible-playbook -i $(INVENTORY) playbooks/render.yml -e render_dir=$(abspath $(OUT))/render

# Offline plan (no cluster): the placement of each layout predicted from the inventory alone.
# Fails before writing when the inventory lacks the GPU models the PD roles ask for, and after
# writing a layout's report when one of its workloads cannot be placed at all.
plan: venv
	@for layout in $(LAYOUTS); do \
	  echo "[plan] layout $$layout"; \
	  ansible-playbook -i $(INVENTORY) playbooks/plan.yml -e pd_services_layout=$$layout \
	    -e plan_dir=$(abspath $(OUT))/plan/$$layout || exit 1; \
	done; \
	echo; echo "Plans:"; \
	for layout in $(LAYOUTS); do echo "  $(abspath $(OUT))/plan/$$layout/report.txt  (.html, .json, hints.json)"; done

# The main job: local control plane with the inventory's simulated nodes, then the three PD
# layouts (seed, joint, deployment), each in its own namespace pd-<layout>, verified and reported.
run: venv build-controlplane
	@mkdir -p $(OUT)
	@echo "[run] starting the local control plane with the nodes of $(INVENTORY)"
	@set -o pipefail; $(VENV_PY) -m hypertopo.cluster.cli up --inventory $(INVENTORY) | tee $(OUT)/cluster-up.log
	@kc=$$(sed -n 's/^KUBECONFIG=//p' $(OUT)/cluster-up.log | tail -1); \
	test -n "$$kc" || { echo "[run] the control plane did not report a KUBECONFIG (see $(OUT)/cluster-up.log)"; exit 1; }; \
	for layout in $(RUN_LAYOUTS); do \
	  echo "[run] rollout: site.yml, layout $$layout (namespace pd-$$layout)"; \
	  KUBECONFIG=$$kc ansible-playbook -i $(INVENTORY) playbooks/site.yml \
	    -e pd_services_layout=$$layout -e pd_services_namespace=pd-$$layout \
	    -e placement_report_dir=$(abspath $(OUT))/report/$$layout || exit 1; \
	done; \
	echo; echo "Reports:"; \
	for layout in $(RUN_LAYOUTS); do echo "  $(abspath $(OUT))/report/$$layout/report.html  (.txt, .json)"; done; \
	echo; echo "The local control plane keeps running; stop it with: make cluster-down"; \
	echo "KUBECONFIG=$$kc"

# The collection hypertopo.volcano (README, "As a collection"). collections/ansible_collections/
# hypertopo/volcano is the collection as the repository uses it (symlinks to roles/, playbooks/,
# filter_plugins/, action_plugins/); the staging tree is that directory with the links followed,
# which is what `ansible-galaxy collection build` and `ansible-test sanity` read.
COLLECTION_SRC   := collections/ansible_collections/hypertopo/volcano
# DIST and COLLECTION_BUILD may point elsewhere (the tests build into a temporary folder).
DIST             ?= dist
COLLECTION_BUILD ?= build/collection
COLLECTION_STAGE  = $(COLLECTION_BUILD)/ansible_collections/hypertopo/volcano
COLLECTION_VERSION = $(shell sed -n 's/^version: //p' $(COLLECTION_SRC)/galaxy.yml)

collection: venv
	rm -rf $(COLLECTION_BUILD) build/lib build/bdist.*
	mkdir -p $(dir $(COLLECTION_STAGE)) $(DIST)
	cp -rL $(COLLECTION_SRC) $(COLLECTION_STAGE)
	find $(COLLECTION_STAGE) -name __pycache__ -prune -exec rm -rf {} +
	rm -f $(DIST)/hypertopo-volcano-*.tar.gz $(DIST)/hypertopo-*.whl
	$(VENV_PY) -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation -w $(DIST) .
	ansible-galaxy collection build --force --output-path $(DIST) $(COLLECTION_STAGE)
	@echo "[collection] $(DIST)/hypertopo-volcano-$(COLLECTION_VERSION).tar.gz, $(DIST)/hypertopo-$(COLLECTION_VERSION)-py3-none-any.whl"

# ansible-test sanity on the staging tree (its own git repository, so ansible-test lists its files;
# the repository's .gitignore hides build/). ansible-test's virtual environments bootstrap pip with a
# script from ci-files.testing.ansible.com, unreachable here: scripts/ansible-test-get-pip.py stands
# in for it, in a HOME of its own under build/ (the user's ~/.ansible is left alone). The
# requirements of the sanity tests come from PyPI. SANITY_ARGS adds options (e.g. --test import).
SANITY_HOME ?= $(CURDIR)/build/sanity-home
SANITY_ARGS ?=

sanity: collection
	mkdir -p $(SANITY_HOME)/.ansible/test/cache
	cp scripts/ansible-test-get-pip.py $(SANITY_HOME)/.ansible/test/cache/get_pip_24_2.py
	cd $(COLLECTION_STAGE) && git init -q . && \
	  env -u ANSIBLE_CONFIG HOME=$(SANITY_HOME) ansible-test sanity --local --python 3.11 --color no $(SANITY_ARGS)

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache build dist

-include Makefile.cluster
