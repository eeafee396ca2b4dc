"""Read an Ansible inventory into plain data (groups with their own vars, hosts with merged vars).

Uses Ansible's own inventory and variable machinery, so every inventory format
Ansible accepts (YAML, INI, group_vars/ and host_vars/ directories) works.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SWITCH_VAR = "topology_switch"
_IGNORED_GROUPS = {"all", "ungrouped"}


@dataclass
class RawGroup:
    name: str
    vars: dict[str, Any]
    hosts: list[str]
    source: str


@dataclass
class RawHost:
    name: str
    vars: dict[str, Any]
    groups: list[str]
    source: str


@dataclass
class RawInventory:
    source: str
    groups: dict[str, RawGroup] = field(default_factory=dict)
    hosts: dict[str, RawHost] = field(default_factory=dict)
    all_vars: dict[str, Any] = field(default_factory=dict)
    load_errors: list[str] = field(default_factory=list)


def _vars_file(base: Path, kind: str, name: str, fallback: str) -> str:
    for candidate in (base / kind / f"{name}.yml", base / kind / f"{name}.yaml", base / kind / name):
        if candidate.exists():
            return _display(candidate)
    return fallback


def _display(path: Path | str) -> str:
    p = Path(path).resolve()
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)


_PLUGINS_READY: list[bool] = []


def _init_plugins(init: Any) -> None:
    """Initialise Ansible's plugin loader once per process (a no-op inside ansible-playbook)."""
    if not _PLUGINS_READY:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            init()
        _PLUGINS_READY.append(True)


def load_raw_inventory(*sources: str) -> RawInventory:
    """Parse ``sources`` with Ansible; group vars are each group's OWN vars (no inheritance)."""
    from ansible.errors import AnsibleError
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import init_plugin_loader
    from ansible.vars.manager import VariableManager
    from ansible.vars.plugins import get_vars_from_inventory_sources

    _init_plugins(init_plugin_loader)
    abs_sources = [os.path.abspath(s) for s in sources]
    label = ", ".join(_display(s) for s in abs_sources)
    raw = RawInventory(source=label)
    missing = [s for s in abs_sources if not os.path.exists(s)]
    if missing:
        raw.load_errors.append(f"inventory source {', '.join(missing)} does not exist")
        return raw
    loader = DataLoader()
    try:
        inventory = InventoryManager(loader=loader, sources=abs_sources)
    except AnsibleError as exc:  # pragma: no cover - Ansible prints its own reason
        raw.load_errors.append(f"Ansible could not parse the inventory: {exc}")
        return raw
    base = Path(abs_sources[0] if os.path.isdir(abs_sources[0]) else os.path.dirname(abs_sources[0]))
    hosts_file = next(
        (_display(p) for p in sorted(base.glob("hosts*")) if p.is_file()),
        _display(abs_sources[0]),
    )
    for name, group in inventory.groups.items():
        own = dict(group.get_vars())
        own.update(get_vars_from_inventory_sources(loader, inventory._sources, [group], "task"))
        if name == "all":
            raw.all_vars = own
        if name in _IGNORED_GROUPS:
            continue
        raw.groups[name] = RawGroup(
            name=name,
            vars=own,
            hosts=[h.name for h in group.hosts],
            source=_vars_file(base, "group_vars", name, hosts_file),
        )
    var_manager = VariableManager(loader=loader, inventory=inventory)
    for host in inventory.get_hosts():
        merged = var_manager.get_vars(host=host, include_hostvars=False)
        raw.hosts[host.name] = RawHost(
            name=host.name,
            vars={k: v for k, v in merged.items() if not k.startswith("ansible_") and k != "groups"},
            groups=[g.name for g in host.groups if g.name not in _IGNORED_GROUPS],
            source=_vars_file(base, "host_vars", host.name, hosts_file),
        )
    return raw
