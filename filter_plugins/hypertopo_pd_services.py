# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filters for the pd_services role (thin adapters over ``hypertopo.rollout.pd_services``)."""

from __future__ import annotations

from typing import Any

from hypertopo.rollout import pd_services as workloads
from hypertopo.rollout.plain import plain_filters

DOCUMENTATION = r"""
name: pd_binding_status
short_description: Helpers of the pd_services role (binding progress, preflight verdict, teardown)
description:
  - C(pd_binding_status(pods, expected)) - how many of the listed pods exist and are bound (C(spec.nodeName)
    set); C(done) when at least O(expected) are bound and none is pending.
  - C(pd_overlay_nodes(nodes, node_labels, managed_keys, marker)) - copies of the Nodes with the labels the
    node_labels role applies (the placement preflight sees the cluster as the rollout leaves it).
  - C(pd_owned_by(objects, owners)) - delete stubs for the objects whose ownerReferences point at one of
    O(owners) (PodGroups of our Jobs; no garbage collector needed).
  - C(pd_delete_objects(objects)) - delete stubs (apiVersion, kind, name, namespace).
  - C(pd_with_labels(objects, labels)) - the objects carrying every one of O(labels).
  - C(pd_foreign_clashes(desired, existing, labels)) - rendered objects whose name is taken by an object
    without our labels (never adopted or overwritten).
  - C(pd_placement_summary(placements, nodes, label_keys)) - per label key, label value of the pods' nodes
    -> number of pods.
  - C(pd_other_pods(pods, objects)) - the pods that do not belong to the given workloads (the placement
    preflight counts them as holding resources).
  - C(pd_stale_workloads(owned, desired, changed)) - owned workloads to delete first: those the layout no
    longer renders and Volcano Jobs whose rendered spec changed (recreated).
  - C(pd_scheduling_report(podgroups, events, pods, owner_names)) - readable lines with PodGroup phases and
    conditions, the scheduler's latest events and the pods' PodScheduled conditions (only PodGroups owned by
    O(owner_names) or their ReplicaSets when given).
options:
  _input:
    description: The pods (C(pd_binding_status), C(pd_other_pods)), the Nodes (C(pd_overlay_nodes)), the
      objects (C(pd_owned_by), C(pd_delete_objects), C(pd_with_labels), C(pd_foreign_clashes),
      C(pd_stale_workloads)), the placements (C(pd_placement_summary)) or the PodGroups
      (C(pd_scheduling_report)).
    type: raw
    required: true
  expected:
    description: Number of pods that must be bound (C(pd_binding_status)).
    type: int
author: hypertopo contributors
"""

EXAMPLES = r"""
- name: Wait until every pod is bound
  kubernetes.core.k8s_info:
    kind: Pod
    namespace: llm
    label_selectors: ["volcano.sh/job-name in (pd-prefill-service,pd-decode-service)"]
  register: __pods
  until: (__pods.resources | pd_binding_status(24)).done
  retries: 60
  delay: 2
"""

RETURN = r"""
_value:
  description: See the description of each filter.
  type: raw
"""


def pd_binding_status(pods: list[dict[str, Any]], expected: int) -> dict[str, Any]:
    """See DOCUMENTATION."""
    return workloads.binding_status(pods or [], int(expected))


def pd_owned_by(objects: list[dict[str, Any]], owners: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """See DOCUMENTATION."""
    return workloads.owned_by(objects or [], owners or [])


def pd_delete_objects(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """See DOCUMENTATION."""
    return workloads.delete_objects(objects or [])


def pd_scheduling_report(
    podgroups: list[dict[str, Any]],
    events: list[dict[str, Any]] | None = None,
    pods: list[dict[str, Any]] | None = None,
) -> list[str]:
    """See DOCUMENTATION."""
    return workloads.scheduling_report(podgroups or [], events or [], pods or [])


def pd_with_labels(objects: list[dict[str, Any]], labels: dict[str, str]) -> list[Any]:
    """See DOCUMENTATION."""
    return workloads.with_labels(objects or [], labels or {})


def pd_foreign_clashes(
    desired: list[dict[str, Any]], existing: list[dict[str, Any]], labels: dict[str, str]
) -> list[str]:
    """See DOCUMENTATION."""
    return workloads.foreign_clashes(desired or [], existing or [], labels or {})


def pd_placement_summary(
    placements: dict[str, str], nodes: list[dict[str, Any]], label_keys: list[str]
) -> dict[str, dict[str, int]]:
    """See DOCUMENTATION."""
    return workloads.placement_summary(placements or {}, nodes or [], label_keys or [])


def pd_other_pods(pods: list[dict[str, Any]], objects: list[dict[str, Any]]) -> list[Any]:
    """See DOCUMENTATION."""
    return workloads.other_pods(pods or [], objects or [])


def pd_stale_workloads(
    owned: list[dict[str, Any]], desired: list[dict[str, Any]], changed: list[dict[str, Any]] | None = None
) -> list[Any]:
    """See DOCUMENTATION."""
    return workloads.stale_workloads(owned or [], desired or [], changed or [])


def pd_overlay_nodes(
    nodes: list[dict[str, Any]],
    node_labels: dict[str, dict[str, str]] | None,
    managed_keys: list[str] | None = None,
    marker: str | None = None,
) -> list[dict[str, Any]]:
    """See DOCUMENTATION."""
    return workloads.overlay_nodes(nodes or [], node_labels or {}, managed_keys or (), marker)


class FilterModule:
    """hypertopo workload filters."""

    def filters(self) -> dict[str, Any]:
        return plain_filters(
            {
                "pd_binding_status": pd_binding_status,
                "pd_owned_by": pd_owned_by,
                "pd_delete_objects": pd_delete_objects,
                "pd_scheduling_report": pd_scheduling_report,
                "pd_with_labels": pd_with_labels,
                "pd_overlay_nodes": pd_overlay_nodes,
                "pd_stale_workloads": pd_stale_workloads,
                "pd_other_pods": pd_other_pods,
                "pd_foreign_clashes": pd_foreign_clashes,
                "pd_placement_summary": pd_placement_summary,
            }
        )
