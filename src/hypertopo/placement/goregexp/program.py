"""A parsed Go regexp compiled to a Thompson NFA and searched with a lazily built DFA.

Matching is ``regexp.MatchString``: does some substring match (an unanchored search). It runs
in time linear in the text: every text character takes one cached DFA transition, and a
transition that is not cached yet costs at most one pass over the program. The cache holds
at most ``MAX_DFA_STATES`` states (then it starts again, as RE2 does) and the total work of
one compiled pattern is capped by ``max_work`` (a :class:`RegexLimitError` beyond it), so
time and memory are bounded whatever the pattern.

Empty-width assertions follow ``syntax.EmptyOpContext``: ``^``/``\\A`` at the start,
``$``/``\\z`` at the end (line variants also at ``\\n``), ``\\b``/``\\B`` on ASCII word
characters ``[0-9A-Za-z_]``.
"""

from __future__ import annotations

from hypertopo.placement.goregexp import charset as cs
from hypertopo.placement.goregexp import parse as ps

#: The most NFA instructions a pattern may compile to (counted repetitions are expanded).
MAX_PROGRAM = 20_000
#: DFA states kept before the cache is cleared.
MAX_DFA_STATES = 10_000
#: Default work budget of one compiled pattern (instructions visited building DFA states).
MAX_WORK = 20_000_000

# instruction ops
_CHAR, _SPLIT, _EMPTY, _MATCH = 0, 1, 2, 3

# empty-width conditions (bits)
_BEGIN_LINE, _END_LINE, _BEGIN_TEXT, _END_TEXT, _WORD_B, _NO_WORD_B = 1, 2, 4, 8, 16, 32
_EMPTY_BITS = {
    ps.BEGIN_LINE: _BEGIN_LINE,
    ps.END_LINE: _END_LINE,
    ps.BEGIN_TEXT: _BEGIN_TEXT,
    ps.END_TEXT: _END_TEXT,
    ps.WORD_BOUNDARY: _WORD_B,
    ps.NO_WORD_BOUNDARY: _NO_WORD_B,
}

# kinds of the character before a position
_AT_START, _AFTER_NL, _AFTER_WORD, _AFTER_OTHER = 0, 1, 2, 3
_MATCHED = -1


class RegexLimitError(ValueError):
    """The pattern is valid Go but beyond what the predictor evaluates (size, nesting, work)."""


def _kind(code: int) -> int:
    if code == 10:
        return _AFTER_NL
    if code < 128 and (cs.WORD_MASK >> code) & 1:
        return _AFTER_WORD
    return _AFTER_OTHER


def _context(prev: int, next_code: int | None) -> int:
    """``EmptyOpContext`` between a character of kind ``prev`` and ``next_code`` (None: end)."""
    flags = 0
    if prev == _AT_START:
        flags |= _BEGIN_TEXT | _BEGIN_LINE
    elif prev == _AFTER_NL:
        flags |= _BEGIN_LINE
    if next_code is None:
        flags |= _END_TEXT | _END_LINE
    elif next_code == 10:
        flags |= _END_LINE
    next_word = next_code is not None and next_code < 128 and bool((cs.WORD_MASK >> next_code) & 1)
    flags |= _WORD_B if (prev == _AFTER_WORD) != next_word else _NO_WORD_B
    return flags


