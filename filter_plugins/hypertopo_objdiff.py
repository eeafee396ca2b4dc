# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filter: which rendered objects need a write (thin adapter over ``hypertopo.rollout.objdiff``)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

# The Python core travels as a pip requirement of the collection (README, "As a collection"):
# without it the plugin still loads (ansible-doc, ansible-test) and its filters fail when used
# (plugins/plugin_utils/core_missing.py of the collection).
try:
    from hypertopo.rollout.objdiff import pending_writes
    from hypertopo.rollout.plain import plain_filters
except ImportError as exc:
    from ansible_collections.hypertopo.volcano.plugins.plugin_utils.core_missing import missing_filters

    plain_filters = missing_filters(exc)


DOCUMENTATION = r"""
name: hypertopo_pending_writes
short_description: Keep only the rendered objects that differ from the cluster
description:
  - C(kubernetes.core.k8s) with C(apply=true) PATCHes every object that holds a list it cannot merge by key
    (any CRD list, e.g. HyperNode C(spec.members), Volcano Job C(spec.tasks)) even when nothing changed.
    This filter compares the rendered objects with a listing and keeps only those that are missing,
    differ in a rendered field (quantities compare by value; server defaults are ignored), or whose
    last-applied annotation differs from the render, so a rerun sends zero write requests.
options:
  _input:
    description: The rendered objects.
    type: list
    elements: dict
    required: true
  existing:
    description: The C(resources) of the listings covering those objects.
    type: list
    elements: dict
    required: true
author: hypertopo contributors
"""

EXAMPLES = r"""
- name: Apply only what differs
  kubernetes.core.k8s:
    apply: true
    definition: "{{ (rendered | hypertopo.volcano.hypertopo_pending_writes(__listing.resources)).write }}"
"""

RETURN = r"""
_value:
  description: C(write) (objects to apply), C(reasons) ("Kind ns/name" -> why), C(unchanged) (count).
  type: dict
"""


def hypertopo_pending_writes(desired: list[dict[str, Any]], existing: list[dict[str, Any]]) -> dict[str, Any]:
    """See DOCUMENTATION."""
    try:
        return pending_writes(desired or [], existing or [])
    except ValueError as exc:
        raise AnsibleFilterError(f"hypertopo_pending_writes: {exc}") from None


class FilterModule:
    """hypertopo object-comparison filter."""

    def filters(self) -> dict[str, Any]:
        return plain_filters({"hypertopo_pending_writes": hypertopo_pending_writes})
