"""Go's ``regexp`` (RE2 syntax) for HyperNode ``regexMatch`` selectors.

Volcano v1.15.1 compiles ``spec.members[].selector.regexMatch.pattern`` with Go's
``regexp.Compile``: its admission webhook rejects a HyperNode whose pattern does not compile
(``pkg/webhooks/admission/hypernodes/validate/admit_hypernode.go``,
``validateHyperNodeRegexPattern``), and the scheduler selects the nodes whose name the pattern
matches anywhere (``pkg/scheduler/api/hyper_node_info.go``, ``GetMembers``:
``reg.MatchString(node.Name)``; a pattern that does not compile selects no node there).

:func:`compile_pattern` accepts and rejects exactly what Go's parser does (Go's error text
included) and matches in linear time (:mod:`.program`), never Python's backtracking ``re``.
On top of Go's rules the predictor refuses patterns nested deeper than ``MAX_HEIGHT`` or
compiling to more than ``program.MAX_PROGRAM`` instructions (:class:`RegexLimitError`), far
beyond any node-name pattern.
"""

from __future__ import annotations

from hypertopo.placement.goregexp.parse import GoSyntaxError, height, parse_pattern
from hypertopo.placement.goregexp.program import MAX_PROGRAM, MAX_WORK, Program, RegexLimitError

#: Parse-tree height the predictor evaluates (Go's own limit is 1000).
MAX_HEIGHT = 200

__all__ = ["MAX_HEIGHT", "GoRegexp", "GoSyntaxError", "RegexLimitError", "compile_pattern"]


class GoRegexp:
    """A compiled pattern: ``search(name)`` is Go's ``MatchString``."""

    def __init__(self, pattern: str, program: Program) -> None:
        self.pattern = pattern
        self.program = program

    def search(self, text: str) -> bool:
        return self.program.search(text)

    @property
    def work(self) -> int:
        """Instructions visited so far (the cost of every search, for bounds and tests)."""
        return self.program.work


def compile_pattern(pattern: str, *, max_program: int = MAX_PROGRAM, max_work: int = MAX_WORK) -> GoRegexp:
    """Compile like Go's ``regexp.Compile``; raises :class:`GoSyntaxError` or :class:`RegexLimitError`."""
    tree = parse_pattern(pattern)
    depth = height(tree)
    if depth > MAX_HEIGHT:
        raise RegexLimitError(
            f"nests {depth} levels deep, more than the {MAX_HEIGHT} the predictor evaluates"
        )
    return GoRegexp(pattern, Program(tree, max_program=max_program, max_work=max_work))
