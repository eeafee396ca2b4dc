# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filters for the node_labels role (thin adapters over ``hypertopo.rollout.node_labels``)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from hypertopo.rollout.node_labels import LabelPlanError, patch_failures, plan_node_labels
from hypertopo.rollout.plain import plain_filters
from hypertopo.topology.labels import LABEL_MANAGED, MANAGED_LABEL_KEYS

DOCUMENTATION = r"""
name: node_labels_plan
short_description: Compute the node-label patches from one Node listing
description:
  - Compares the labels the inventory wants (node name -> labels) with a C(kubernetes.core.k8s_info)
    listing of the cluster's Nodes and returns a patch only for the nodes whose labels differ.
  - Only the managed keys are ever written; other keys on a Node are left alone. A managed key is
    removed with a C(null) value (strategic-merge / merge patch semantics).
  - With O(prune), nodes that carry the marker label but left the inventory lose every managed key.
  - Also reports inventory hosts missing from the cluster and GPU nodes absent from the inventory.
  - A companion filter C(node_labels_failures) turns the result of the C(kubernetes.core.k8s) task
    that sent the patches into a list of C({node, reason}) for the patches that did not land.
options:
  _input:
    description: The C(resources) list of a C(kubernetes.core.k8s_info) listing of C(kind=Node).
    type: list
    elements: dict
    required: true
  desired:
    description: Node name -> labels to apply (normally C(topology.node_labels)).
    type: dict
    required: true
  managed_keys:
    description: The label keys this project owns. Keys in O(desired) outside this list are an error.
    type: list
    elements: str
    default:
      - topology.kubernetes.io/switch
      - topology.kubernetes.io/switch-type
      - gpu-type
      - hypertopo.io/managed
  marker:
    description: The managed key that marks a node as labelled by this project (pruning only touches those).
    type: str
    default: hypertopo.io/managed
  prune:
    description: Remove managed keys the inventory no longer wants, and all managed keys from marked
      nodes that left the inventory.
    type: bool
    default: true
  gpu_resource:
    description: Allocatable resource that identifies GPU nodes for the "absent from the inventory" report.
    type: str
    default: nvidia.com/gpu
author: hypertopo contributors
"""

EXAMPLES = r"""
- name: List the nodes once
  kubernetes.core.k8s_info:
    kind: Node
  register: __nodes

- name: Plan the label writes
  ansible.builtin.set_fact:
    _plan: "{{ __nodes.resources | node_labels_plan(desired=topology.node_labels, prune=true) }}"

- name: Patch only the nodes that differ, in one module run
  kubernetes.core.k8s:
    state: patched
    definition: "{{ _plan.patches }}"
    continue_on_error: true
  register: __patched
  when: _plan.patches | length > 0

- name: Name the nodes whose patch did not land
  ansible.builtin.debug:
    msg: "{{ __patched | node_labels_failures(_plan.patches) }}"
"""

RETURN = r"""
_value:
  description:
    - C(patches) (list of Node patch objects), C(changes) (node -> {set, remove}), C(missing)
      (inventory hosts without a Node), C(unmanaged_gpu_nodes) (GPU Nodes not in the inventory),
      C(pruned) (nodes that lose our keys), C(unchanged) (count), C(nodes_total).
  type: dict
"""


def node_labels_plan(
    nodes: list[dict[str, Any]],
    desired: dict[str, dict[str, str]],
    managed_keys: list[str] | None = None,
    marker: str = LABEL_MANAGED,
    prune: bool = True,
    gpu_resource: str = "nvidia.com/gpu",
) -> dict[str, Any]:
    """See DOCUMENTATION."""
    try:
        return plan_node_labels(
            desired,
            nodes or [],
            managed_keys=managed_keys or MANAGED_LABEL_KEYS,
            marker=marker,
            prune=bool(prune),
            gpu_resource=gpu_resource,
        )
    except LabelPlanError as exc:
        raise AnsibleFilterError(f"node_labels_plan: {exc}") from None


def node_labels_failures(result: dict[str, Any], patches: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Patches that did not land (vanished node, API error) as ``{node, reason}``."""
    return patch_failures(result or {}, patches or [])


class FilterModule:
    """hypertopo node-label filters."""

    def filters(self) -> dict[str, Any]:
        return plain_filters(
            {
                "node_labels_plan": node_labels_plan,
                "node_labels_failures": node_labels_failures,
            }
        )
