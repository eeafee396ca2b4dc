"""Go's ``regexp/syntax`` parser (``parse.go``, ``Parse(pattern, syntax.Perl)`` as ``regexp.Compile``
calls it), ported so that a pattern is accepted or rejected exactly as Go does, with Go's error
text (``error parsing regexp: <code>: `<expr>```).

The tree keeps what matching and Go's limits need: literal runs are one node, alternations of
single characters one class, like Go's parser; Go's prefix factoring of alternations is not
reproduced (it changes no answer, only the tree height that ``expression nests too deeply``
counts, by a level at most per factored alternation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypertopo.placement.goregexp import charset as cs
from hypertopo.placement.goregexp.tables import UNICODE_CLASSES

# node ops
LITERAL = "literal"  # chars: one CharSet per rune
CLASS = "class"  # chars: one CharSet
BEGIN_LINE = "begin-line"
END_LINE = "end-line"
BEGIN_TEXT = "begin-text"
END_TEXT = "end-text"
WORD_BOUNDARY = "word-boundary"
NO_WORD_BOUNDARY = "no-word-boundary"
CAPTURE = "capture"
STAR = "star"
PLUS = "plus"
QUEST = "quest"
REPEAT = "repeat"
CONCAT = "concat"
ALTERNATE = "alternate"
EMPTY_MATCH = "empty"

# flags (``syntax.Flags`` that parsing changes)
FOLD_CASE = 1
DOT_NL = 2
ONE_LINE = 4
NON_GREEDY = 8
_ALL_FLAGS = FOLD_CASE | DOT_NL | ONE_LINE | NON_GREEDY

# error codes (``syntax.ErrorCode``)
ERR_INVALID_CHAR_RANGE = "invalid character class range"
ERR_INVALID_ESCAPE = "invalid escape sequence"
ERR_INVALID_NAMED_CAPTURE = "invalid named capture"
ERR_INVALID_PERL_OP = "invalid or unsupported Perl syntax"
ERR_INVALID_REPEAT_OP = "invalid nested repetition operator"
ERR_INVALID_REPEAT_SIZE = "invalid repeat count"
ERR_MISSING_BRACKET = "missing closing ]"
ERR_MISSING_PAREN = "missing closing )"
ERR_MISSING_REPEAT_ARGUMENT = "missing argument to repetition operator"
ERR_TRAILING_BACKSLASH = "trailing backslash at end of expression"
ERR_UNEXPECTED_PAREN = "unexpected )"
ERR_NESTING_DEPTH = "expression nests too deeply"

#: ``maxHeight``: Go refuses parse trees higher than this.
GO_MAX_HEIGHT = 1000
#: Go's bound on counted repetition (``{n,m}``), also on their nested product.
GO_MAX_REPEAT = 1000


class GoSyntaxError(ValueError):
    """Go's ``*syntax.Error``: ``code`` and the offending ``expr``."""

    def __init__(self, code: str, expr: str) -> None:
        super().__init__(f"error parsing regexp: {code}: `{expr}`")
        self.code = code
        self.expr = expr


@dataclass(slots=True)
class Node:
    op: str
    subs: list[Node] = field(default_factory=list)
    chars: list[cs.CharSet] = field(default_factory=list)
    min: int = 0
    max: int = 0
    fold: bool = False  # a literal's (?i) flag (runs merge only with equal flags)


@dataclass(slots=True)
class _Frame:
    saved_flags: int
    capture: bool
    branches: list[Node] = field(default_factory=list)
    items: list[Node] = field(default_factory=list)


def _is_char(node: Node) -> bool:
    return (node.op == LITERAL and len(node.chars) == 1) or node.op == CLASS


def _is_digit(ch: str) -> bool:
    return "0" <= ch <= "9"


def _is_alnum(ch: str) -> bool:
    return _is_digit(ch) or "A" <= ch <= "Z" or "a" <= ch <= "z"


def _unhex(ch: str) -> int:
    if _is_digit(ch):
        return ord(ch) - ord("0")
    if "a" <= ch <= "f":
        return ord(ch) - ord("a") + 10
    if "A" <= ch <= "F":
        return ord(ch) - ord("A") + 10
    return -1


