"""Volcano's scheduler configuration (``volcano-scheduler.conf``): parse, merge, render, defaults.

Shared by the ``scheduler_config`` role's planner (:mod:`hypertopo.rollout.scheduler_config`),
the predictor and the local control plane. One source of truth for the defaults: the
``scheduler_config`` role's defaults (``roles/scheduler_config/defaults/main.yml``) feed the role,
the predictor's default configuration and the local control plane
(:func:`default_conf_from_role`). The package reads them as package data
(``hypertopo/data/scheduler_config_defaults.yml``, a symbolic link to the role's file in the
repository that the wheel build turns into a copy), so an installed package needs no checkout.
"""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any

import yaml

NTA_PLUGIN = "network-topology-aware"
ROLE_DEFAULTS = "scheduler_config_defaults.yml"  # package data: hypertopo/data/


class SchedulerConfError(ValueError):
    """The existing scheduler configuration cannot be parsed or merged."""


def parse_conf(text: str | None) -> dict[str, Any] | None:
    """Parse a ``volcano-scheduler.conf`` text; ``None``/empty gives ``None``."""
    if not text or not text.strip():
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SchedulerConfError(f"volcano-scheduler.conf is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SchedulerConfError("volcano-scheduler.conf must be a mapping with 'actions' and 'tiers'")
    tiers = data.get("tiers", [])
    if not isinstance(tiers, list) or not all(isinstance(t, dict) for t in tiers):
        raise SchedulerConfError("volcano-scheduler.conf: 'tiers' must be a list of {plugins: [...]}")
    return data


def merge_conf(
    existing: dict[str, Any] | None,
    *,
    nta_arguments: dict[str, Any],
    nta_enabled: bool = True,
    default_actions: str = "enqueue, allocate, backfill",
    default_tiers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Return ``existing`` with the network-topology-aware plugin set as wanted.

    Every other action, plugin and argument the operator has is kept. If the
    plugin is already present (in any tier) its arguments are replaced in place;
    otherwise it is appended to the last tier. ``nta_enabled=False`` removes it.
    """
    conf = (
        copy.deepcopy(existing)
        if existing
        else {
            "actions": default_actions,
            "tiers": copy.deepcopy(default_tiers or []),
        }
    )
    tiers: list[dict[str, Any]] = conf.setdefault("tiers", [])
    if not tiers:
        tiers.append({"plugins": []})
    found = False
    for tier in tiers:
        plugins = tier.setdefault("plugins", []) or []
        kept = []
        for plugin in plugins:
            if isinstance(plugin, dict) and plugin.get("name") == NTA_PLUGIN:
                if nta_enabled and not found:
                    plugin["arguments"] = copy.deepcopy(nta_arguments)
                    kept.append(plugin)
                    found = True
                continue
            kept.append(plugin)
        tier["plugins"] = kept
    if nta_enabled and not found:
        tiers[-1]["plugins"].append({"name": NTA_PLUGIN, "arguments": copy.deepcopy(nta_arguments)})
    return conf


def dump_conf(conf: dict[str, Any]) -> str:
    """Serialise deterministically (stable text means an idempotent ConfigMap)."""
    return yaml.safe_dump(conf, sort_keys=False, default_flow_style=False)


def nta_enabled(conf: dict[str, Any] | None) -> bool:
    """True when the configuration enables the network-topology-aware plugin."""
    if not conf:
        return False
    return any(
        isinstance(p, dict) and p.get("name") == NTA_PLUGIN
        for tier in conf.get("tiers") or []
        for p in (tier.get("plugins") or [])
    )


def nta_arguments(conf: dict[str, Any] | None) -> dict[str, Any]:
    """The network-topology-aware plugin's arguments ({} when absent)."""
    for tier in (conf or {}).get("tiers") or []:
        for p in tier.get("plugins") or []:
            if isinstance(p, dict) and p.get("name") == NTA_PLUGIN:
                return dict(p.get("arguments") or {})
    return {}


def role_defaults() -> dict[str, Any]:
    """The scheduler_config role's defaults (the single source of truth)."""
    return yaml.safe_load(resources.files("hypertopo.data").joinpath(ROLE_DEFAULTS).read_text())


def default_conf_from_role(*, nta_enabled_override: bool | None = None) -> dict[str, Any]:
    """The configuration the role would write into an empty cluster."""
    d = role_defaults()
    return merge_conf(
        None,
        nta_arguments=d["scheduler_config_nta_arguments"],
        nta_enabled=d["scheduler_config_nta_enabled"]
        if nta_enabled_override is None
        else nta_enabled_override,
        default_actions=d["scheduler_config_default_actions"],
        default_tiers=d["scheduler_config_default_tiers"],
    )
