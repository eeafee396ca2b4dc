# Copyright: hypertopo contributors
# Apache-2.0
"""Ansible filter for the scheduler_config role (thin adapter over ``hypertopo.rollout.scheduler_config``)."""

from __future__ import annotations

import json
from typing import Any

from ansible.errors import AnsibleFilterError

# The Python core travels as a pip requirement of the collection (README, "As a collection"):
# without it the plugin still loads (ansible-doc, ansible-test) and its filters fail when used
# (plugins/plugin_utils/core_missing.py of the collection).
try:
    from hypertopo.rollout.plain import plain_filters
    from hypertopo.rollout.scheduler_config import plan_scheduler_conf
    from hypertopo.topology.scheduler_conf import SchedulerConfError
except ImportError as exc:
    from ansible_collections.hypertopo.volcano.plugins.plugin_utils.core_missing import missing_filters

    plain_filters = missing_filters(exc)


DOCUMENTATION = r"""
name: hypertopo_scheduler_conf
short_description: Merge the network-topology-aware plugin into a Volcano scheduler configuration
description:
  - Parses the existing C(volcano-scheduler.conf) text (empty or missing = a fresh cluster), sets the
    C(network-topology-aware) plugin with the given arguments (or removes it), and keeps every other
    action, plugin and argument the operator has.
  - Reports whether the merge changes the configuration (compared as data, so a different formatting of
    the same configuration is not a change).
options:
  _input:
    description: The existing configuration text; empty string or null when there is none.
    type: str
    required: true
  nta_arguments:
    description: Arguments of the network-topology-aware plugin.
    type: dict
    required: true
  nta_enabled:
    description: Enable (true) or remove (false) the plugin.
    type: bool
    default: true
  default_actions:
    description: Actions for a fresh configuration (ignored when one exists).
    type: str
    default: enqueue, allocate, backfill
  default_tiers:
    description: Plugin tiers for a fresh configuration (ignored when one exists).
    type: list
    elements: dict
    default: []
author: hypertopo contributors
"""

EXAMPLES = r"""
- name: Merge into the operator's configuration
  ansible.builtin.set_fact:
    _merged: >-
      {{ (__cm.resources[0].data['volcano-scheduler.conf'] | default(''))
         | hypertopo.volcano.hypertopo_scheduler_conf(
           nta_arguments=scheduler_config_nta_arguments,
           default_tiers=scheduler_config_default_tiers) }}
"""

RETURN = r"""
_value:
  description: C(text) (the merged configuration, deterministic YAML), C(conf) (as data), C(changed)
    (the merge differs from the existing configuration), C(existed) (there was a configuration),
    C(nta_enabled) (after the merge).
  type: dict
"""


def hypertopo_scheduler_conf(
    existing_text: str | None,
    nta_arguments: dict[str, Any],
    nta_enabled: bool = True,
    default_actions: str = "enqueue, allocate, backfill",
    default_tiers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """See DOCUMENTATION."""
    # Plain Python types: Ansible passes tagged str/int subclasses that yaml.safe_dump refuses.
    nta_arguments, default_tiers, default_actions = json.loads(
        json.dumps([nta_arguments or {}, default_tiers or [], str(default_actions)])
    )
    try:
        return plan_scheduler_conf(
            str(existing_text) if existing_text else None,
            nta_arguments=nta_arguments,
            enabled=bool(nta_enabled),
            default_actions=default_actions,
            default_tiers=default_tiers,
        )
    except SchedulerConfError as exc:
        raise AnsibleFilterError(f"hypertopo_scheduler_conf: {exc}") from None


class FilterModule:
    """hypertopo scheduler-configuration filter."""

    def filters(self) -> dict[str, Any]:
        return plain_filters({"hypertopo_scheduler_conf": hypertopo_scheduler_conf})
