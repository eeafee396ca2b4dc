# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filters for the access role (thin adapter over ``hypertopo.rollout.access``)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

# The Python core travels as a pip requirement of the collection (README, "As a collection"):
# without it the plugin still loads (ansible-doc, ansible-test) and its filters fail when used
# (plugins/plugin_utils/core_missing.py of the collection).
try:
    from hypertopo.rollout.access import access_denied, access_reviews
    from hypertopo.rollout.plain import plain_filters
except ImportError as exc:
    from ansible_collections.hypertopo.volcano.plugins.plugin_utils.core_missing import missing_filters

    plain_filters = missing_filters(exc)


def hypertopo_access_reviews(
    playbook: str, namespaces: dict[str, str], configmap: str
) -> list[dict[str, Any]]:
    """See the sidecar documentation."""
    try:
        return access_reviews(str(playbook), namespaces, str(configmap))
    except ValueError as exc:
        raise AnsibleFilterError(f"hypertopo_access_reviews: {exc}") from None


def hypertopo_access_denied(results: Any) -> list[str]:
    """See the sidecar documentation."""
    return access_denied(results)


class FilterModule:
    """hypertopo access filters."""

    def filters(self) -> dict[str, Any]:
        return plain_filters(
            {
                "hypertopo_access_reviews": hypertopo_access_reviews,
                "hypertopo_access_denied": hypertopo_access_denied,
            }
        )
