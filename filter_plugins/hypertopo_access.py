# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filters for the access role (thin adapter over ``hypertopo.rollout.access``)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from hypertopo.rollout.access import access_denied, access_reviews
from hypertopo.rollout.plain import plain_filters


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
