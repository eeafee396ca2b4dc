# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filters over hypertopo's Volcano placement predictor (adapters over ``hypertopo.placement``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: topology_hints
short_description: Predict where Volcano v1.15.1 places Jobs, Deployments and PodGroups
description:
  - Simulates Volcano v1.15.1's allocate action with the network-topology-aware plugin over
    HyperNodes, Nodes and existing Pods, placing the input jobs in order (later jobs see earlier placements).
  - Returns per job whether it is feasible, the lowest-tier HyperNode holding its pods, the pod to node map,
    tie sets (where Volcano picks at random), reasons for infeasible jobs, warnings and the network cost
    (pair classes, latency, bandwidth, KV-cache transfer time), plus a simple-affinity baseline.
  - Every input may be a list of objects, a C(kind: List) or a C(kubernetes.core.k8s_info) result.
  - Companion filters C(topology_hints_table) (readable table) and C(topology_hints_blockers)
    (reasons a hard-mode job cannot be placed; empty when the rollout may proceed).
options:
  _input:
    description: Volcano Jobs, Deployments, StatefulSets or PodGroups to place, in order.
    type: list
    elements: dict
    required: true
  nodes:
    description: Node objects (labels, C(status.allocatable), taints, unschedulable).
    type: raw
    required: true
  hypernodes:
    description: HyperNode objects. Empty means no HyperNode (only the virtual root).
    type: raw
  pods:
    description: Existing Pods. Bound ones use resources; pending ones annotated
      C(scheduling.k8s.io/group-name) are the members of an input PodGroup.
    type: raw
  scheduler_conf:
    description: The C(volcano-scheduler.conf) as a mapping, YAML text, its ConfigMap or a k8s_info result.
      Omitted or null means the project's default (network-topology-aware enabled).
    type: raw
  network:
    description: Network cost overrides (C(classes), C(no_gpudirect), C(host_copy), C(roles), C(kv_model)).
    type: dict
  kv_model:
    description: KV-cache model (C(layers), C(kv_heads), C(head_dim), C(dtype), C(prompt_tokens)).
    type: dict
  baseline:
    description: Also compute the simple-affinity baseline.
    type: bool
    default: true
author: hypertopo contributors
"""

EXAMPLES = r"""
- name: Predict from the inventory model, before any cluster exists
  ansible.builtin.set_fact:
    hints: >-
      {{ pd_jobs | topology_hints(nodes=topology | topology_node_objects,
                                  hypernodes=rendered_hypernodes) }}

- name: Predict against a live cluster
  ansible.builtin.set_fact:
    hints: >-
      {{ pd_jobs | topology_hints(nodes=live_nodes, hypernodes=live_hypernodes, pods=live_pods,
                                  scheduler_conf=live_scheduler_configmap) }}
  vars:
    live_nodes: "{{ query('kubernetes.core.k8s', kind='Node') }}"

- name: Block the rollout when a hard constraint cannot be met
  ansible.builtin.assert:
    that: (hints | topology_hints_blockers) | length == 0
    fail_msg: "{{ hints | topology_hints_blockers }}"

- name: Show the table
  ansible.builtin.debug:
    msg: "{{ (hints | topology_hints_table).split('\n') }}"
"""

RETURN = r"""
_value:
  description: C(jobs) (kind, name, namespace, feasible, hard, mode, hypernode, tier,
    placements [pod, task, node, leaf], pending, leaves, ties, reasons, warnings, network),
    C(warnings), C(network) (prefill x decode over all jobs) and C(baseline) (the same shape for
    the simple-affinity run, with C(expected) values over random tie-breaks).
  type: dict
"""

try:
    from hypertopo.placement import PlacementInputError, coerce_scheduler_conf, predict, preflight
    from hypertopo.placement.preflight import blockers
    from hypertopo.rollout.plain import plain_filters
except ImportError:  # running from a clone without the editable install
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from hypertopo.placement import PlacementInputError, coerce_scheduler_conf, predict, preflight
    from hypertopo.placement.preflight import blockers
    from hypertopo.rollout.plain import plain_filters


def topology_hints(
    jobs: Any,
    nodes: Any = None,
    hypernodes: Any = None,
    pods: Any = None,
    scheduler_conf: Any = None,
    network: Any = None,
    kv_model: Any = None,
    baseline: bool = True,
) -> dict[str, Any]:
    """Predict Volcano's placement of ``jobs``."""
    if nodes is None:
        raise AnsibleFilterError("topology_hints: nodes= is required")
    try:
        return predict(
            jobs=jobs,
            nodes=nodes,
            hypernodes=hypernodes,
            pods=pods,
            scheduler_conf=coerce_scheduler_conf(scheduler_conf),
            network=network or None,
            kv_model=kv_model or None,
            baseline=bool(baseline),
        )
    except PlacementInputError as exc:
        raise AnsibleFilterError(f"topology_hints: {exc}") from None


def topology_hints_table(result: dict[str, Any]) -> str:
    """The preflight table of a ``topology_hints`` result."""
    return preflight(result)[1]


def topology_hints_blockers(result: dict[str, Any], strict: bool = False) -> list[str]:
    """Reasons that block a rollout (infeasible hard-mode jobs; any infeasible job with ``strict``)."""
    return blockers(result, strict=strict)


class FilterModule:
    """hypertopo placement filters."""

    def filters(self) -> dict[str, Any]:
        return plain_filters(
            {
                "topology_hints": topology_hints,
                "topology_hints_table": topology_hints_table,
                "topology_hints_blockers": topology_hints_blockers,
            }
        )