class _Compiler:
    """Builds the program backwards: ``emit(node, next)`` returns the entry leading to ``next``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.op: list[int] = []
        self.arg: list[object] = []
        self.out: list[int] = []
        self.out2: list[int] = []

    def inst(self, op: int, arg: object = None, out: int = -1, out2: int = -1) -> int:
        if len(self.op) >= self.limit:
            raise RegexLimitError(
                f"compiles to more than {self.limit:,} NFA instructions (counted repetitions expanded), "
                "more than the predictor evaluates"
            )
        self.op.append(op)
        self.arg.append(arg)
        self.out.append(out)
        self.out2.append(out2)
        return len(self.op) - 1

    def emit(self, node: ps.Node, nxt: int) -> int:
        op = node.op
        if op in (ps.LITERAL, ps.CLASS):
            for chars in reversed(node.chars):
                nxt = self.inst(_CHAR, chars, nxt)
            return nxt
        if op in _EMPTY_BITS:
            return self.inst(_EMPTY, _EMPTY_BITS[op], nxt)
        if op == ps.EMPTY_MATCH:
            return nxt
        if op == ps.CAPTURE:
            return self.emit(node.subs[0], nxt)
        if op == ps.CONCAT:
            for sub in reversed(node.subs):
                nxt = self.emit(sub, nxt)
            return nxt
        if op == ps.ALTERNATE:
            entries = [self.emit(sub, nxt) for sub in node.subs]
            entry = entries[-1]
            for other in reversed(entries[:-1]):
                entry = self.inst(_SPLIT, None, other, entry)
            return entry
        sub = node.subs[0]
        if op == ps.STAR:
            return self.star(sub, nxt)
        if op == ps.PLUS:
            loop = self.inst(_SPLIT, None, -1, nxt)
            body = self.emit(sub, loop)
            self.out[loop] = body
            return body
        if op == ps.QUEST:
            return self.inst(_SPLIT, None, self.emit(sub, nxt), nxt)
        return self.repeat(sub, node.min, node.max, nxt)

    def star(self, sub: ps.Node, nxt: int) -> int:
        loop = self.inst(_SPLIT, None, -1, nxt)
        self.out[loop] = self.emit(sub, loop)
        return loop

    def repeat(self, sub: ps.Node, lo: int, hi: int, nxt: int) -> int:
        """``x{lo,hi}`` as ``x`` ``lo`` times, then ``x*`` (hi -1) or ``(x(x)?)?`` nested ``hi-lo`` deep."""
        if hi < 0:
            tail = self.star(sub, nxt)
        else:
            tail = nxt
            for _ in range(hi - lo):
                tail = self.inst(_SPLIT, None, self.emit(sub, tail), nxt)
        for _ in range(lo):
            tail = self.emit(sub, tail)
        return tail


class Program:
    """A compiled pattern; :meth:`search` answers ``regexp.MatchString``."""

    def __init__(self, tree: ps.Node, *, max_program: int = MAX_PROGRAM, max_work: int = MAX_WORK) -> None:
        comp = _Compiler(max_program)
        match = comp.inst(_MATCH)
        self.start = comp.emit(tree, match)
        self.op = comp.op
        self.arg = comp.arg
        self.out = comp.out
        self.out2 = comp.out2
        self.max_work = max_work
        self.work = 0
        self._reset()

    def __len__(self) -> int:
        return len(self.op)

    def _reset(self) -> None:
        self._ids: dict[tuple[frozenset[int], int], int] = {}
        self._states: list[tuple[frozenset[int], int]] = []
        self._trans: list[dict[str, int]] = []
        self._final: list[bool | None] = []
        self._initial = self._state(frozenset(), _AT_START)

    def _state(self, pcs: frozenset[int], prev: int) -> int:
        key = (pcs, prev)
        sid = self._ids.get(key)
        if sid is None:
            sid = len(self._states)
            self._ids[key] = sid
            self._states.append(key)
            self._trans.append({})
            self._final.append(None)
        return sid

    def _closure(self, pcs: frozenset[int], context: int) -> tuple[list[int], bool]:
        """The CHAR instructions reachable from ``pcs`` and the start, and whether MATCH is."""
        op, out, out2, arg = self.op, self.out, self.out2, self.arg
        seen: set[int] = set()
        stack = [self.start, *pcs]
        chars: list[int] = []
        while stack:
            pc = stack.pop()
            if pc in seen:
                continue
            seen.add(pc)
            kind = op[pc]
            if kind == _CHAR:
                chars.append(pc)
            elif kind == _SPLIT:
                stack.append(out2[pc])
                stack.append(out[pc])
            elif kind == _EMPTY:
                if arg[pc] & context:  # type: ignore[operator]
                    stack.append(out[pc])
            else:
                self._spend(len(seen))
                return chars, True
        self._spend(len(seen))
        return chars, False

    def _spend(self, amount: int) -> None:
        self.work += amount
        if self.work > self.max_work:
            raise RegexLimitError(
                f"needs more than {self.max_work:,} steps over the node names, more than the predictor "
                "evaluates (simplify the pattern)"
            )

    def _step(self, sid: int, char: str) -> int:
        pcs, prev = self._states[sid]
        code = ord(char)
        chars, matched = self._closure(pcs, _context(prev, code))
        if matched:
            self._trans[sid][char] = _MATCHED
            return _MATCHED
        arg, out = self.arg, self.out
        nxt = frozenset(out[pc] for pc in chars if arg[pc].contains(code))  # type: ignore[attr-defined]
        self._spend(len(chars))
        if len(self._states) >= MAX_DFA_STATES:
            self._reset()
            return self._state(nxt, _kind(code))
        target = self._state(nxt, _kind(code))
        self._trans[sid][char] = target
        return target

    def search(self, text: str) -> bool:
        """Whether some substring of ``text`` matches (Go's ``MatchString``)."""
        sid = self._initial
        for char in text:
            nxt = self._trans[sid].get(char)
            if nxt is None:
                nxt = self._step(sid, char)
            if nxt == _MATCHED:
                return True
            sid = nxt
        final = self._final[sid]
        if final is None:
            pcs, prev = self._states[sid]
            final = self._closure(pcs, _context(prev, None))[1]
            self._final[sid] = final
        return final
