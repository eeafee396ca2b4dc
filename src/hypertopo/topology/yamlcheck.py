"""Strict reading of the YAML files of an inventory: syntax errors and duplicate keys with their line.

Ansible's YAML loader lets the last of two equal keys win (with only a warning) and reports a
syntax error without saying which inventory file it is in. Here a file is composed (not
constructed: Ansible builds the values) into YAML nodes, which keep their line, and:

* a syntax error names the file, line and column;
* a key that appears twice in one mapping (including ``on``/``yes``/``true``, which YAML reads as
  the same boolean) names both lines;
* files encrypted with Ansible Vault are left to Ansible.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
#: What YAML turned an unquoted scalar into, in the words an operator knows.
KINDS = {
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:null": "empty (null)",
    "tag:yaml.org,2002:timestamp": "a date",
}


@dataclass(frozen=True)
class FileProblem:
    """A problem in one file, at a line when known."""

    path: str
    line: int | None
    what: str
    fix: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass
class YamlFile:
    """A composed YAML file: its root node (None when empty or unreadable) and its problems."""

    path: str
    root: yaml.Node | None = None
    problems: list[FileProblem] = field(default_factory=list)
    vaulted: bool = False

    def problem(self, node: yaml.Node | None, what: str, fix: str) -> None:
        self.problems.append(FileProblem(self.path, line_of(node), what, fix))


def line_of(node: yaml.Node | None) -> int | None:
    return None if node is None else node.start_mark.line + 1


def read_yaml(path: Path, shown_path: str) -> YamlFile:
    """Compose ``path``; record syntax errors and duplicate keys as problems."""
    result = YamlFile(shown_path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        result.problems.append(FileProblem(shown_path, None, "is not UTF-8 text", "save it as UTF-8 YAML"))
        return result
    except OSError as exc:
        result.problems.append(
            FileProblem(shown_path, None, f"cannot be read ({exc.strerror})", "fix its permissions")
        )
        return result
    if text.lstrip().startswith("$ANSIBLE_VAULT"):
        result.vaulted = True
        return result
    try:
        result.root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = f", column {mark.column + 1}" if mark else ""
        reason = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        result.problems.append(
            FileProblem(
                shown_path,
                line,
                f"is not valid YAML{column}: {reason}",
                "correct the YAML (indentation, a missing ':' or quote); `yamllint` shows the spot",
            )
        )
        return result
    except yaml.YAMLError as exc:
        result.problems.append(FileProblem(shown_path, None, f"is not valid YAML: {exc}", "correct the YAML"))
        return result
    _check_duplicates(result)
    return result


def key_value(node: yaml.Node) -> object:
    """The Python value of a scalar key as Ansible would build it (text for unknown tags)."""
    if node.tag == _STR:
        return node.value
    if isinstance(node, yaml.ScalarNode) and node.tag.startswith("tag:yaml.org,2002:"):
        try:
            return _CONSTRUCTOR.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError):
            return node.value
    return node.value if isinstance(node, yaml.ScalarNode) else None


def key_kind(node: yaml.Node) -> str | None:
    """What YAML made of an unquoted key that is not text ('a boolean', 'a number', ...), or None."""
    if not isinstance(node, yaml.ScalarNode):
        return "not a plain name"
    if node.tag == _STR or not node.tag.startswith("tag:yaml.org,2002:"):
        return None
    return KINDS.get(node.tag, "not text")


def items(node: yaml.Node | None) -> list[tuple[yaml.Node, yaml.Node]]:
    """The (key, value) node pairs of a mapping node (merge keys left out), else []."""
    if not isinstance(node, yaml.MappingNode):
        return []
    return [(k, v) for k, v in node.value if k.tag != _MERGE]


def kind_of(node: yaml.Node | None) -> str:
    """'mapping', 'list', 'null' or 'scalar'."""
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    if isinstance(node, yaml.SequenceNode):
        return "list"
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"):
        return "null"
    return "scalar"


def _walk(root: yaml.Node) -> Iterator[yaml.MappingNode]:
    """Every mapping node once (aliases share nodes, so this stays linear)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            yield node
            for k, v in node.value:
                stack.extend((k, v))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _check_duplicates(result: YamlFile) -> None:
    if result.root is None:
        return
    for mapping in _walk(result.root):
        first: dict[object, yaml.Node] = {}
        for key, _ in items(mapping):
            if not isinstance(key, yaml.ScalarNode):
                result.problem(key, "has a mapping key that is not a plain name", "use text keys only")
                continue
            value = key_value(key)
            try:
                earlier = first.setdefault(value, key)
            except TypeError:
                continue
            if earlier is not key:
                same = (
                    ""
                    if earlier.value == key.value
                    else f" (YAML reads '{earlier.value}' and '{key.value}' alike)"
                )
                result.problem(
                    key,
                    f"repeats the key '{key.value}' of line {line_of(earlier)}{same}; YAML would keep only "
                    "the last one",
                    "keep one entry per key (merge the two)",
                )
