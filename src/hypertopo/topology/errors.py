"""Errors and problem reports of the topology model."""

from __future__ import annotations

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
