"""``lldpctl -f json0`` output (lldpd) and a ``{switch: parent}`` uplinks YAML -> fabric facts.

One file per system, named ``<system>.json`` (the file name is the system's name: the neighbour
records name the other end only). A neighbour whose chassis announces the Bridge or Router
capability is a switch, named by its chassis name. A file whose name is such a switch is that
switch's view (its switch neighbours are links); every other file is a host's (its switch
neighbours are the leaves it is on; several: a multi-rail host). Switches are ``ethernet``; a
switch another source describes (the IB side) keeps that source's type.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from hypertopo.importer.facts import Fabric, SourceError, Where, first_lines, read_json, read_text

SWITCH_CAPABILITIES = ("Bridge", "Router")


def _values(node: Any) -> list[Any]:
    """json0 wraps every field in a list of objects; this unwraps ``[{"value": v}]`` and lists."""
    if isinstance(node, list):
        return node
    return [] if node is None else [node]


def _first_value(node: Any) -> str | None:
    for item in _values(node):
        if isinstance(item, dict) and isinstance(item.get("value"), str):
            return item["value"]
        if isinstance(item, str):
            return item
    return None


def _neighbours(path: str, doc: Any) -> list[tuple[str, bool]]:
    """(chassis name, is a switch) of every neighbour record."""
    if not isinstance(doc, dict) or "lldp" not in doc:
        raise SourceError(
            [
                f"{path}: not `lldpctl -f json0` output (no top-level 'lldp'). "
                "Fix: save `lldpctl -f json0` on each host and switch"
            ]
        )
    out = []
    for lldp in _values(doc["lldp"]):
        for iface in _values(lldp.get("interface") if isinstance(lldp, dict) else None):
            for chassis in _values(iface.get("chassis") if isinstance(iface, dict) else None):
                if not isinstance(chassis, dict):
                    continue
                name = _first_value(chassis.get("name"))
                if not name:
                    raise SourceError(
                        [
                            f"{path}: a neighbour without a chassis name (interface "
                            f"{_first_value(iface.get('name')) or '?'}). Fix: set the "
                            "system name on that switch"
                        ]
                    )
                caps = {
                    c.get("type"): c.get("enabled")
                    for c in _values(chassis.get("capability"))
                    if isinstance(c, dict)
                }
                out.append((name, any(caps.get(c) in (True, "true", "on") for c in SWITCH_CAPABILITIES)))
    return out


def parse_lldp(paths: list[str], uplinks: str | None = None) -> Fabric:
    fabric = Fabric(sources=[f"{p} (lldp)" for p in paths])
    problems: list[str] = []
    views: dict[str, tuple[str, list[tuple[str, bool]], dict[str, int]]] = {}
    for path in paths:
        doc, text = read_json(path, "save `lldpctl -f json0`")
        views[Path(path).stem] = (path, _neighbours(path, doc), first_lines(text))
    switches = {n for _, ns, _ in views.values() for n, is_switch in ns if is_switch}
    for system, (path, neighbours, lines) in views.items():
        for name, is_switch in neighbours:
            if not is_switch:
                continue
            where = Where(path, lines.get(name, 0))
            if system in switches:
                fabric.add_switch(system, "ethernet", Where(path), problems, weak=True)
                fabric.add_switch(name, "ethernet", where, problems, weak=True)
                fabric.links.append((system, name, where))
            else:
                fabric.add_switch(name, "ethernet", where, problems)
                fabric.attach.setdefault(system, []).append((name, where))
    if uplinks:
        read_uplinks(uplinks, fabric, problems)
    if problems:
        raise SourceError(problems)
    return fabric


def read_uplinks(path: str, fabric: Fabric, problems: list[str]) -> None:
    """``{switch: parent}``: a link from each switch to its parent (lines from the YAML)."""
    text = read_text(path)
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise SourceError([f"{path}: not YAML ({exc})"]) from None
    if not isinstance(root, yaml.MappingNode):
        raise SourceError([f"{path}:1: expected a mapping of switch: parent"])
    fabric.sources.append(f"{path} (uplinks)")
    for key, value in root.value:
        where = Where(path, key.start_mark.line + 1)
        if not isinstance(value, yaml.ScalarNode) or not value.value:
            problems.append(f"{where}: the parent of {key.value} must be one switch name")
            continue
        for name in (key.value, value.value):
            fabric.add_switch(name, "ethernet", where, problems, weak=True)
        fabric.links.append((key.value, value.value, where))
