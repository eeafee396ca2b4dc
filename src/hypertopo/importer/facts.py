"""What a source file says about the fabric, each fact with the file and line it came from."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Where:
    """A place in a source file (line 0: the file as a whole)."""

    file: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


class SourceError(ValueError):
    """A source cannot be imported; carries every problem, each naming its file and line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(f"  - {p}" for p in self.problems))


@dataclass
class Fabric:
    """The facts of one or more source files (merged by :func:`hypertopo.importer.build.build`)."""

    #: switch name -> (type, where it is described)
    switches: dict[str, tuple[str, Where]] = field(default_factory=dict)
    #: switch-to-switch links, undirected (the tiers decide which end is the parent)
    links: list[tuple[str, str, Where]] = field(default_factory=list)
    #: host -> the switches its adapters connect to, in file order (several: a multi-rail host)
    attach: dict[str, list[tuple[str, Where]]] = field(default_factory=dict)
    #: host -> (package GPU model, where)
    gpus: dict[str, tuple[str, Where]] = field(default_factory=dict)
    #: GPU models unknown to the package: model -> (topology_gpu_models entry, node resources)
    new_models: dict[str, tuple[dict[str, object], dict[str, str]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    #: switches whose type is only a source's default (LLDP and uplinks see management links): a
    #: type another source states wins
    weak: set[str] = field(default_factory=set)

    def add_switch(
        self, name: str, kind: str, where: Where, problems: list[str], *, weak: bool = False
    ) -> None:
        known = self.switches.get(name)
        if known is not None and weak:
            return
        if known is not None and name in self.weak:
            self.weak.discard(name)
            self.switches[name] = (kind, where)
            return
        if known is None and weak:
            self.weak.add(name)
        if known is not None and known[0] != kind:
            problems.append(
                f"{where}: switch '{name}' is {kind} here but {known[0]} at {known[1]}. "
                "Fix: give the two switches different names"
            )
            return
        self.switches.setdefault(name, (kind, where))

    def merge(self, other: Fabric, problems: list[str]) -> None:
        for name, (kind, where) in other.switches.items():
            self.add_switch(name, kind, where, problems, weak=name in other.weak)
        self.links += other.links
        for host, leaves in other.attach.items():
            self.attach.setdefault(host, []).extend(leaves)
        for host, gpu in other.gpus.items():
            self.gpus.setdefault(host, gpu)
        self.new_models.update(other.new_models)
        self.warnings += other.warnings
        self.sources += other.sources


def first_lines(text: str) -> dict[str, int]:
    """JSON string value -> the first line it appears on as a value (to locate JSON facts)."""
    out: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        for value in _JSON_VALUE.findall(line):
            out.setdefault(value, number)
    return out


_JSON_VALUE = re.compile(r':\s*"((?:[^"\\]|\\.)*)"')


def read_json(path: str, fix: str) -> tuple[object, str]:
    """(the parsed JSON, its text); not JSON is a located problem with ``fix``."""
    text = read_text(path)
    try:
        return json.loads(text), text
    except json.JSONDecodeError as exc:
        raise SourceError([f"{path}:{exc.lineno}: not JSON ({exc.msg}). Fix: {fix}"]) from None


def read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError([f"{path}: cannot read ({type(exc).__name__}: {exc})"]) from None
