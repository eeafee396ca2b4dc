"""Read an Ansible inventory into plain data (groups with their own vars, hosts with merged vars).

Uses Ansible's own inventory and variable machinery, so every inventory format
Ansible accepts (YAML, INI, group_vars/ and host_vars/ directories) works.
"""

from __future__ import annotations

import os
from collections.abc import Callable
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


def init_ansible_plugins() -> None:
    """Initialise Ansible's plugin loader once per process (a no-op inside ansible-playbook)."""
    if not _PLUGINS_READY:
        import warnings

        from ansible.plugins.loader import init_plugin_loader

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            init_plugin_loader()
        _PLUGINS_READY.append(True)


def load_raw_inventory(*sources: str) -> RawInventory:
    """Parse ``sources`` with Ansible; group vars are each group's OWN vars (no inheritance)."""
    from ansible.errors import AnsibleError
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.vars.plugins import get_vars_from_inventory_sources

    init_ansible_plugins()
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
    host_vars_of = inventory_host_vars(loader, inventory)
    host_vars_dir = (base / "host_vars").is_dir()
    for host in inventory.get_hosts():
        merged = host_vars_of(host)
        raw.hosts[host.name] = RawHost(
            name=host.name,
            vars={k: v for k, v in merged.items() if not k.startswith("ansible_")},
            groups=[g.name for g in host.groups if g.name not in _IGNORED_GROUPS],
            source=_vars_file(base, "host_vars", host.name, hosts_file) if host_vars_dir else hosts_file,
        )
    return raw


def inventory_host_vars(loader: Any, inventory: Any) -> Callable[[Any], dict[str, Any]]:
    """A function giving a host's inventory variables, merged as Ansible merges them.

    Same precedence as ``VariableManager.get_vars(host=...)`` without a play or task
    (``VARIABLE_PRECEDENCE`` over the ``all`` group and the host's groups, then the
    host's inventory vars, then its ``host_vars``; ``hash_behaviour`` honoured), minus
    magic variables and facts, which an inventory does not define. ``get_vars`` does
    the group part again for every host, deep-copying each group_vars file; here it
    is done once per distinct set of groups (8,192 hosts: 1.4 s -> ~0.1 s).
    The returned dicts share nested values between hosts: treat them as read-only.
    """
    from ansible import constants as C
    from ansible.inventory.helpers import get_group_vars, sort_groups
    from ansible.utils.vars import combine_vars
    from ansible.vars.plugins import get_vars_from_inventory_sources

    all_group = inventory.groups["all"]

    def plugin_vars(entities: list[Any]) -> dict[str, Any]:
        return get_vars_from_inventory_sources(loader, inventory._sources, entities, "task")

    def by_groups(groups: list[Any]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for group in groups:
            data = combine_vars(data, plugin_vars([group]))
        return data

    by_group_set: dict[tuple[str, ...], dict[str, Any]] = {}

    def group_part(groups: list[Any]) -> dict[str, Any]:
        key = tuple(g.name for g in groups)
        if key not in by_group_set:
            entries: dict[str, Callable[[], dict[str, Any]]] = {
                "all_inventory": all_group.get_vars,
                "groups_inventory": lambda: get_group_vars(groups),
                "all_plugins_inventory": lambda: plugin_vars([all_group]),
                "groups_plugins_inventory": lambda: plugin_vars(groups),
                "plugins_by_groups": lambda: by_groups(groups),
                # The *_plugins_play entries read vars next to a playbook: none without a play.
                "all_plugins_play": dict,
                "groups_plugins_play": dict,
            }
            data: dict[str, Any] = {}
            for entry in C.VARIABLE_PRECEDENCE:
                if entry in entries:
                    data = combine_vars(data, entries[entry]())
            by_group_set[key] = data
        return by_group_set[key]

    def host_vars(host: Any) -> dict[str, Any]:
        groups = sort_groups([g for g in host.get_groups() if g.name != "all"])
        data = combine_vars(group_part(groups), host.get_vars())
        return combine_vars(data, plugin_vars([host]))

    return host_vars
