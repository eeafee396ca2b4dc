# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filters over hypertopo's Volcano placement predictor (adapters over ``hypertopo.placement``).

Each filter's documentation is the sidecar ``<filter name>.yml`` next to this file
(``ansible-doc -t filter <filter name>``).
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

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
    """See topology_hints.yml."""
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
    """See topology_hints_table.yml."""
    return preflight(result)[1]


def topology_hints_blockers(result: dict[str, Any], strict: bool = False) -> list[str]:
    """See topology_hints_blockers.yml."""
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
