# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filters over hypertopo's explain (adapters over ``hypertopo.placement.explain``).

Each filter's documentation is the sidecar ``<filter name>.yml`` next to this file
(``ansible-doc -t filter hypertopo.volcano.<filter name>``).
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

# The Python core travels as a pip requirement of the collection (README, "As a collection"):
# without it the plugin still loads (ansible-doc, ansible-test) and its filters fail when used
# (plugins/plugin_utils/core_missing.py of the collection).
try:
    from hypertopo.placement import PlacementInputError, coerce_scheduler_conf
    from hypertopo.placement.explain import explain, pick_workload
    from hypertopo.placement.explain_text import explain_text
    from hypertopo.placement.forked import usable_cores
    from hypertopo.placement.inputs import as_objects
    from hypertopo.rollout.plain import plain_filters
except ImportError as exc:
    from ansible_collections.hypertopo.volcano.plugins.plugin_utils.core_missing import missing_filters

    plain_filters = missing_filters(exc)


def topology_explain(
    workloads: Any,
    job: str = "",
    nodes: Any = None,
    hypernodes: Any = None,
    pods: Any = None,
    scheduler_conf: Any = None,
    suggest: bool = True,
    priority_classes: Any = None,
) -> dict[str, Any]:
    """See topology_explain.yml."""
    if not job:
        raise AnsibleFilterError("topology_explain: job=NAMESPACE/NAME is required")
    if nodes is None:
        raise AnsibleFilterError("topology_explain: nodes= is required")
    try:
        pod_objs = as_objects(pods, "pods")
        target, ref = pick_workload(as_objects(workloads, "workloads"), pod_objs, str(job))
        inputs = {
            "jobs": [target],
            "nodes": nodes,
            "hypernodes": hypernodes,
            "pods": pod_objs,
            "scheduler_conf": coerce_scheduler_conf(scheduler_conf),
            "network": None,
            "kv_model": None,
            "priority_classes": priority_classes,
        }
        # the suggestions re-predicted at once where forking is safe (an Ansible worker process)
        return explain(inputs, ref, suggest=bool(suggest), workers=usable_cores())
    except PlacementInputError as exc:
        raise AnsibleFilterError(f"topology_explain: {exc}") from None


def topology_explain_table(result: dict[str, Any]) -> str:
    """See topology_explain_table.yml."""
    return explain_text(result)


class FilterModule:
    """hypertopo explain filters."""

    def filters(self) -> dict[str, Any]:
        return plain_filters(
            {"topology_explain": topology_explain, "topology_explain_table": topology_explain_table}
        )
