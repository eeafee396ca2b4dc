# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filters for the node_labels role (thin adapters over ``hypertopo.rollout.node_labels``).

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
    from hypertopo.rollout.node_labels import LabelPlanError, patch_failures, plan_node_labels
    from hypertopo.rollout.plain import plain_filters
    from hypertopo.topology.labels import GPU_RESOURCE, LABEL_MANAGED, MANAGED_LABEL_KEYS
except ImportError as exc:
    from ansible_collections.hypertopo.volcano.plugins.plugin_utils.core_missing import missing_filters

    plain_filters = missing_filters(exc)


def node_labels_plan(
    nodes: list[dict[str, Any]],
    desired: dict[str, dict[str, str]],
    managed_keys: list[str] | None = None,
    marker: str | None = None,
    prune: bool = True,
    gpu_resource: str | None = None,
) -> dict[str, Any]:
    """See node_labels_plan.yml (``marker`` and ``gpu_resource`` default to ``LABEL_MANAGED`` and
    ``GPU_RESOURCE``: named in the body, so the file loads without the Python core)."""
    marker = LABEL_MANAGED if marker is None else marker
    gpu_resource = GPU_RESOURCE if gpu_resource is None else gpu_resource
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
    """See node_labels_failures.yml."""
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
