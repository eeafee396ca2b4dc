"""The model rejects bad inventories with one error naming every problem, its place and the fix."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from hypertopo.topology import TopologyError, load_topology

from .invgen import good_tree, write_inventory

Mutator = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutator:
    def mutate(tree: dict[str, Any]) -> None:
        keys = path.split(".")
        cur = tree
        for k in keys[:-1]:
            cur = cur[k]
        cur[keys[-1]] = value

    return mutate


def _del(path: str) -> Mutator:
    def mutate(tree: dict[str, Any]) -> None:
        keys = path.split(".")
        cur = tree
        for k in keys[:-1]:
            cur = cur[k]
        del cur[keys[-1]]

    return mutate


def _host_in_two_leaves(tree: dict[str, Any]) -> None:
    tree["hosts"]["leaf-b"]["n0"] = {"gpu_model": "h100"}


def _host_in_no_leaf(tree: dict[str, Any]) -> None:
    tree["hosts"]["ungrouped"] = {"stray": {"gpu_model": "h100"}}


def _cycle(tree: dict[str, Any]) -> None:
    tree["switches"]["core"] = {"tier": 3, "type": "ethernet", "parent": "agg"}
    tree["switches"]["agg"]["parent"] = "core"
    tree["switches"]["agg"]["tier"] = 4


def _two_roots(tree: dict[str, Any]) -> None:
    tree["switches"]["agg2"] = {"tier": 2, "type": "ethernet"}
    tree["switches"]["leaf-c"] = {"tier": 1, "type": "ethernet", "parent": "agg2"}
    tree["hosts"]["leaf-c"] = {"n9": {"gpu_model": "a100"}}


def _no_root(tree: dict[str, Any]) -> None:
    tree["switches"]["agg"]["parent"] = "agg"


def _duplicate_name(tree: dict[str, Any]) -> None:
    tree["switches"]["leaf-b"]["name"] = "leaf-a"


def _empty_leaf(tree: dict[str, Any]) -> None:
    tree["switches"]["leaf-c"] = {"tier": 1, "type": "ib", "parent": "agg"}


def _host_on_aggregation(tree: dict[str, Any]) -> None:
    tree["hosts"]["agg"] = {"n7": {"gpu_model": "h100"}}


CASES: list[tuple[str, Mutator, list[str]]] = [
    ("host in two leaves", _host_in_two_leaves, ["host 'n0'", "is in 2 switch groups", "exactly one leaf"]),
    ("host in no leaf", _host_in_no_leaf, ["host 'stray'", "is in no leaf switch group"]),
    (
        "switch without tier",
        _del("switches.leaf-a.tier"),
        ["group 'leaf-a'", "group_vars/leaf-a.yml", "has no tier"],
    ),
    ("tier not an integer", _set("switches.leaf-a.tier", "one"), ["group 'leaf-a'", "not an integer >= 1"]),
    (
        "parent tier not greater",
        _set("switches.agg.tier", 1),
        ["group 'leaf-a'", "parent 'agg' has tier 1, not greater than 'leaf-a' tier 1"],
    ),
    ("cycle", _cycle, ["switches form a cycle", "agg -> core -> agg"]),
    ("two parents", _set("switches.leaf-a.parent", ["agg", "agg"]), ["group 'leaf-a'", "has 2 parents"]),
    (
        "unknown parent",
        _set("switches.leaf-a.parent", "nowhere"),
        ["parent 'nowhere', which is not a switch"],
    ),
    (
        "bad switch type",
        _set("switches.leaf-a.type", "roce"),
        ["group 'leaf-a'", "has type 'roce'", "'ib' or 'ethernet'"],
    ),
    (
        "unknown gpu model",
        _set("hosts.leaf-a.n0.gpu_model", "tpu9"),
        ["host 'n0'", "unknown gpu_model 'tpu9'"],
    ),
    (
        "gpu count zero",
        _set("hosts.leaf-a.n0.gpu_count", 0),
        ["host 'n0'", "gpu_count 0 is not a positive integer"],
    ),
    (
        "gpu count text",
        _set("hosts.leaf-a.n0.gpu_count", "eight"),
        ["gpu_count 'eight' is not a positive integer"],
    ),
    ("invalid switch name", _duplicate_name, ["duplicate switch name 'leaf-a'"]),
    (
        "invalid node name",
        _set("hosts.leaf-a", {"Node_0": {"gpu_model": "h100"}}),
        ["host 'Node_0'", "not a valid Kubernetes object name"],
    ),
    ("leaf with no hosts", _empty_leaf, ["leaf switch 'leaf-c' has no hosts"]),
    ("no root", _no_root, ["switches form a cycle: agg -> agg", "leave topology_switch.parent unset"]),
    ("more than one root", _two_roots, ["has 2 root switches ['agg', 'agg2']", "add a core switch"]),
    (
        "hosts on an aggregation switch",
        _host_on_aggregation,
        ["host 'n7'", "is attached to 'agg', which is not a leaf"],
    ),
    (
        "memory not a quantity",
        _set("hosts.leaf-a.n1.node_memory", "lots"),
        ["node_memory 'lots' is not a Kubernetes quantity"],
    ),
    (
        "gpu model without label-safe value",
        _set("all.topology_gpu_models", {"weird": {"label": "bad value!"}}),
        ["gpu model 'weird'", "not a valid label value"],
    ),
]


@pytest.mark.parametrize(("case", "mutate", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_inventory_names_the_problem(tmp_path, case, mutate, expected):
    tree = copy.deepcopy(good_tree())
    mutate(tree)
    inv = write_inventory(tmp_path, tree)
    with pytest.raises(TopologyError) as err:
        load_topology(str(inv))
    text = str(err.value)
    assert text.startswith("inventory ")
    assert "nothing was rendered or applied" in text
    for fragment in expected:
        assert fragment in text, f"{case}: expected {fragment!r} in:\n{text}"
    assert "Fix:" in text


def test_every_problem_in_one_error(tmp_path):
    tree = copy.deepcopy(good_tree())
    _del("switches.leaf-a.tier")(tree)
    _set("switches.leaf-b.type", "roce")(tree)
    _set("hosts.leaf-a.n1.gpu_model", "tpu9")(tree)
    inv = write_inventory(tmp_path, tree)
    with pytest.raises(TopologyError) as err:
        load_topology(str(inv))
    assert len(err.value.problems) == 3
    assert "(3 problem(s))" in str(err.value)


def test_invalid_switch_name(tmp_path):
    tree = copy.deepcopy(good_tree())
    tree["switches"]["leaf-a"]["name"] = "Leaf_A"
    inv = write_inventory(tmp_path, tree)
    with pytest.raises(TopologyError, match="switch name 'Leaf_A' is not a DNS-1123 label"):
        load_topology(str(inv))


def test_missing_inventory(tmp_path):
    with pytest.raises(TopologyError, match="does not exist"):
        load_topology(str(tmp_path / "nope"))


def test_ib_leaf_under_ethernet_aggregation_is_a_warning(tmp_path):
    tree = copy.deepcopy(good_tree())
    tree["switches"]["agg"]["type"] = "ethernet"
    topo = load_topology(str(write_inventory(tmp_path, tree)))
    assert any("IB leaf 'leaf-a' is under Ethernet switch 'agg'" in w for w in topo.warnings)


def test_good_inventory(tmp_path):
    topo = load_topology(str(write_inventory(tmp_path, good_tree())))
    assert topo.root == "agg"
    assert topo.hosts["n0"].leaf == "leaf-a"
    assert topo.node_labels()["n1"]["gpu-type"] == "rtx4090"
    assert topo.warnings == ()


def test_custom_gpu_model(tmp_path):
    tree = copy.deepcopy(good_tree())
    tree["all"]["topology_gpu_models"] = {"mi300x": {"label": "mi300x", "gpudirect_rdma": True}}
    tree["hosts"]["leaf-b"]["n2"]["gpu_model"] = "mi300x"
    topo = load_topology(str(write_inventory(tmp_path, tree)))
    assert topo.node_labels()["n2"]["gpu-type"] == "mi300x"
