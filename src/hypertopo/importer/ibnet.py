"""``ibnetdiscover`` topology output (infiniband-diags) -> fabric facts.

The text is a list of blocks, one per node: header lines (``vendid=``, ``devid=``,
``sysimgguid=``, ``switchguid=``/``caguid=``), the node line
(``Switch 40 "S-<guid>" # "<NodeDescription>" ... lid 1``, ``Ca 2 "H-<guid>" # "node17 mlx5_0"``),
then one line per connected port (``[3] "H-<guid>"[1](<portguid>) # "node17 mlx5_0" lid 5 4xHDR``).
Host names come from the CA NodeDescription (``--host-regex``, default its first word), switch
names from the switch NodeDescription (``--switch-regex``, default the word after an ``MF0;``
prefix and before ``:``, else the first word).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hypertopo.importer.facts import Fabric, SourceError, Where

HOST_REGEX = r"^(\S+)"
SWITCH_REGEX = r"^(?:[^;\s]*;)?([^:\s]+)"

_HEADER = re.compile(r"^(vendid|devid|sysimgguid|switchguid|caguid|rtrguid)=\S+")
_NODE = re.compile(r'^(Switch|Ca|Rt)\s+(\d+)\s+"([SHR]-[0-9A-Fa-f]+)"\s*(?:#\s*"([^"]*)")?')
_PORT = re.compile(r'^\[(\d+)\](?:\([0-9A-Fa-f]+\))?\s+"([SHR]-[0-9A-Fa-f]+)"\[(\d+)\]')


@dataclass
class _Node:
    kind: str
    desc: str
    where: Where


def parse_ibnetdiscover(
    path: str, text: str, *, host_regex: str = HOST_REGEX, switch_regex: str = SWITCH_REGEX
) -> Fabric:
    """The switches, switch links and host attachments of an ibnetdiscover file."""
    problems: list[str] = []
    nodes: dict[str, _Node] = {}
    ports: list[tuple[str, str, Where]] = []  # (this node, peer node, where)
    current: str | None = None
    seen_node = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        where = Where(path, number)
        if not line or line.startswith("#"):
            if not line:
                current = None
            continue
        node = _NODE.match(line)
        if node:
            kind, _count, guid, desc = node.groups()
            if guid in nodes:
                problems.append(f"{where}: node {guid} is described twice (first at {nodes[guid].where})")
            nodes[guid] = _Node(kind, desc or "", where)
            current, seen_node = guid, True
            continue
        if _HEADER.match(line):
            continue
        port = _PORT.match(line)
        if port and current is not None:
            ports.append((current, port.group(2), where))
            continue
        what = "a port line outside a node block" if port else f"unrecognised line {line[:60]!r}"
        if not seen_node:
            raise SourceError(
                [
                    f"{where}: not ibnetdiscover output ({what}). Fix: give the output of "
                    "`ibnetdiscover` (the topology text), or another source kind"
                ]
            )
        problems.append(f"{where}: {what}. Fix: give the complete, unedited output of ibnetdiscover")
    if not seen_node:
        problems.append(f"{Where(path)}: no Switch or Ca line: not ibnetdiscover output, or empty")
    fabric = Fabric(sources=[f"{path} (ibnetdiscover)"])
    names = _names(nodes, host_regex, switch_regex, problems)
    _links(fabric, nodes, names, ports, problems)
    if problems:
        raise SourceError(problems)
    return fabric


def _names(
    nodes: dict[str, _Node], host_regex: str, switch_regex: str, problems: list[str]
) -> dict[str, str]:
    host_re, switch_re = re.compile(host_regex), re.compile(switch_regex)
    names: dict[str, str] = {}
    owner: dict[str, tuple[str, Where]] = {}
    for guid, node in nodes.items():
        if node.kind == "Rt":
            continue
        is_switch = node.kind == "Switch"
        what, pattern = ("switch", switch_re) if is_switch else ("CA", host_re)
        if not node.desc.strip():
            problems.append(
                f"{node.where}: {what} {guid} has no NodeDescription, so it has no name. Fix: set it "
                "on the node (CAs: /sys/class/infiniband/<hca>/node_desc) and discover again"
            )
            continue
        found = pattern.search(node.desc)
        if not found or not found.group(1):
            flag = "--switch-regex" if is_switch else "--host-regex"
            problems.append(f"{node.where}: {flag} {pattern.pattern!r} finds no name in {node.desc!r}")
            continue
        name = found.group(1)
        if is_switch:
            other = owner.get(name)
            if other is not None and other[0] != guid:
                problems.append(
                    f"{node.where}: switch name '{name}' also names {other[0]} ({other[1]}). "
                    "Fix: give every switch its own NodeDescription"
                )
            owner[name] = (guid, node.where)
        names[guid] = name
    return names


def _links(
    fabric: Fabric,
    nodes: dict[str, _Node],
    names: dict[str, str],
    ports: list[tuple[str, str, Where]],
    problems: list[str],
) -> None:
    pairs: set[frozenset[str]] = set()
    cas: dict[str, dict[str, Where]] = {}  # CA guid -> switch guid -> where
    dangling: list[tuple[str, Where]] = []
    for guid, peer, where in ports:
        if peer not in nodes:
            dangling.append((peer, where))
            continue
        if guid not in names or peer not in names:
            continue
        kinds = (nodes[guid].kind, nodes[peer].kind)
        if kinds == ("Switch", "Switch"):
            fabric.add_switch(names[guid], "ib", nodes[guid].where, problems)
            if frozenset((guid, peer)) not in pairs:
                fabric.links.append((names[guid], names[peer], where))
            pairs.add(frozenset((guid, peer)))
        elif "Ca" in kinds and "Switch" in kinds:
            ca, switch = (guid, peer) if kinds[0] == "Ca" else (peer, guid)
            fabric.add_switch(names[switch], "ib", nodes[switch].where, problems)
            cas.setdefault(ca, {}).setdefault(switch, nodes[ca].where)
    if dangling:
        peer, where = dangling[0]
        more = f" (and {len(dangling) - 1} more links)" if len(dangling) > 1 else ""
        problems.append(
            f"{where}: link to {peer}, which the file never describes{more}: a truncated "
            "file? Fix: give the complete output of ibnetdiscover"
        )
    for ca in sorted(cas, key=lambda g: nodes[g].where.line):
        for switch, where in cas[ca].items():
            fabric.attach.setdefault(names[ca], []).append((names[switch], where))
