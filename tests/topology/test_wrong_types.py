"""A value of the wrong type anywhere the model reads one gives a problem naming the place, the
variable and the fix: never Python's own error text, never an exception other than TopologyError."""

from __future__ import annotations

import copy
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hypertopo.topology import TopologyError, load_topology

from .invgen import good_tree, write_inventory

PLUGIN = Path(__file__).resolve().parents[2] / "filter_plugins" / "hypertopo_topology.py"
_spec = importlib.util.spec_from_file_location("_filters_hypertopo_topology", PLUGIN)
assert _spec and _spec.loader
_filters = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_filters)
network_error: Callable[[Any], str | None] = _filters.network_error

WRONG = [None, True, 0, -3, 1.5, "", "x", "{{ 7 * 7 }}", [], ["a", "b"], {}, {"a": {"b": [1]}}, 10**30]
PLACES: dict[str, Callable[[dict[str, Any], Any], None]] = {
    "topology_switch": lambda t, v: t["switches"].__setitem__("leaf-a", v),
    "topology_switch.tier": lambda t, v: t["switches"]["leaf-a"].__setitem__("tier", v),
    "topology_switch.type": lambda t, v: t["switches"]["leaf-a"].__setitem__("type", v),
    "topology_switch.parent": lambda t, v: t["switches"]["leaf-a"].__setitem__("parent", v),
    "topology_switch.name": lambda t, v: t["switches"]["leaf-a"].__setitem__("name", v),
    "all.topology_gpu_models": lambda t, v: t["all"].__setitem__("topology_gpu_models", v),
    "all.topology_gpu_models.x": lambda t, v: t["all"].__setitem__("topology_gpu_models", {"x": v}),
    "all.topology_network": lambda t, v: t["all"].__setitem__("topology_network", v),
    "all.topology_network.classes": lambda t, v: t["all"].__setitem__("topology_network", {"classes": v}),
    "all.topology_node_resources": lambda t, v: t["all"].__setitem__("topology_node_resources", v),
    "host.topology_node_resources.h100": lambda t, v: t["hosts"]["leaf-a"]["n0"].__setitem__(
        "topology_node_resources", {"h100": v}
    ),
    "all.gpu_count": lambda t, v: t["all"].__setitem__("gpu_count", v),
    "host.gpu_model": lambda t, v: t["hosts"]["leaf-a"]["n0"].__setitem__("gpu_model", v),
    "host.node_cpu": lambda t, v: t["hosts"]["leaf-a"]["n0"].__setitem__("node_cpu", v),
    "host.node_memory": lambda t, v: t["hosts"]["leaf-a"]["n0"].__setitem__("node_memory", v),
    "host.node_pods": lambda t, v: t["hosts"]["leaf-a"]["n0"].__setitem__("node_pods", v),
}
PYTHON_TEXT = (
    "Traceback",
    "object has no attribute",
    "unhashable",
    "NoneType",
    "not subscriptable",
    "object is not",
)


@pytest.mark.parametrize("place", list(PLACES))
def test_wrong_types_give_problems_not_python_errors(tmp_path, place):
    for i, value in enumerate(WRONG):
        tree = copy.deepcopy(good_tree())
        PLACES[place](tree, value)
        inv = write_inventory(tmp_path / str(i), tree)
        try:
            load_topology(str(inv), network_check=network_error)
        except TopologyError as exc:
            text = str(exc)
            assert not any(p in text for p in PYTHON_TEXT), f"{place}={value!r}:\n{text}"
            assert all(p.fix and p.where for p in exc.problems)
            assert len(exc.problems) <= 2, f"{place}={value!r}:\n{text}"


def test_a_list_for_topology_node_resources_names_the_file(tmp_path):
    tree = copy.deepcopy(good_tree())
    del tree["all"]["node_cpu"], tree["all"]["node_memory"]
    tree["all"]["topology_node_resources"] = ["h100"]
    with pytest.raises(TopologyError) as err:
        load_topology(str(write_inventory(tmp_path, tree)))
    assert str(err.value.problems[0]).startswith("group 'all' (")
    assert "group_vars/all.yml:" in str(err.value)
    assert "topology_node_resources is (a list), not a mapping of GPU model to {cpu, memory}" in str(
        err.value
    )
