"""Inventory data is data: no value read from the inventory is ever evaluated as a template.

Ansible marks what it reads from inventory files as trusted templates. The model hands plays plain,
untagged data (which Ansible never renders), every structure in it is schema-checked, and no
playbook or role reads an inventory variable other than through the model.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible.template import is_trusted_as_template

from hypertopo.topology.inventory import INVENTORY_VARS

from .invgen import good_tree, write_inventory

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "filter_plugins" / "hypertopo_topology.py"
_spec = importlib.util.spec_from_file_location("_filters_hypertopo_topology_data", PLUGIN)
assert _spec and _spec.loader
_filters = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_filters)
topology_model = _filters.FilterModule().filters()["topology_model"]


def _pipe(marker: Path) -> str:
    return f"{{{{ lookup('pipe', 'touch {marker}') }}}}"


def _inventory(root: Path, network: dict[str, Any], marker: Path) -> Path:
    tree = copy.deepcopy(good_tree())
    tree["all"]["topology_network"] = network
    tree["all"]["topology_gpu_models"] = {"mi300x": {"label": "mi300x", "description": _pipe(marker)}}
    tree["hosts"]["leaf-a"]["n0"]["rack"] = _pipe(marker)  # a variable the model does not read
    return write_inventory(root, tree)


def _walk(value: Any, path: str = "") -> list[tuple[str, Any]]:
    out = [(path, value)]
    if isinstance(value, dict):
        for k, v in value.items():
            out += [(f"{path}.{k}#key", k), *_walk(v, f"{path}.{k}")]
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _walk(v, f"{path}[{i}]")
    return out


def test_the_model_is_plain_untrusted_data(tmp_path):
    marker = tmp_path / "ran"
    network = {"roles": {"prefill": [f"{_pipe(marker)}prefill"], "decode": ["decode"]}}
    model = topology_model([str(_inventory(tmp_path, network, marker))])
    assert model["network"]["roles"]["prefill"] == [f"{_pipe(marker)}prefill"]
    plain_types = (dict, list, str, int, float, bool, type(None))
    for path, value in _walk(model):
        assert type(value) in plain_types, f"{path}: {type(value).__name__}"
        assert not is_trusted_as_template(value), path
    assert not marker.exists()


@pytest.mark.parametrize(
    ("network", "expected"),
    [
        (
            {"classes": {"same_ib_leaf": {"latency_us": "{{ 2 }}"}}},
            "topology_network.classes.same_ib_leaf.latency_us: "
            "must be a positive number up to 1e+15, got '{{ 2 }}'",
        ),
        ({"clases": {}}, "topology_network.clases: unknown field (one of classes, kv_model"),
        (
            {"kv_model": {"layers": "{{ 80 }}"}},
            "topology_network.kv_model.layers: must be a positive integer",
        ),
        (
            {"roles": {"prefill": "prefill"}},
            "topology_network.roles.prefill: must be a list of non-empty strings",
        ),
        ("{{ {'classes': {}} }}", "topology_network is '{{ {'classes': {}} }}', not a mapping"),
    ],
)
def test_network_overrides_are_schema_checked_where_written(tmp_path, network, expected):
    inv = write_inventory(
        tmp_path, {**good_tree(), "all": {**good_tree()["all"], "topology_network": network}}
    )
    with pytest.raises(AnsibleFilterError) as err:
        topology_model([str(inv)])
    text = str(err.value)
    assert "(1 problem(s))" in text, text
    assert "group 'all' (" in text and "group_vars/all.yml:" in text
    assert expected in text, text


PLAYBOOK_ENV = {
    **os.environ,
    "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
    "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
}


def _plan(inventory: Path, plan_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            str(inventory),
            "playbooks/plan.yml",
            "-e",
            f"plan_dir={plan_dir}",
            # the tree has one node of 8 H100 and one of 8 RTX 4090: a plan that can be placed
            "-e",
            "pd_services_prefill_replicas=8",
            "-e",
            "pd_services_decode_replicas=8",
        ],
        cwd=ROOT,
        env=PLAYBOOK_ENV,
        capture_output=True,
        text=True,
        check=False,
    )


def test_plan_never_runs_jinja_from_the_inventory(tmp_path):
    """plan.yml reads the network overrides (through the model): a lookup in them stays text."""
    marker = tmp_path / "ran"
    network = {"roles": {"prefill": [f"{_pipe(marker)}prefill", "prefill"], "decode": ["decode"]}}
    proc = _plan(_inventory(tmp_path / "a", network, marker), tmp_path / "plan")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (tmp_path / "plan" / "report.json").is_file()
    assert not marker.exists()

    bad = {"classes": {"same_ib_leaf": {"latency_us": f"{_pipe(marker)}2"}}}
    proc = _plan(_inventory(tmp_path / "b", bad, marker), tmp_path / "plan-b")
    assert proc.returncode != 0
    assert "topology_network.classes.same_ib_leaf.latency_us: must be a positive number" in proc.stdout
    assert not marker.exists()
    assert not (tmp_path / "plan-b").exists()


def test_plays_read_inventory_variables_only_through_the_model():
    """No task, default, template or playbook names an inventory variable or hostvars/groups."""
    names = re.compile(r"\b(" + "|".join((*INVENTORY_VARS, "hostvars", "groups", "group_names")) + r")\b")
    files = [
        p
        for p in [
            *ROOT.glob("roles/*/*/*.yml"),
            *ROOT.glob("roles/*/templates/*"),
            *ROOT.glob("playbooks/*.yml"),
            *ROOT.glob("playbooks/tasks/*.yml"),
        ]
        if p.parent.name != "meta"
    ]
    assert files
    hits = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in files for m in names.finditer(_code(p))]
    assert hits == []


def _code(path: Path) -> str:
    """A file's text without its comments (YAML) so that documentation may name variables."""
    if path.suffix != ".yml":
        return path.read_text()
    return yaml.safe_dump(yaml.safe_load(path.read_text()))
