# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filter for ``playbooks/drift.yml`` (a thin adapter over ``hypertopo.importer.drift``).

The filter's documentation is the sidecar ``hypertopo_drift.yml`` next to this file
(``ansible-doc -t filter hypertopo_drift``).
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from hypertopo.importer.drift import hypernode_drift, node_drift, report
from hypertopo.rollout.plain import plain_filters


def hypertopo_drift(
    model: dict[str, Any],
    nodes: list[dict[str, Any]],
    hypernodes: list[dict[str, Any]] | None = None,
    switch_types: list[str] | None = None,
    owner_labels: dict[str, str] | None = None,
    tier_names: dict[Any, str] | None = None,
    gpu_map: dict[str, str] | None = None,
) -> dict[str, Any]:
    """See hypertopo_drift.yml."""
    try:
        items = node_drift(model, list(nodes or []), gpu_map)
        if hypernodes is not None:
            items += hypernode_drift(
                model,
                list(nodes or []),
                list(hypernodes),
                owner_labels=owner_labels,
                switch_types=tuple(switch_types or ("ib", "ethernet")),
                tier_names=tier_names,
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"hypertopo_drift: {type(exc).__name__}: {exc}") from None
    return report(items)


class FilterModule:
    """hypertopo drift filter."""

    def filters(self) -> dict[str, Any]:
        return plain_filters({"hypertopo_drift": hypertopo_drift})
