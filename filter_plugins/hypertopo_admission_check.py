# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filters for the admission_check role (thin adapters over ``hypertopo.rollout.admission_check``).

Each filter's documentation is the sidecar ``<filter name>.yml`` next to this file
(``ansible-doc -t filter hypertopo.volcano.<filter name>``).
"""

from __future__ import annotations

from typing import Any

# The Python core travels as a pip requirement of the collection (README, "As a collection"):
# without it the plugin still loads (ansible-doc, ansible-test) and its filters fail when used
# (plugins/plugin_utils/core_missing.py of the collection).
try:
    from hypertopo.rollout import admission_check as admission
    from hypertopo.rollout.plain import plain_filters
except ImportError as exc:
    from ansible_collections.hypertopo.volcano.plugins.plugin_utils.core_missing import missing_filters

    plain_filters = missing_filters(exc)


def admission_check_requests(
    objects: list[dict[str, Any]], present: list[str], fallback_namespace: str
) -> list[dict[str, Any]]:
    """See admission_check_requests.yml."""
    return admission.requests(objects or [], present or [], str(fallback_namespace))


def admission_check_failures(
    sent: list[dict[str, Any]], applied: list[dict[str, Any]], created: list[dict[str, Any]]
) -> list[str]:
    """See admission_check_failures.yml."""
    sent = sent or []
    found = []
    for method, results in (("apply", applied), ("create", created)):
        reqs = [r for r in sent if r["method"] == method]
        if reqs:  # a skipped task (no request of this method) has no per-object results
            found += admission.failures(reqs, list(results or []))
    return admission.failure_lines(found)


class FilterModule:
    """hypertopo admission-check filters."""

    def filters(self) -> dict[str, Any]:
        return plain_filters(
            {
                "admission_check_requests": admission_check_requests,
                "admission_check_failures": admission_check_failures,
            }
        )
