"""filter_plugins/hypertopo_explain.py (topology_explain, topology_explain_table) and
playbooks/explain.yml, without a cluster: the filters on k8s_info-shaped inputs, run by Ansible."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from tests.placement.test_explain import seed_big_prefill

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def plugin():
    path = ROOT / "filter_plugins" / "hypertopo_explain.py"
    spec = importlib.util.spec_from_file_location("_hypertopo_explain", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def k8s_info(items):
    return {"changed": False, "resources": items, "api_found": True}


def test_explains_the_seed_variant_from_k8s_info_results():
    inputs = seed_big_prefill()
    result = plugin().topology_explain(
        k8s_info(inputs["jobs"]),
        job="pd/big-prefill",
        nodes=k8s_info(inputs["nodes"]),
        hypernodes=k8s_info(inputs["hypernodes"]),
        pods=k8s_info([]),
    )
    assert result["status"] == "infeasible"
    assert result["suggestions"][0]["change"] == {"set_tier": {"job": "pd/big-prefill", "tier": 2}}
    table = plugin().topology_explain_table(result)
    assert "tier 1:" in table and "-> places the job" in table


def test_the_priority_classes_given_set_the_job_priority():
    inputs = seed_big_prefill()
    inputs["jobs"][0]["spec"]["priorityClassName"] = "pd-high"
    pc = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "pd-high"}}
    args = {"job": "pd/big-prefill", "nodes": inputs["nodes"], "hypernodes": inputs["hypernodes"]}
    without = plugin().topology_explain(inputs["jobs"], suggest=False, **args)
    given = plugin().topology_explain(
        inputs["jobs"], suggest=False, priority_classes=k8s_info([{**pc, "value": 1000}]), **args
    )
    assert any("priorityClassName 'pd-high'" in w for w in without["warnings"])
    assert not any("priorityClassName 'pd-high'" in w for w in given["warnings"])


def test_an_unknown_job_is_a_filter_error_naming_the_namespace_workloads():
    inputs = seed_big_prefill()
    with pytest.raises(AnsibleFilterError, match=r"job pd/other not found; in pd: Job big-prefill"):
        plugin().topology_explain(inputs["jobs"], job="pd/other", nodes=inputs["nodes"])


def test_playbook_syntax():
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "--syntax-check", "playbooks/explain.yml", "-e", "explain_job=pd/x"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_filters_run_in_ansible(tmp_path):
    """The filters as the playbook calls them (Ansible's templating and data types)."""
    inputs = seed_big_prefill()
    for key in ("jobs", "nodes", "hypernodes"):
        (tmp_path / f"{key}.json").write_text(json.dumps(k8s_info(inputs[key])))
    play = tmp_path / "play.yml"
    play.write_text(
        f"""
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    jobs: "{{{{ lookup('file', '{tmp_path}/jobs.json') | from_json }}}}"
    nodes: "{{{{ lookup('file', '{tmp_path}/nodes.json') | from_json }}}}"
    hns: "{{{{ lookup('file', '{tmp_path}/hypernodes.json') | from_json }}}}"
  tasks:
    - ansible.builtin.set_fact:
        why: "{{{{ [jobs.resources] | flatten
                 | hypertopo.volcano.topology_explain(job='pd/big-prefill', nodes=nodes.resources,
                   hypernodes=hns.resources, pods=[]) }}}}"
    - ansible.builtin.copy:
        content: "{{{{ why | to_json }}}}"
        dest: "{tmp_path}/why.json"
        mode: "0644"
    - ansible.builtin.debug:
        msg: "{{{{ (why | hypertopo.volcano.topology_explain_table).splitlines() }}}}"
"""
    )
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), str(play)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    why = json.loads((tmp_path / "why.json").read_text())
    assert why["status"] == "infeasible" and why["suggestions"][0]["predicted_feasible"] is True
    assert "raise the tier" in proc.stdout
