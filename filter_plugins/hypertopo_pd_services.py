# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filters for the pd_services role (thin adapters over ``hypertopo.rollout.pd_services``).

Each filter's documentation is the sidecar ``<filter name>.yml`` next to this file
(``ansible-doc -t filter hypertopo.volcano.<filter name>``).
"""

from __future__ import annotations

from typing import Any

# The Python core travels as a pip requirement of the collection (README, "As a collection"):
# without it the plugin still loads (ansible-doc, ansible-test) and its filters fail when used
# (plugins/plugin_utils/core_missing.py of the collection).
try:
    from hypertopo.report.run_state import workloads_state
    from hypertopo.rollout import pd_services as workloads
    from hypertopo.rollout.plain import plain_filters
    from hypertopo.topology.labels import LABEL_GPU_TYPE, LABEL_MANAGED, LABEL_SWITCH_TYPE, MANAGED_LABEL_KEYS
except ImportError as exc:
    from ansible_collections.hypertopo.volcano.plugins.plugin_utils.core_missing import missing_filters

    plain_filters = missing_filters(exc)


def pd_binding_status(pods: list[dict[str, Any]], expected: int) -> dict[str, Any]:
    """See pd_binding_status.yml."""
    return workloads.binding_status(pods or [], int(expected))


def pd_owned_by(objects: list[dict[str, Any]], owners: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """See pd_owned_by.yml."""
    return workloads.owned_by(objects or [], owners or [])


def pd_delete_objects(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """See pd_delete_objects.yml."""
    return workloads.delete_objects(objects or [])


def pd_scheduling_report(
    podgroups: list[dict[str, Any]],
    events: list[dict[str, Any]] | None = None,
    pods: list[dict[str, Any]] | None = None,
    owner_names: list[str] | None = None,
) -> list[str]:
    """See pd_scheduling_report.yml."""
    return workloads.scheduling_report(podgroups or [], events or [], pods or [], owner_names)


def pd_with_labels(objects: list[dict[str, Any]], labels: dict[str, str]) -> list[Any]:
    """See pd_with_labels.yml."""
    return workloads.with_labels(objects or [], labels or {})


def pd_foreign_clashes(
    desired: list[dict[str, Any]], existing: list[dict[str, Any]], labels: dict[str, str]
) -> list[str]:
    """See pd_foreign_clashes.yml."""
    return workloads.foreign_clashes(desired or [], existing or [], labels or {})


def pd_placement_summary(
    placements: dict[str, str], nodes: list[dict[str, Any]], label_keys: list[str]
) -> dict[str, dict[str, int]]:
    """See pd_placement_summary.yml."""
    return workloads.placement_summary(placements or {}, nodes or [], label_keys or [])


def pd_other_pods(pods: list[dict[str, Any]], objects: list[dict[str, Any]]) -> list[Any]:
    """See pd_other_pods.yml."""
    return workloads.other_pods(pods or [], objects or [])


def pd_stale_workloads(
    owned: list[dict[str, Any]], desired: list[dict[str, Any]], changed: list[dict[str, Any]] | None = None
) -> list[Any]:
    """See pd_stale_workloads.yml."""
    return workloads.stale_workloads(owned or [], desired or [], changed or [])


def pd_overlay_nodes(
    nodes: list[dict[str, Any]],
    node_labels: dict[str, dict[str, str]] | None,
    managed_keys: list[str] | None = None,
    marker: str | None = None,
) -> list[dict[str, Any]]:
    """See pd_overlay_nodes.yml."""
    return workloads.overlay_nodes(
        nodes or [],
        node_labels or {},
        MANAGED_LABEL_KEYS if managed_keys is None else managed_keys,
        LABEL_MANAGED if marker is None else marker,
    )


def pd_workloads_state(live: list[dict[str, Any]], desired: list[dict[str, Any]]) -> dict[str, Any]:
    """See pd_workloads_state.yml."""
    return workloads_state(live or [], desired or [])


def pd_inventory_misfits(model: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    """See pd_inventory_misfits.yml."""
    if settings.get("gpu_label", LABEL_GPU_TYPE) != LABEL_GPU_TYPE:
        return []  # the roles select nodes by a label the inventory does not set: nothing to check
    ours = settings.get("switch_type_label", LABEL_SWITCH_TYPE) == LABEL_SWITCH_TYPE
    asks = {
        role: workloads.RoleAsk(
            role,
            tuple(str(m) for m in settings[role]["gpu_models"]),
            int(settings[role]["replicas"]),
            int(settings[role]["gpus"]),
        )
        for role in ("prefill", "decode")
    }
    return workloads.inventory_misfits(
        model,
        layout=str(settings["layout"]),
        prefill=asks["prefill"],
        decode=asks["decode"],
        switch_types=[str(t) for t in settings.get("switch_types") or []] if ours else [],
        mode=str(settings["mode"]),
        highest_tier=int(settings["highest_tier"]),
        joint_mode=str(settings["joint_mode"]),
        joint_highest_tier=int(settings["joint_highest_tier"]),
        partition_tier=int(settings["partition_tier"]) if settings.get("partition_tier") else None,
    )


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
                "pd_workloads_state": pd_workloads_state,
                "pd_inventory_misfits": pd_inventory_misfits,
            }
        )