def canonical_name(name: str) -> str:
    """Go's ``canonicalName`` for ``\\p{...}``: drop `` ``, ``_``, ``-``; first letter upper, rest lower."""
    out: list[str] = []
    for ch in name:
        if ch in " _-":
            continue
        if not out:
            out.append(ch.upper() if "a" <= ch <= "z" else ch)
        else:
            out.append(ch.lower() if "A" <= ch <= "Z" else ch)
    return "".join(out)


_ESCAPES = {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.s = pattern
        self.n = len(pattern)
        self.flags = ONE_LINE  # syntax.Perl: ClassNL | OneLine | PerlX | UnicodeGroups
        self.frames = [_Frame(self.flags, capture=False)]

    # ------------------------------------------------------------------ stack

    @property
    def items(self) -> list[Node]:
        return self.frames[-1].items

    def push(self, node: Node) -> None:
        self.items.append(node)

    def op(self, op: str) -> None:
        self.push(Node(op))

    def literal(self, code: int) -> None:
        fold = bool(self.flags & FOLD_CASE)
        self.push(Node(LITERAL, chars=[cs.literal(code, fold)], fold=fold))

    def char_class(self, chars: cs.CharSet) -> None:
        self.push(Node(CLASS, chars=[chars]))

    def close_branch(self) -> None:
        frame = self.frames[-1]
        frame.branches.append(_concat(frame.items))
        frame.items = []

    def close_frame(self) -> Node:
        self.close_branch()
        frame = self.frames.pop()
        node = _alternate(frame.branches)
        self.flags = frame.saved_flags
        return Node(CAPTURE, [node]) if frame.capture else node

    # ------------------------------------------------------------------ main loop

    def parse(self) -> Node:
        s, n = self.s, self.n
        i = 0
        last_repeat: int | None = None
        while i < n:
            repeat: int | None = None
            ch = s[i]
            if ch == "(":
                if i + 1 < n and s[i + 1] == "?":
                    i = self.perl_flags(i)
                else:
                    self.frames.append(_Frame(self.flags, capture=True))
                    i += 1
            elif ch == "|":
                self.close_branch()
                i += 1
            elif ch == ")":
                if len(self.frames) == 1:
                    raise GoSyntaxError(ERR_UNEXPECTED_PAREN, s)
                node = self.close_frame()
                self.push(node)
                i += 1
            elif ch == "^":
                self.op(BEGIN_TEXT if self.flags & ONE_LINE else BEGIN_LINE)
                i += 1
            elif ch == "$":
                self.op(END_TEXT if self.flags & ONE_LINE else END_LINE)
                i += 1
            elif ch == ".":
                self.char_class(cs.ANY if self.flags & DOT_NL else cs.ANY_NOT_NL)
                i += 1
            elif ch == "[":
                i = self.parse_class(i)
            elif ch in "*+?":
                op = {"*": STAR, "+": PLUS, "?": QUEST}[ch]
                repeat = i
                i = self.repeat(op, 0, 0, i, i + 1, last_repeat)
            elif ch == "{":
                parsed = self.parse_repeat(i)
                if parsed is None:
                    self.literal(ord("{"))
                    i += 1
                else:
                    lo, hi, after = parsed
                    if lo < 0 or lo > GO_MAX_REPEAT or hi > GO_MAX_REPEAT or (hi >= 0 and lo > hi):
                        raise GoSyntaxError(ERR_INVALID_REPEAT_SIZE, s[i:after])
                    repeat = i
                    i = self.repeat(REPEAT, lo, hi, i, after, last_repeat)
            elif ch == "\\":
                i = self.backslash(i)
            else:
                self.literal(ord(ch))
                i += 1
            last_repeat = repeat
        self.close_branch()
        if len(self.frames) != 1:
            raise GoSyntaxError(ERR_MISSING_PAREN, s)
        frame = self.frames.pop()
        return _alternate(frame.branches)

    # ------------------------------------------------------------------ repetition

    def repeat(self, op: str, lo: int, hi: int, before: int, after: int, last_repeat: int | None) -> int:
        """``parser.repeat``: wrap the last item; returns the index after the operator."""
        s = self.s
        if after < self.n and s[after] == "?":
            after += 1  # non-greedy: no effect on whether a name matches
        if last_repeat is not None:
            raise GoSyntaxError(ERR_INVALID_REPEAT_OP, s[last_repeat:after])
        items = self.items
        if not items:
            raise GoSyntaxError(ERR_MISSING_REPEAT_ARGUMENT, s[before:after])
        node = Node(op, [items[-1]], min=lo, max=hi)
        items[-1] = node
        if op == REPEAT and (lo >= 2 or hi >= 2) and not _repeat_is_valid(node, GO_MAX_REPEAT):
            raise GoSyntaxError(ERR_INVALID_REPEAT_SIZE, s[before:after])
        return after

    def parse_int(self, i: int) -> tuple[int, int] | None:
        """``parseInt``: decimal, no leading zero; values from 10^8 on become -1."""
        s, n = self.s, self.n
        if i >= n or not _is_digit(s[i]):
            return None
        if i + 1 < n and s[i] == "0" and _is_digit(s[i + 1]):
            return None
        value = 0
        j = i
        while j < n and _is_digit(s[j]):
            if value != -1:
                value = -1 if value >= 10**8 else value * 10 + ord(s[j]) - ord("0")
            j += 1
        return value, j

    def parse_repeat(self, i: int) -> tuple[int, int, int] | None:
        """``{n}``, ``{n,}``, ``{n,m}`` at ``i`` -> (min, max (-1: none), index after), or None."""
        s, n = self.s, self.n
        got = self.parse_int(i + 1)
        if got is None:
            return None
        lo, j = got
        if j >= n:
            return None
        if s[j] != ",":
            hi = lo
        else:
            j += 1
            if j >= n:
                return None
            if s[j] == "}":
                hi = -1
            else:
                got = self.parse_int(j)
                if got is None:
                    return None
                hi, j = got
                if hi < 0:
                    lo = -1
        if j >= n or s[j] != "}":
            return None
        return lo, hi, j + 1

    # ------------------------------------------------------------------ groups and flags

    def perl_flags(self, i: int) -> int:
        """``parsePerlFlags`` at ``(?``: named captures, flag groups; returns the index after."""
        s, n = self.s, self.n
        t = s[i:]
        starts_p = len(t) > 4 and t[2] == "P" and t[3] == "<"
        starts_name = len(t) > 3 and t[2] == "<"
        if starts_p or starts_name:
            end = t.find(">")
            if end < 0:
                raise GoSyntaxError(ERR_INVALID_NAMED_CAPTURE, t)
            name = t[4 if starts_p else 3 : end]
            if not name or not all(ch == "_" or _is_alnum(ch) for ch in name):
                raise GoSyntaxError(ERR_INVALID_NAMED_CAPTURE, t[: end + 1])
            self.frames.append(_Frame(self.flags, capture=True))
            return i + end + 1
        j = i + 2
        flags = self.flags
        negative = False
        saw_flag = False
        while j < n:
            ch = s[j]
            j += 1
            if ch == "i":
                flags |= FOLD_CASE
                saw_flag = True
            elif ch == "m":
                flags &= ~ONE_LINE
                saw_flag = True
            elif ch == "s":
                flags |= DOT_NL
                saw_flag = True
            elif ch == "U":
                flags |= NON_GREEDY
                saw_flag = True
            elif ch == "-":
                if negative:
                    break
                negative = True
                flags ^= _ALL_FLAGS
                saw_flag = False
            elif ch in ":)":
                if negative:
                    if not saw_flag:
                        break
                    flags ^= _ALL_FLAGS
                if ch == ":":
                    self.frames.append(_Frame(self.flags, capture=False))
                self.flags = flags & _ALL_FLAGS
                return j
            else:
                break
        raise GoSyntaxError(ERR_INVALID_PERL_OP, s[i:j])

    # ------------------------------------------------------------------ escapes

    def backslash(self, i: int) -> int:
        s, n = self.s, self.n
        if i + 1 < n:
            ch = s[i + 1]
            simple = {"A": BEGIN_TEXT, "b": WORD_BOUNDARY, "B": NO_WORD_BOUNDARY, "z": END_TEXT}
            if ch in simple:
                self.op(simple[ch])
                return i + 2
            if ch == "C":
                raise GoSyntaxError(ERR_INVALID_ESCAPE, s[i : i + 2])
            if ch == "Q":
                end = s.find(r"\E", i + 2)
                text = s[i + 2 :] if end < 0 else s[i + 2 : end]
                for lit in text:
                    self.literal(ord(lit))
                return n if end < 0 else end + 2
            if ch in "pP":
                chars, j = self.unicode_class(i)
                self.char_class(chars)
                return j
            perl = cs.PERL_GROUPS.get(s[i : i + 2])
            if perl is not None:
                self.char_class(cs.group(perl[0], perl[1], bool(self.flags & FOLD_CASE)))
                return i + 2
        code, j = self.escape(i)
        self.literal(code)
        return j

    def escape(self, i: int) -> tuple[int, int]:
        """``parseEscape`` at ``\\``: the escaped rune and the index after it."""
        s, n = self.s, self.n
        j = i + 1
        if j >= n:
            raise GoSyntaxError(ERR_TRAILING_BACKSLASH, "")
        ch = s[j]
        j += 1
        if ord(ch) < 0x80 and not _is_alnum(ch):
            return ord(ch), j
        if "1" <= ch <= "7" and (j >= n or not "0" <= s[j] <= "7"):
            raise GoSyntaxError(ERR_INVALID_ESCAPE, s[i:j])
        if "0" <= ch <= "7":
            value = ord(ch) - ord("0")
            for _ in range(2):
                if j >= n or not "0" <= s[j] <= "7":
                    break
                value = value * 8 + ord(s[j]) - ord("0")
                j += 1
            return value, j
        if ch == "x":
            return self._hex_escape(i, j)
        if ch in _ESCAPES:
            return _ESCAPES[ch], j
        raise GoSyntaxError(ERR_INVALID_ESCAPE, s[i:j])

    def _hex_escape(self, i: int, j: int) -> tuple[int, int]:
        s, n = self.s, self.n
        if j >= n:
            raise GoSyntaxError(ERR_INVALID_ESCAPE, s[i:j])
        ch = s[j]
        j += 1
        if ch == "{":
            digits = 0
            value = 0
            while True:
                if j >= n:
                    raise GoSyntaxError(ERR_INVALID_ESCAPE, s[i:j])
                ch = s[j]
                j += 1
                if ch == "}":
                    break
                digit = _unhex(ch)
                if digit < 0:
                    raise GoSyntaxError(ERR_INVALID_ESCAPE, s[i:j])
                value = value * 16 + digit
                if value > cs.MAX_RUNE:
                    raise GoSyntaxError(ERR_INVALID_ESCAPE, s[i:j])
                digits += 1
            if digits == 0:
                raise GoSyntaxError(ERR_INVALID_ESCAPE, s[i:j])
            return value, j
        high = _unhex(ch)
        low = -1
        if j < n:
            low = _unhex(s[j])
            j += 1
        if high < 0 or low < 0:
            raise GoSyntaxError(ERR_INVALID_ESCAPE, s[i:j])
        return high * 16 + low, j

    # ------------------------------------------------------------------ classes

    def unicode_class(self, i: int) -> tuple[cs.CharSet, int]:
        """``parseUnicodeClass`` at ``\\p`` / ``\\P``."""
        s, n = self.s, self.n
        negated = s[i + 1] == "P"
        j = i + 2
        if j >= n:
            seq, name = s[i:j], ""
        elif s[j] != "{":
            seq, name = s[i : j + 1], s[j]
            j += 1
        else:
            end = s.find("}", i)
            if end < 0:
                raise GoSyntaxError(ERR_INVALID_CHAR_RANGE, s[i:])
            seq, name = s[i : end + 1], s[i + 3 : end]
            j = end + 1
        if name.startswith("^"):
            negated = not negated
            name = name[1:]
        entry = UNICODE_CLASSES.get(canonical_name(name))
        if entry is None:
            raise GoSyntaxError(ERR_INVALID_CHAR_RANGE, seq)
        plain, folded, high = entry
        chars = cs.CharSet(folded if self.flags & FOLD_CASE else plain, high)
        return (cs.negate(chars) if negated else chars), j

    def parse_class(self, i: int) -> int:
        """``parseClass`` at ``[``; returns the index after ``]``."""
        s, n = self.s, self.n
        fold = bool(self.flags & FOLD_CASE)
        j = i + 1
        negated = False
        if j < n and s[j] == "^":
            negated = True
            j += 1
        acc = cs.EMPTY
        first = True
        while j >= n or s[j] != "]" or first:
            first = False
            if n - j > 2 and s[j] == "[" and s[j + 1] == ":":
                end = s.find(":]", j + 2)
                if end >= 0:
                    name = s[j : end + 2]
                    posix = cs.POSIX_GROUPS.get(name)
                    if posix is None:
                        raise GoSyntaxError(ERR_INVALID_CHAR_RANGE, name)
                    acc = cs.union(acc, cs.group(posix[0], posix[1], fold))
                    j = end + 2
                    continue
            if n - j >= 2 and s[j] == "\\" and s[j + 1] in "pP":
                chars, j = self.unicode_class(j)
                acc = cs.union(acc, chars)
                continue
            perl = cs.PERL_GROUPS.get(s[j : j + 2])
            if perl is not None:
                acc = cs.union(acc, cs.group(perl[0], perl[1], fold))
                j += 2
                continue
            start = j
            lo, j = self.class_char(j, i)
            hi = lo
            if n - j >= 2 and s[j] == "-" and s[j + 1] != "]":
                hi, j = self.class_char(j + 1, i)
                if hi < lo:
                    raise GoSyntaxError(ERR_INVALID_CHAR_RANGE, s[start:j])
            acc = cs.union(acc, cs.char_range(lo, hi, fold) if lo != hi else cs.literal(lo, fold))
        self.char_class(cs.negate(acc) if negated else acc)
        return j + 1

    def class_char(self, j: int, class_start: int) -> tuple[int, int]:
        if j >= self.n:
            raise GoSyntaxError(ERR_MISSING_BRACKET, self.s[class_start:])
        if self.s[j] == "\\":
            return self.escape(j)
        return ord(self.s[j]), j + 1


# ---------------------------------------------------------------------- tree building


def _concat(items: list[Node]) -> Node:
    """``concat``/``collapse``: nested concatenations flattened, adjacent literals merged."""
    out: list[Node] = []
    for item in items:
        for sub in item.subs if item.op == CONCAT else [item]:
            prev = out[-1] if out else None
            if prev is not None and prev.op == LITERAL and sub.op == LITERAL and prev.fold == sub.fold:
                out[-1] = Node(LITERAL, chars=prev.chars + sub.chars, fold=prev.fold)
            else:
                out.append(sub)
    if not out:
        return Node(EMPTY_MATCH)
    if len(out) == 1:
        return out[0]
    return Node(CONCAT, out)


def _alternate(branches: list[Node]) -> Node:
    """``alternate``/``collapse``: nested alternations flattened, runs of single characters merged."""
    flat: list[Node] = []
    for branch in branches:
        flat.extend(branch.subs if branch.op == ALTERNATE else [branch])
    out: list[Node] = []
    for sub in flat:
        prev = out[-1] if out else None
        if prev is not None and _is_char(prev) and _is_char(sub):
            out[-1] = Node(CLASS, chars=[cs.union(prev.chars[0], sub.chars[0])])
        elif prev is not None and prev.op == EMPTY_MATCH and sub.op == EMPTY_MATCH:
            continue
        else:
            out.append(sub)
    if len(out) == 1:
        return out[0]
    return Node(ALTERNATE, out)


def _repeat_is_valid(node: Node, limit: int) -> bool:
    """``repeatIsValid``: nested counted repetitions multiply to at most ``limit``."""
    stack = [(node, limit)]
    while stack:
        cur, n = stack.pop()
        if cur.op == REPEAT:
            m = cur.max
            if m == 0:
                continue
            if m < 0:
                m = cur.min
            if m > n:
                return False
            if m > 0:
                n //= m
        stack.extend((sub, n) for sub in cur.subs)
    return True


def height(node: Node) -> int:
    """The tree height as Go's ``calcHeight`` counts it (without recursion)."""
    best = 0
    stack = [(node, 1)]
    while stack:
        cur, depth = stack.pop()
        best = max(best, depth)
        stack.extend((sub, depth + 1) for sub in cur.subs)
    return best


def parse_pattern(pattern: str) -> Node:
    """Parse ``pattern`` as Go's ``regexp.Compile`` does; raises :class:`GoSyntaxError`."""
    tree = _Parser(pattern).parse()
    if height(tree) > GO_MAX_HEIGHT:
        raise GoSyntaxError(ERR_NESTING_DEPTH, pattern)
    return tree
