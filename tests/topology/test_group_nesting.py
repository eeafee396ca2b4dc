"""Ansible group nesting is accepted where it agrees with topology_switch.parent, refused (with the
right fix) where it does not. The tree itself is always read from ``parent``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hypertopo.topology import TopologyError, load_topology

SWITCHES = {
    "core": {"tier": 3, "type": "ethernet"},
    "agg": {"tier": 2, "type": "ib", "parent": "core"},
    "leaf-a": {"tier": 1, "type": "ib", "parent": "agg"},
    "leaf-b": {"tier": 1, "type": "ib", "parent": "agg"},
}
HOSTS_A = {"n0": {"gpu_model": "h100"}, "n1": {"gpu_model": "a100"}}
HOSTS_B = {"n2": {"gpu_model": "h100"}}


def write(root: Path, children: dict[str, Any], switches: dict[str, Any] = SWITCHES) -> str:
    inv = root / "inv"
    (inv / "group_vars").mkdir(parents=True)
    (inv / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": children}}, sort_keys=False))
    for name, spec in switches.items():
        (inv / "group_vars" / f"{name}.yml").write_text(yaml.safe_dump({"topology_switch": spec}))
    (inv / "group_vars" / "all.yml").write_text(
        yaml.safe_dump({"gpu_count": 8, "node_cpu": "64", "node_memory": "512Gi"})
    )
    return str(inv)


def test_leaves_nested_under_their_parent_are_accepted(tmp_path):
    children = {
        "core": {
            "children": {
                "agg": {"children": {"leaf-a": {"hosts": HOSTS_A}, "leaf-b": {"hosts": HOSTS_B}}},
            }
        }
    }
    topo = load_topology(write(tmp_path / "ok", children))
    assert topo.root == "core"
    assert {h.name: h.leaf for h in topo.hosts.values()} == {"n0": "leaf-a", "n1": "leaf-a", "n2": "leaf-b"}
    assert topo.switches["agg"].children == ("leaf-a", "leaf-b")
    # a host under two nested leaves is still in two leaves
    agg = children["core"]["children"]["agg"]["children"]
    agg["leaf-b"] = {"hosts": {**HOSTS_B, "n0": {}}}
    with pytest.raises(TopologyError, match=r"host 'n0' .*is in 2 switch groups \['leaf-a', 'leaf-b'\]"):
        load_topology(write(tmp_path / "twice", children))


def test_a_leaf_nested_under_a_higher_ancestor_is_accepted(tmp_path):
    children = {"core": {"children": {"leaf-a": {"hosts": HOSTS_A}}}, "agg": {}, "leaf-b": {"hosts": HOSTS_B}}
    assert load_topology(write(tmp_path, children)).hosts["n0"].leaf == "leaf-a"


def test_non_switch_groups_inside_a_leaf_are_accepted(tmp_path):
    children = {
        "core": {},
        "agg": {},
        "leaf-a": {"children": {"rack1": {"hosts": HOSTS_A}}},
        "leaf-b": {"hosts": HOSTS_B},
    }
    topo = load_topology(write(tmp_path, children))
    assert topo.hosts["n1"].leaf == "leaf-a"
    assert topo.switches["leaf-a"].hosts == ("n0", "n1")


def test_nesting_that_disagrees_with_the_parent_is_refused_with_the_right_fix(tmp_path):
    switches = {**SWITCHES, "agg2": {"tier": 2, "type": "ib", "parent": "core"}}
    children = {
        "core": {},
        "agg": {},
        "agg2": {"children": {"leaf-a": {"hosts": HOSTS_A}}},
        "leaf-b": {"hosts": HOSTS_B},
    }
    with pytest.raises(TopologyError) as err:
        load_topology(write(tmp_path, children, switches))
    text = str(err.value)
    assert len(err.value.problems) == 1, text
    assert (
        "group 'leaf-a' is nested under switch group 'agg2' in the hosts file, but its parent is 'agg'"
        in text
    )
    assert "set topology_switch.parent: agg2, or move 'leaf-a' out from under 'agg2'" in text


def test_nesting_without_a_parent_is_refused_without_a_second_root_line(tmp_path):
    switches = {**SWITCHES, "leaf-a": {"tier": 1, "type": "ib"}}
    children = {
        "core": {"children": {"agg": {"children": {"leaf-a": {"hosts": HOSTS_A}}}}},
        "leaf-b": {"hosts": HOSTS_B},
    }
    with pytest.raises(TopologyError) as err:
        load_topology(write(tmp_path, children, switches))
    text = str(err.value)
    assert len(err.value.problems) == 1, text
    assert "nested under switch group 'agg' in the hosts file, but it sets no parent" in text
    assert "set topology_switch.parent: agg" in text
