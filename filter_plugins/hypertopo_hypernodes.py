# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filters for the hypernodes role (thin adapters over ``hypertopo.rollout.hypernodes``)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from hypertopo.rollout.hypernodes import OWNER_LABELS, HyperNodePlanError, plan_hypernodes
from hypertopo.rollout.node_labels import LabelPlanError, overlay_node_labels
from hypertopo.rollout.plain import plain_filters

DOCUMENTATION = r"""
name: hypernodes_plan
short_description: Decide which HyperNodes to apply and delete, and refuse unsafe sets
description:
  - Takes the HyperNodes rendered from the inventory and a C(kubernetes.core.k8s_info) listing of the
    cluster's HyperNodes. Returns the objects to apply, the owned HyperNodes to delete (no longer in the
    inventory) and the foreign ones it leaves alone (those without the ownership labels, for example the
    ones Volcano's discovery creates).
  - Checks the resulting set (ours plus the foreign ones that stay) the way Volcano builds its tree and
    lists as C(problems) every node that would be in two leaf HyperNodes, every HyperNode that would have
    two parents, cycles, and rendered names that clash with a foreign HyperNode.
options:
  _input:
    description: The rendered HyperNodes (list of objects).
    type: list
    elements: dict
    required: true
  existing:
    description: The C(resources) list of a HyperNode listing (empty when the cluster has none).
    type: list
    elements: dict
    default: []
  nodes:
    description: The C(resources) list of a Node listing; selectors are evaluated against these.
    type: list
    elements: dict
    default: []
  node_labels:
    description: Node name -> labels the node_labels role applies; overlaid on O(nodes) first so the check
      sees the labels as they will be.
    type: dict
    default: {}
  managed_keys:
    description: Label keys the node_labels role owns (replaced by O(node_labels) in the overlay).
    type: list
    elements: str
    default: []
  marker:
    description: Marker label of nodes labelled by this project (their managed keys are dropped in the overlay
      when they left the inventory).
    type: str
  owner_labels:
    description: Labels that mark a HyperNode as ours.
    type: dict
    default: {app.kubernetes.io/managed-by: hypertopo}
  prune:
    description: Delete owned HyperNodes that are no longer rendered.
    type: bool
    default: true
  labels_prune:
    description: Whether the node_labels role prunes (affects the overlay only).
    type: bool
    default: true
author: hypertopo contributors
"""

EXAMPLES = r"""
- name: Plan the HyperNode writes
  ansible.builtin.set_fact:
    _plan: >-
      {{ rendered | hypernodes_plan(existing=__hn.resources, nodes=__nodes.resources,
                                    node_labels=topology.node_labels) }}

- name: Refuse an unsafe set
  ansible.builtin.assert:
    that: _plan.problems | length == 0
    fail_msg: "{{ _plan.problems }}"
"""

RETURN = r"""
_value:
  description: C(apply) (objects), C(delete) (names), C(foreign) (names left alone), C(problems)
    (messages naming the offenders), C(resulting) (names of the HyperNodes after the run).
  type: dict
"""


def hypernodes_plan(
    rendered: list[dict[str, Any]],
    existing: list[dict[str, Any]] | None = None,
    nodes: list[dict[str, Any]] | None = None,
    node_labels: dict[str, dict[str, str]] | None = None,
    managed_keys: list[str] | None = None,
    marker: str | None = None,
    owner_labels: dict[str, str] | None = None,
    prune: bool = True,
    labels_prune: bool = True,
) -> dict[str, Any]:
    """See DOCUMENTATION."""
    try:
        labels = overlay_node_labels(
            nodes or [], node_labels, managed_keys or (), prune=bool(labels_prune), marker=marker
        )
        return plan_hypernodes(
            list(rendered or []),
            existing or [],
            labels,
            owner_labels=owner_labels or OWNER_LABELS,
            prune=bool(prune),
        )
    except (HyperNodePlanError, LabelPlanError) as exc:
        raise AnsibleFilterError(f"hypernodes_plan: {exc}") from None


class FilterModule:
    """hypertopo HyperNode filters."""

    def filters(self) -> dict[str, Any]:
        return plain_filters({"hypernodes_plan": hypernodes_plan})
