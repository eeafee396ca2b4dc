# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filters: verify the actual placement against the hints, and render the reports.

Thin adapters over :func:`hypertopo.report.verify.verify` and :func:`hypertopo.report.render_reports`.
The report filter returns the text, JSON and HTML as strings, so a playbook writes them with
``hypertopo.volcano.hypertopo_write_files`` (idempotent, honours check mode and ``--diff``;
the reports carry no timestamps, so an unchanged placement gives unchanged files). For use outside
Ansible the same files come from ``python -m hypertopo.report`` (see ``hypertopo/report/__main__.py``).

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
    from hypertopo.report import render_reports
    from hypertopo.report.run_state import WORKLOAD_KINDS
    from hypertopo.report.sections import headroom_section, what_if_section
    from hypertopo.report.verify import object_list, pod_list, verify
    from hypertopo.rollout.plain import plain_filters
except ImportError as exc:
    from ansible_collections.hypertopo.volcano.plugins.plugin_utils.core_missing import missing_filters

    plain_filters = missing_filters(exc)


def topology_verify(
    predicted: dict[str, Any],
    pods: Any,
    model: dict[str, Any],
    ib_required_roles: list[str] | None = None,
    role_keywords: dict[str, str] | None = None,
    jobs: list[dict[str, Any]] | None = None,
    workloads: Any = None,
    require_running: bool = True,
) -> dict[str, Any]:
    """See topology_verify.yml."""
    kwargs: dict[str, Any] = {
        "ib_required_roles": list(ib_required_roles or []),
        "jobs": list(jobs or []),
        "workloads": None
        if workloads is None
        else object_list(_plain(workloads), WORKLOAD_KINDS, "workloads"),
        "require_running": bool(require_running),
    }
    if role_keywords:
        kwargs["role_keywords"] = dict(role_keywords)
    try:
        return verify(_plain(predicted), pod_list(_plain(pods)), _plain(model), **kwargs)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"topology_verify: {type(exc).__name__}: {exc}") from None


def topology_report(
    predicted: dict[str, Any],
    model: dict[str, Any],
    verification: dict[str, Any] | None = None,
    what_if: dict[str, Any] | None = None,
    headroom: dict[str, Any] | None = None,
) -> dict[str, str]:
    """See topology_report.yml."""
    checked = _plain(verification) if verification else None
    sections = []
    if what_if:
        sections.append(what_if_section(_plain(what_if)))
    if headroom:
        sections.append(headroom_section(_plain(headroom)))
    try:
        return render_reports(_plain(model), _plain(predicted), checked, sections=sections)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"topology_report: {type(exc).__name__}: {exc}") from None


def _plain(value: Any) -> Any:
    """Ansible's lazy/tagged containers and strings as plain Python data."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


class FilterModule:
    """hypertopo verify/report filters."""

    def filters(self) -> dict[str, Any]:
        return plain_filters(
            {
                "topology_verify": topology_verify,
                "topology_report": topology_report,
            }
        )
