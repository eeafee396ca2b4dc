# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filters over hypertopo's Volcano placement predictor (adapters over ``hypertopo.placement``).

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
    from hypertopo.cli.hints import InputError, load_changes
    from hypertopo.placement import PlacementInputError, coerce_scheduler_conf, predict, preflight
    from hypertopo.placement.changes import INPUT_KEYS, apply_changes, parse_changes
    from hypertopo.placement.forked import usable_cores
    from hypertopo.placement.headroom import headroom
    from hypertopo.placement.preflight import blockers
    from hypertopo.placement.whatif import what_if
    from hypertopo.rollout.plain import plain_filters
except ImportError as exc:
    from ansible_collections.hypertopo.volcano.plugins.plugin_utils.core_missing import missing_filters

    plain_filters = missing_filters(exc)


def topology_hints(
    jobs: Any,
    nodes: Any = None,
    hypernodes: Any = None,
    pods: Any = None,
    scheduler_conf: Any = None,
    network: Any = None,
    kv_model: Any = None,
    baseline: bool = True,
    priority_classes: Any = None,
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
            priority_classes=priority_classes,
            baseline=bool(baseline),
        )
    except PlacementInputError as exc:
        raise AnsibleFilterError(f"topology_hints: {exc}") from None


def topology_what_if_load(path: str) -> dict[str, Any]:
    """See topology_what_if_load.yml."""
    try:
        changes = load_changes(str(path))
    except (InputError, PlacementInputError) as exc:
        return {"changes": [], "errors": str(exc).splitlines()}
    return {"changes": [c.as_data() for c in changes], "errors": []}


def _inputs(jobs: Any, **kwargs: Any) -> dict[str, Any]:
    out = {"jobs": jobs, **{key: kwargs.get(key) for key in INPUT_KEYS if key != "jobs"}}
    out["scheduler_conf"] = coerce_scheduler_conf(out["scheduler_conf"])
    out["network"] = out["network"] or None
    out["kv_model"] = out["kv_model"] or None
    return out


def topology_what_if_errors(changes: Any, jobs: Any, source: str = "what-if", **inputs: Any) -> list[str]:
    """See topology_what_if_errors.yml."""
    try:
        apply_changes(_inputs(jobs, **inputs), parse_changes(changes, source), source)
    except PlacementInputError as exc:
        return str(exc).splitlines()
    return []


def topology_what_if(
    jobs: Any, changes: Any, before: Any = None, source: str = "what-if", baseline: bool = True, **inputs: Any
) -> dict[str, Any]:
    """See topology_what_if.yml."""
    if inputs.get("nodes") is None:
        raise AnsibleFilterError("topology_what_if: nodes= is required")
    try:
        return what_if(
            _inputs(jobs, **inputs),
            parse_changes(changes, source),
            source,
            before=before,
            baseline=bool(baseline),
        )
    except PlacementInputError as exc:
        raise AnsibleFilterError(f"topology_what_if: {exc}") from None


def topology_headroom(jobs: Any, **inputs: Any) -> dict[str, Any]:
    """See topology_headroom.yml."""
    if inputs.get("nodes") is None:
        raise AnsibleFilterError("topology_headroom: nodes= is required")
    try:
        # the searches of different jobs at once where forking is safe (an Ansible worker process)
        return headroom(_inputs(jobs, **inputs), workers=usable_cores())
    except PlacementInputError as exc:
        raise AnsibleFilterError(f"topology_headroom: {exc}") from None


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
                "topology_what_if_load": topology_what_if_load,
                "topology_what_if_errors": topology_what_if_errors,
                "topology_what_if": topology_what_if,
                "topology_headroom": topology_headroom,
            }
        )
