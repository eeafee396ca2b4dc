# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filters over hypertopo's topology model (thin adapters over ``hypertopo.topology``)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from hypertopo.rollout.plain import plain_filters
from hypertopo.topology import TopologyError, load_topology
from hypertopo.topology.objects import model_node_objects as node_objects

DOCUMENTATION = r"""
name: topology_model
short_description: Validate the inventory's switch tree and return the cluster model
description:
  - Reads the inventory sources with Ansible's inventory machinery. Every group that sets
    C(topology_switch) is a switch; hosts sit in exactly one leaf switch group and carry C(gpu_model).
  - Validates it (all problems at once, naming the file, group or host and the fix) and returns the model
    as plain data (switches, hosts, node labels, GPU models, warnings).
options:
  _input:
    description: Inventory sources, normally C(ansible_inventory_sources).
    type: list
    elements: path
    required: true
author: hypertopo contributors
"""

EXAMPLES = r"""
- name: Build the model
  ansible.builtin.set_fact:
    topology: "{{ ansible_inventory_sources | topology_model }}"

- name: Node objects (with our labels) for planning
  ansible.builtin.debug:
    msg: "{{ ansible_inventory_sources | topology_model | topology_node_objects | length }}"
"""

RETURN = r"""
_value:
  description: The model. C(switches) (name, tier, type, parent, children, hosts, leaf), C(hosts)
    (leaf, gpu_model, gpu_count, cpu, memory, pods), C(node_labels) (node -> labels we own),
    C(gpu_models), C(network) (cost-model overrides), C(warnings).
  type: dict
"""


def topology_model(sources: list[str] | str) -> dict[str, Any]:
    """Validate the inventory and return the model as plain data."""
    paths = [sources] if isinstance(sources, str) else list(sources)
    try:
        return load_topology(*paths).as_dict()
    except TopologyError as exc:
        raise AnsibleFilterError(str(exc)) from None


def topology_node_objects(model: dict[str, Any], with_topology_labels: bool = True) -> list[dict[str, Any]]:
    """Node objects (labels + allocatable) as the inventory describes them."""
    return node_objects(model, with_topology_labels=with_topology_labels)


class FilterModule:
    """hypertopo topology filters."""

    def filters(self) -> dict[str, Any]:
        return plain_filters(
            {
                "topology_model": topology_model,
                "topology_node_objects": topology_node_objects,
            }
        )
