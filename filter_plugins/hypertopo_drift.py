# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filter for ``playbooks/drift.yml`` (a thin adapter over ``hypertopo.importer.drift``)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

# The Python core travels as a pip requirement of the collection (README, "As a collection"):
# without it the plugin still loads (ansible-doc, ansible-test) and its filter fails when used
# (plugins/plugin_utils/core_missing.py of the collection).
try:
    from hypertopo.importer.drift import hypernode_drift, node_drift, report
    from hypertopo.rollout.plain import plain_filters
except ImportError as exc:
    from ansible_collections.hypertopo.volcano.plugins.plugin_utils.core_missing import missing_filters

    plain_filters = missing_filters(exc)

DOCUMENTATION = r"""
name: hypertopo_drift
short_description: Compare the inventory model with the cluster's Nodes and HyperNodes
description:
- One item per fact that differs between the inventory model and the cluster, of kind
  C(node-missing), C(node-unknown) (a Node outside the inventory with GPUs or our
  marker label), C(label) (one of our labels), C(gpu-model) (C(nvidia.com/gpu.product)
  against the host's GPU model), C(hypernode-missing), C(hypernode-differs), C(hypernode-extra)
  (our HyperNodes, by owner labels, against the ones the inventory renders) and C(hypernode-foreign)
  (a HyperNode not ours that groups, within its tier, nodes the inventory puts under
  different switches of that tier).
- Labels and HyperNodes come from the project's own rendering (C(hypertopo.topology.objects)),
  the comparison from C(hypertopo.importer.drift), the same as C(hypertopo-import
  drift).
positional: _input, nodes, hypernodes
options:
  _input:
    description: The inventory model (output of the C(topology_model) filter).
    type: dict
    required: true
  nodes:
    description: The Nodes (C(resources) of a C(kubernetes.core.k8s_info) result).
    type: list
    elements: dict
    required: true
  hypernodes:
    description: The HyperNodes; omitted, HyperNodes are not compared.
    type: list
    elements: dict
  switch_types:
    description: Switch types that get a HyperNode (as C(hypernodes_switch_types)).
    type: list
    elements: str
    default:
    - ib
    - ethernet
  owner_labels:
    description: Labels that mark a HyperNode as ours (as C(hypernodes_owner_labels)).
    type: dict
    default:
      app.kubernetes.io/managed-by: hypertopo
  tier_names:
    description: Tier number -> C(spec.tierName) (as C(hypernodes_tier_names)).
    type: dict
    default: {}
  gpu_map:
    description: C(nvidia.com/gpu.product) value -> GPU model, before the built-in
      rule.
    type: dict
    default: {}
author: hypertopo contributors
"""

EXAMPLES = r"""
- name: Compare the inventory with the cluster
  ansible.builtin.set_fact:
    drift: "{{ topology_model | hypertopo_drift(nodes.resources, hypernodes.resources) }}"
"""

RETURN = r"""
_value:
  description: C(drift) (true when any item), C(counts) (items per kind), C(items) (each with C(kind),
    C(name),
    C(inventory), C(cluster), C(detail)) and C(table) (the items as text lines).
  type: dict
"""


def hypertopo_drift(
    model: dict[str, Any],
    nodes: list[dict[str, Any]],
    hypernodes: list[dict[str, Any]] | None = None,
    switch_types: list[str] | None = None,
    owner_labels: dict[str, str] | None = None,
    tier_names: dict[Any, str] | None = None,
    gpu_map: dict[str, str] | None = None,
) -> dict[str, Any]:
    """See DOCUMENTATION."""
    try:
        items = node_drift(model, list(nodes or []), gpu_map)
        if hypernodes is not None:
            items += hypernode_drift(
                model,
                list(nodes or []),
                list(hypernodes),
                owner_labels=owner_labels,
                switch_types=tuple(switch_types or ("ib", "ethernet")),
                tier_names=tier_names,
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"hypertopo_drift: {type(exc).__name__}: {exc}") from None
    return report(items)


class FilterModule:
    """hypertopo drift filter."""

    def filters(self) -> dict[str, Any]:
        return plain_filters({"hypertopo_drift": hypertopo_drift})
