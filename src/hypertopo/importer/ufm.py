"""UFM REST resources saved to files (``/ufmRest/resources/systems`` and ``.../links``) -> facts.

Systems: a list of objects with ``system_guid`` (or ``guid``), ``system_name`` and ``type``
(``switch`` or ``host``). Links: a list with ``source_guid`` and ``destination_guid`` (ports and
the rest are not needed). Give both resources (in one or several files): a link end that no system
describes is an error. Host names: ``--host-regex`` on the system name, as for ibnetdiscover.
Switches are ``ib``.
"""

from __future__ import annotations

import re
from typing import Any

from hypertopo.importer.facts import Fabric, SourceError, Where, first_lines, read_json


def _load(path: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    doc, text = read_json(path, "save the UFM REST response")
    if not isinstance(doc, list) or not all(isinstance(i, dict) for i in doc):
        raise SourceError([f"{path}: not a UFM resource list (expected a JSON list of objects)"])
    return doc, first_lines(text)


def parse_ufm(paths: list[str], host_regex: str) -> Fabric:
    fabric = Fabric(sources=[f"{p} (ufm)" for p in paths])
    problems: list[str] = []
    systems: dict[str, tuple[str, str, Where]] = {}  # guid -> (type, name, where)
    links: list[tuple[dict[str, Any], Where]] = []
    host_re = re.compile(host_regex)
    for path in paths:
        items, lines = _load(path)
        for item in items:
            guid = str(item.get("system_guid") or item.get("guid") or "")
            if "source_guid" in item and "destination_guid" in item:
                links.append((item, Where(path, lines.get(str(item["source_guid"]), 0))))
            elif guid and "type" in item:
                name = str(item.get("system_name") or item.get("description") or "")
                systems[guid] = (str(item["type"]).lower(), name, Where(path, lines.get(guid, 0)))
            else:
                problems.append(
                    f"{Where(path, lines.get(guid, 0))}: neither a system (system_guid, type) "
                    "nor a link (source_guid, destination_guid)"
                )
    if not links:
        problems.append(f"{paths[0]}: no links. Fix: save /ufmRest/resources/links too")
    unknown: dict[str, Where] = {}
    for link, where in links:
        ends = []
        for side in ("source", "destination"):
            guid = str(link[f"{side}_guid"])
            kind, name, _w = systems.get(guid, ("", "", where))
            if not kind:
                unknown.setdefault(guid, where)
            ends.append((kind, name))
        _add(fabric, ends, where, host_re, problems)
    if unknown:
        guid, where = next(iter(unknown.items()))
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        problems.append(
            f"{where}: link end {guid} is in no systems file{more}. Fix: save "
            "/ufmRest/resources/systems and give it with the links"
        )
    if problems:
        raise SourceError(problems)
    return fabric


def _add(
    fabric: Fabric, ends: list[tuple[str, str]], where: Where, host_re: re.Pattern[str], problems: list[str]
) -> None:
    (ka, na), (kb, nb) = ends
    if not na or not nb:
        return
    if ka == "switch" and kb == "switch":
        fabric.add_switch(na, "ib", where, problems)
        fabric.add_switch(nb, "ib", where, problems)
        fabric.links.append((na, nb, where))
        return
    if "switch" in (ka, kb):
        host, switch = (na, nb) if kb == "switch" else (nb, na)
        found = host_re.search(host)
        if not found:
            problems.append(f"{where}: --host-regex {host_re.pattern!r} finds no name in {host!r}")
            return
        fabric.add_switch(switch, "ib", where, problems)
        fabric.attach.setdefault(found.group(1), []).append((switch, where))
