# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filters for the hypernodes role (thin adapters over ``hypertopo.rollout.hypernodes``).

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
    from hypertopo.rollout.hypernodes import OWNER_LABELS, HyperNodePlanError, plan_hypernodes
    from hypertopo.rollout.node_labels import LabelPlanError, overlay_node_labels
    from hypertopo.rollout.plain import plain_filters
    from hypertopo.topology.labels import LABEL_MANAGED, MANAGED_LABEL_KEYS
    from hypertopo.topology.objects import model_hypernode_objects
except ImportError as exc:
    from ansible_collections.hypertopo.volcano.plugins.plugin_utils.core_missing import missing_filters

    plain_filters = missing_filters(exc)


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
    """See hypernodes_plan.yml."""
    try:
        labels = overlay_node_labels(
            nodes or [],
            node_labels,
            MANAGED_LABEL_KEYS if managed_keys is None else managed_keys,
            prune=bool(labels_prune),
            marker=LABEL_MANAGED if marker is None else marker,
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


def hypernodes_objects(
    switches: list[dict[str, Any]],
    switch_types: list[str] | None = None,
    owner_labels: dict[str, str] | None = None,
    tier_names: dict[Any, str] | None = None,
) -> list[dict[str, Any]]:
    """See hypernodes_objects.yml."""
    options: dict[str, Any] = {"labels": OWNER_LABELS if owner_labels is None else owner_labels}
    if switch_types is not None:
        options["switch_types"] = tuple(switch_types)
    try:
        return model_hypernode_objects({"switches": list(switches or [])}, tier_names=tier_names, **options)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"hypernodes_objects: {type(exc).__name__}: {exc}") from None


class FilterModule:
    """hypertopo HyperNode filters."""

    def filters(self) -> dict[str, Any]:
        return plain_filters({"hypernodes_plan": hypernodes_plan, "hypernodes_objects": hypernodes_objects})
