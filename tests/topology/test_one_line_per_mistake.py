"""One mistake gives one problem line (no consequences reported as further problems), and variables
set in the wrong place are problems instead of being silently ignored or applied everywhere."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from hypertopo.topology import TopologyError, load_topology

from .invgen import good_tree, write_inventory

Mutator = Callable[[dict[str, Any]], None]


def _tree(mutate: Mutator) -> dict[str, Any]:
    tree = copy.deepcopy(good_tree())
    mutate(tree)
    return tree


def _unknown_parent(tree: dict[str, Any]) -> None:
    tree["switches"]["leaf-a"]["parent"] = "nowhere"


def _unknown_gpu(tree: dict[str, Any]) -> None:
    tree["hosts"]["leaf-a"]["n0"]["gpu_model"] = "tpu9"


def _bad_count_for_all(tree: dict[str, Any]) -> None:
    tree["all"]["gpu_count"] = "eight"


def _bad_resources_for_all(tree: dict[str, Any]) -> None:
    del tree["all"]["node_cpu"], tree["all"]["node_memory"]
    tree["all"]["topology_node_resources"] = [{"h100": {"cpu": "1"}}]


def _misspelt_parent_key(tree: dict[str, Any]) -> None:
    tree["switches"]["leaf-a"]["parnet"] = tree["switches"]["leaf-a"].pop("parent")


def _leaf_with_tier_two(tree: dict[str, Any]) -> None:
    tree["switches"]["leaf-a"]["tier"] = 2


def _own_parent(tree: dict[str, Any]) -> None:
    tree["switches"]["agg"]["parent"] = "agg"


def _group_without_switch(tree: dict[str, Any]) -> None:
    tree["switches"]["leaf-a"] = None


def _hosts_on_aggregation(tree: dict[str, Any]) -> None:
    tree["hosts"]["agg"] = tree["hosts"].pop("leaf-a")
    tree["switches"]["leaf-a"] = None


def _broken_custom_model(tree: dict[str, Any]) -> None:
    tree["all"]["topology_gpu_models"] = {"mi300x": {"label": "mi300x", "gpudirect": True}}
    tree["hosts"]["leaf-a"]["n0"]["gpu_model"] = "mi300x"
    tree["hosts"]["leaf-a"]["n1"]["gpu_model"] = "mi300x"


def _capital_model(tree: dict[str, Any]) -> None:
    tree["hosts"]["leaf-b"]["n2"]["gpu_model"] = "H100"


def _quoted_numbers(tree: dict[str, Any]) -> None:
    tree["hosts"]["leaf-b"]["n2"]["gpu_count"] = "8"


def _no_switches(tree: dict[str, Any]) -> None:
    tree["switches"] = dict.fromkeys(tree["switches"])


CASES: list[tuple[str, Mutator, list[str]]] = [
    (
        "no switch defined at all",
        _no_switches,
        ["no group defines topology_switch", "next to the hosts file"],
    ),
    (
        "a GPU model in capitals",
        _capital_model,
        ["host 'n2'", "unknown gpu_model 'H100' (did you mean 'h100'?)"],
    ),
    (
        "a quoted GPU count",
        _quoted_numbers,
        ["gpu_count '8' is text, not a number (write it without quotes)"],
    ),
    ("unknown parent", _unknown_parent, ["parent 'nowhere', which is not a switch"]),
    ("unknown GPU model", _unknown_gpu, ["host 'n0'", "unknown gpu_model 'tpu9'", "use one of a100, h100"]),
    ("a bad gpu_count for all hosts", _bad_count_for_all, ["group 'all'", "all.yml:", "gpu_count 'eight'"]),
    (
        "topology_node_resources of the wrong type",
        _bad_resources_for_all,
        ["group 'all'", "topology_node_resources is (a list), not a mapping"],
    ),
    ("a misspelt parent key", _misspelt_parent_key, ["has the key 'parnet'", "did you mean 'parent'?"]),
    ("a leaf with tier 2", _leaf_with_tier_two, ["switch 'leaf-a' has hosts but tier 2"]),
    ("a switch that is its own parent", _own_parent, ["switches form a cycle: agg -> agg"]),
    (
        "a leaf group without topology_switch",
        _group_without_switch,
        [
            "host 'n0'",
            "is in no leaf switch group (so are 1 more: n1)",
            "its groups (leaf-a) set no topology_switch",
        ],
    ),
    (
        "a block of hosts on an aggregation switch",
        _hosts_on_aggregation,
        ["host 'n0'", "is attached to 'agg', which is not a leaf", "(so are 1 more: n1)"],
    ),
    (
        "a broken custom GPU model used by hosts",
        _broken_custom_model,
        ["topology_gpu_models.mi300x has the key 'gpudirect'"],
    ),
]


@pytest.mark.parametrize(("case", "mutate", "expected"), CASES, ids=[c[0] for c in CASES])
def test_one_mistake_one_line(tmp_path, case, mutate, expected):
    inv = write_inventory(tmp_path, _tree(mutate))
    with pytest.raises(TopologyError) as err:
        load_topology(str(inv))
    text = str(err.value)
    assert len(err.value.problems) == 1, text
    for fragment in expected:
        assert fragment in text, f"{case}: expected {fragment!r} in:\n{text}"
    assert "None" not in text and "root switches" not in text


def _add_vars(path: Path, data: dict[str, Any]) -> None:
    current = yaml.safe_load(path.read_text()) if path.exists() else {}
    path.write_text(yaml.safe_dump({**(current or {}), **data}))


def test_topology_switch_on_all_is_refused(tmp_path):
    inv = write_inventory(tmp_path, good_tree())
    _add_vars(inv / "group_vars" / "all.yml", {"topology_switch": {"tier": 1, "type": "ib"}})
    with pytest.raises(TopologyError) as err:
        load_topology(str(inv))
    assert len(err.value.problems) == 1
    assert "group 'all' (" in str(err.value) and "all.yml:" in str(err.value)
    assert "sets topology_switch, which would make every group and host a switch" in str(err.value)


def test_topology_switch_as_a_host_variable_is_refused(tmp_path):
    tree = good_tree()
    tree["hosts"]["leaf-a"]["n0"]["topology_switch"] = {"tier": 1, "type": "ib", "parent": "agg"}
    inv = write_inventory(tmp_path, tree)
    (inv / "host_vars").mkdir()
    _add_vars(inv / "host_vars" / "n2.yml", {"topology_switch": {"tier": 1, "type": "ib"}})
    with pytest.raises(TopologyError) as err:
        load_topology(str(inv))
    lines = [str(p) for p in err.value.problems]
    assert len(lines) == 2, lines
    assert lines[0].startswith("host 'n0' (") and "hosts.yml:" in lines[0]
    assert lines[1].startswith("host 'n2' (") and "host_vars/n2.yml:1" in lines[1]
    assert all("a switch is a group" in line for line in lines)


def test_model_variables_on_a_group_are_refused(tmp_path):
    inv = write_inventory(tmp_path, good_tree())
    _add_vars(inv / "group_vars" / "leaf-a.yml", {"topology_network": {"classes": {}}})
    with pytest.raises(TopologyError) as err:
        load_topology(str(inv))
    assert len(err.value.problems) == 1
    assert "group 'leaf-a'" in str(err.value) and "leaf-a.yml:" in str(err.value)
    assert "topology_network, which is read from group 'all' only" in str(err.value)
