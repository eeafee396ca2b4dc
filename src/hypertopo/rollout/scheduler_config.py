"""The ``scheduler_config`` role's plan: merge our plugin into the cluster's scheduler configuration."""

from __future__ import annotations

from typing import Any

from hypertopo.topology.scheduler_conf import dump_conf, merge_conf, nta_enabled, parse_conf


def plan_scheduler_conf(
    existing_text: str | None,
    *,
    nta_arguments: dict[str, Any],
    enabled: bool = True,
    default_actions: str = "enqueue, allocate, backfill",
    default_tiers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The configuration to write and whether it differs from ``existing_text``.

    Returns ``text`` (deterministic YAML), ``conf``, ``changed`` (compared as data, so a different
    formatting of the same configuration is no change), ``existed`` and ``nta_enabled``.
    Raises :class:`hypertopo.topology.scheduler_conf.SchedulerConfError` for unparsable text.
    """
    existing = parse_conf(existing_text)
    merged = merge_conf(
        existing,
        nta_arguments=nta_arguments,
        nta_enabled=enabled,
        default_actions=default_actions,
        default_tiers=default_tiers,
    )
    return {
        "text": dump_conf(merged),
        "conf": merged,
        "changed": existing is None or merged != existing,
        "existed": existing is not None,
        "nta_enabled": nta_enabled(merged),
    }
