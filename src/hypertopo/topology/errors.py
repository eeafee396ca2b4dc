"""Errors and problem reports of the topology model."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an inventory: where it is, what it is, how to fix it."""

    where: str  # e.g. "group 'ib-switch0' (inventory/seed/group_vars/ib-switch0.yml)"
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}. Fix: {self.fix}"


class TopologyError(ValueError):
    """The inventory is invalid. Carries every problem found, not just the first."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = [
            f"inventory {source} is invalid ({len(problems)} problem(s)); nothing was rendered or applied:"
        ]
        lines += [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


_SHOWN_CHARS = 40


def shown(value: object) -> str:
    """``value`` for a message: text quoted and shortened, a mapping or list by its kind."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null (empty)"}[value]
    if isinstance(value, int):
        if value.bit_length() > 128:
            return f"a number of about {int(value.bit_length() * 0.30103)} digits"
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        if len(value) > _SHOWN_CHARS:
            return f"'{value[:_SHOWN_CHARS]}...' ({len(value)} characters)"
        return f"'{value}'"
    if isinstance(value, dict):
        return "(a mapping)"
    if isinstance(value, list | tuple):
        return "(a list)"
    return f"(a {type(value).__name__})"


def close_match(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice ``word`` most likely misspells (for a "did you mean" hint), or None."""
    found = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=cutoff)
    return found[0] if found else None
