"""The files of an inventory, checked before Ansible reads them.

* :func:`inventory_files` lists the inventory sources the way Ansible's ``InventoryManager`` walks a
  directory (sorted, ``host_vars``/``group_vars``/hidden and ignored extensions skipped).
* :func:`check_hosts_yaml` checks a YAML inventory file against what Ansible's ``yaml`` inventory
  plugin silently skips or half-parses: a group that is not a mapping, a key other than
  ``hosts``/``children``/``vars`` (e.g. ``host:``), a host or group name that YAML reads as a
  boolean, number or null (``on:``, ``yes:``, ``1:``), a host that does not map to its variables.
  Each problem names the file and line.
* :func:`check_vars_yaml` checks a ``group_vars``/``host_vars`` file: a mapping with text keys.
* :class:`Locations` remembers where each group, host and variable is written (``file:line``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hypertopo.topology.errors import close_match
from hypertopo.topology.yamlcheck import YamlFile, items, key_kind, kind_of, line_of

YAML_INVENTORY_EXTENSIONS = ("", ".yml", ".yaml", ".json")
_SECTIONS = ("hosts", "children", "vars")


@dataclass
class Locations:
    """Where things are written: ``file:line`` of groups, hosts and variables (first mention)."""

    groups: dict[str, str] = field(default_factory=dict)
    hosts: dict[str, str] = field(default_factory=dict)
    #: ("group" | "host", name, variable) -> "file:line"
    vars: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def var(self, kind: str, name: str, variable: str) -> str | None:
        return self.vars.get((kind, name, variable))


def inventory_files(source: Path) -> list[Path]:
    """The files Ansible parses as inventory sources for ``source`` (a file or a directory)."""
    from ansible.inventory.manager import IGNORED

    if not source.is_dir():
        return [source]
    found: list[Path] = []
    for name in sorted(os.listdir(source)):
        if IGNORED.search(os.fsencode(name)):
            continue
        found.extend(inventory_files(source / name))
    return found


def looks_like_yaml_inventory(path: Path, doc: YamlFile) -> bool:
    """Whether Ansible's yaml plugin reads ``path``: by its extension, or, without one, if it is a mapping."""
    ext = path.suffix
    if ext in (".yml", ".yaml", ".json"):
        return True
    return ext == "" and not doc.problems and kind_of(doc.root) == "mapping"


def _at(doc: YamlFile, node: yaml.Node | None) -> str:
    line = line_of(node)
    return f"{doc.path}:{line}" if line else doc.path


def _name_problem(doc: YamlFile, key: yaml.Node, what: str) -> bool:
    """Record a problem when ``key`` is not text; True when it is fine."""
    kind = key_kind(key)
    if kind is None:
        return True
    value = key.value if isinstance(key, yaml.ScalarNode) else "?"
    doc.problem(
        key,
        f"the {what} '{value}' is read by YAML as {kind}, so Ansible does not read it as a name",
        f"quote it: '{value}':",
    )
    return False


def check_hosts_yaml(doc: YamlFile, where: Locations) -> None:
    """Problems of a YAML inventory file (see the module docstring); records locations in ``where``."""
    root = doc.root
    if kind_of(root) == "null":
        doc.problem(root, "is empty", "describe the groups (all: {children: ...}) or remove the file")
        return
    if kind_of(root) != "mapping":
        doc.problem(root, f"is a {kind_of(root)}, not a mapping of groups", "start the file with 'all:'")
        return
    for key, value in items(root):
        _check_group(doc, key, value, where)


def _check_group(doc: YamlFile, key: yaml.Node, value: yaml.Node, where: Locations) -> None:
    if not _name_problem(doc, key, "group name"):
        return
    name = key.value
    where.groups.setdefault(name, _at(doc, key))
    if kind_of(value) not in ("mapping", "null"):
        doc.problem(
            value,
            f"group '{name}' is a {kind_of(value)}; Ansible skips it (and its hosts)",
            "write the group as a mapping: hosts:, children: and vars:",
        )
        return
    for section_key, section in items(value):
        if not _name_problem(doc, section_key, "key"):
            continue
        section_name = section_key.value
        if section_name not in _SECTIONS:
            close = close_match(section_name, _SECTIONS)
            hint = f" (did you mean '{close}'?)" if close else ""
            doc.problem(
                section_key,
                f"group '{name}' has the key '{section_name}', which Ansible ignores (with what is under it)",
                f"use only hosts:, children: and vars:{hint}",
            )
            continue
        kind = kind_of(section)
        if kind == "scalar" and isinstance(section, yaml.ScalarNode) and key_kind(section) is None:
            continue  # "hosts: node0" is Ansible's shorthand for one entry
        if kind not in ("mapping", "null"):
            doc.problem(
                section,
                f"'{section_name}' of group '{name}' is a {kind}, not a mapping",
                f"write {section_name}: as a mapping (name: {{...}} per entry)",
            )
            continue
        if section_name == "children":
            for child_key, child in items(section):
                _check_group(doc, child_key, child, where)
        elif section_name == "hosts":
            for host_key, host_vars in items(section):
                _check_host(doc, name, host_key, host_vars, where)
        else:
            _record_vars(doc, section, "group", name, where)


def _check_host(doc: YamlFile, group: str, key: yaml.Node, value: yaml.Node, where: Locations) -> None:
    if not _name_problem(doc, key, "host name"):
        return
    host = key.value
    where.hosts.setdefault(host, _at(doc, key))
    if kind_of(value) not in ("mapping", "null"):
        doc.problem(
            value,
            f"host '{host}' (group '{group}') is followed by a {kind_of(value)}, not its variables",
            f"write {host}: {{gpu_model: h100}} (a mapping), or {host}: with nothing after it",
        )
        return
    _record_vars(doc, value, "host", host, where)


def _record_vars(doc: YamlFile, node: yaml.Node, kind: str, name: str, where: Locations) -> None:
    for var_key, _ in items(node):
        if _name_problem(doc, var_key, "variable name"):
            where.vars.setdefault((kind, name, var_key.value), _at(doc, var_key))


def check_vars_yaml(doc: YamlFile, kind: str, name: str, where: Locations) -> None:
    """Problems of a ``group_vars``/``host_vars`` file of ``kind`` ('group'/'host') ``name``."""
    root = doc.root
    if doc.vaulted or kind_of(root) == "null":
        return
    if kind_of(root) != "mapping":
        doc.problem(
            root,
            f"is a {kind_of(root)}; a vars file is a mapping of variable names to values",
            "write 'variable: value' lines",
        )
        return
    _record_vars(doc, root, kind, name, where)


def top_level_keys(doc: YamlFile) -> list[str]:
    """The text keys at the top of a composed vars file."""
    return [k.value for k, _ in items(doc.root) if key_kind(k) is None]
