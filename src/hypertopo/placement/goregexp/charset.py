"""Character sets of Go's regexp, exact on ASCII.

A :class:`CharSet` holds its ASCII members as a 128-bit mask (bit ``i`` = code point ``i``)
and, for the code points above ASCII, either a frozenset (literal characters: exact) or a
bool (classes: whether the class holds any of them). Kubernetes node names are lower-case
DNS-1123 subdomains, so every character a HyperNode pattern is matched against is ASCII and
the match is exact; above ASCII only literal characters are.

Case folding follows Go's ``unicode.SimpleFold`` on ASCII: a letter's orbit is its two cases,
plus U+212A KELVIN SIGN for ``k``/``K`` and U+017F LATIN SMALL LETTER LONG S for ``s``/``S``
(``regexp/syntax/parse.go``, ``asciiFoldTable``).
"""

from __future__ import annotations

from typing import NamedTuple

ASCII_ALL = (1 << 128) - 1
_UPPER = ((1 << 26) - 1) << ord("A")
_LOWER = ((1 << 26) - 1) << ord("a")
_KELVIN = 0x212A
_LONG_S = 0x17F
_K_BITS = (1 << ord("k")) | (1 << ord("K"))
_S_BITS = (1 << ord("s")) | (1 << ord("S"))
MAX_RUNE = 0x10FFFF

High = bool | frozenset[int]


class CharSet(NamedTuple):
    mask: int
    high: High

    def contains(self, code: int) -> bool:
        if code < 128:
            return bool((self.mask >> code) & 1)
        if isinstance(self.high, bool):
            return self.high
        return code in self.high


EMPTY = CharSet(0, False)
ANY = CharSet(ASCII_ALL, True)
ANY_NOT_NL = CharSet(ASCII_ALL & ~(1 << ord("\n")), True)


def range_mask(lo: int, hi: int) -> int:
    """The ASCII members of ``[lo, hi]``."""
    hi = min(hi, 127)
    if hi < lo:
        return 0
    return ((1 << (hi + 1)) - 1) ^ ((1 << lo) - 1)


def fold_mask(mask: int) -> int:
    """``mask`` plus the other case of every letter in it."""
    return mask | ((mask & _UPPER) << 32) | ((mask & _LOWER) >> 32)


def union_high(a: High, b: High) -> High:
    if a is True or b is True:
        return True
    if a is False:
        return b
    if b is False:
        return a
    assert isinstance(a, frozenset) and isinstance(b, frozenset)
    return a | b


def union(a: CharSet, b: CharSet) -> CharSet:
    return CharSet(a.mask | b.mask, union_high(a.high, b.high))


def negate(cs: CharSet) -> CharSet:
    """Every code point not in ``cs`` (above ASCII: approximate, see the module docs)."""
    return CharSet(ASCII_ALL & ~cs.mask, True)


def char_range(lo: int, hi: int, fold: bool) -> CharSet:
    """``[lo-hi]`` as Go's ``appendRange`` / ``appendFoldedRange`` builds it."""
    mask = range_mask(lo, hi)
    if not fold:
        return CharSet(mask, hi >= 128)
    mask = fold_mask(mask)
    extra: set[int] = set()
    if lo <= _KELVIN <= hi or mask & _K_BITS:
        mask |= _K_BITS
        extra.add(_KELVIN)
    if lo <= _LONG_S <= hi or mask & _S_BITS:
        mask |= _S_BITS
        extra.add(_LONG_S)
    high: High = True if hi >= 128 else frozenset(extra) if extra else False
    return CharSet(mask, high)


def literal(code: int, fold: bool) -> CharSet:
    """One literal character (with ``(?i)``: its case-fold orbit)."""
    if code < 128:
        return char_range(code, code, fold) if fold else CharSet(1 << code, False)
    if not fold:
        return CharSet(0, frozenset({code}))
    if code in (_KELVIN, _LONG_S):
        return CharSet(_K_BITS if code == _KELVIN else _S_BITS, frozenset({code}))
    mask = 0
    char = chr(code)
    variants = {code} | {ord(v) for v in (char.lower(), char.upper()) if len(v) == 1 and ord(v) >= 128}
    return CharSet(mask, frozenset(variants))


def group(ranges: tuple[tuple[int, int], ...], negated: bool, fold: bool) -> CharSet:
    """A Perl (``\\d``) or POSIX (``[:alpha:]``) group: folded first, then negated (``appendGroup``)."""
    mask = 0
    for lo, hi in ranges:
        mask |= range_mask(lo, hi)
    cs = CharSet(fold_mask(mask) if fold else mask, False)
    return negate(cs) if negated else cs


_D = ((0x30, 0x39),)
_S = ((0x9, 0xA), (0xC, 0xD), (0x20, 0x20))
_W = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))

#: ``regexp/syntax/perl_groups.go`` ``perlGroup``: escape -> (ranges, negated).
PERL_GROUPS: dict[str, tuple[tuple[tuple[int, int], ...], bool]] = {
    r"\d": (_D, False),
    r"\D": (_D, True),
    r"\s": (_S, False),
    r"\S": (_S, True),
    r"\w": (_W, False),
    r"\W": (_W, True),
}

_POSIX: dict[str, tuple[tuple[int, int], ...]] = {
    "alnum": ((0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)),
    "alpha": ((0x41, 0x5A), (0x61, 0x7A)),
    "ascii": ((0x0, 0x7F),),
    "blank": ((0x9, 0x9), (0x20, 0x20)),
    "cntrl": ((0x0, 0x1F), (0x7F, 0x7F)),
    "digit": ((0x30, 0x39),),
    "graph": ((0x21, 0x7E),),
    "lower": ((0x61, 0x7A),),
    "print": ((0x20, 0x7E),),
    "punct": ((0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)),
    "space": ((0x9, 0xD), (0x20, 0x20)),
    "upper": ((0x41, 0x5A),),
    "word": ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)),
    "xdigit": ((0x30, 0x39), (0x41, 0x46), (0x61, 0x66)),
}

#: ``posixGroup``: ``[:name:]`` / ``[:^name:]`` -> (ranges, negated).
POSIX_GROUPS: dict[str, tuple[tuple[tuple[int, int], ...], bool]] = {
    **{f"[:{name}:]": (ranges, False) for name, ranges in _POSIX.items()},
    **{f"[:^{name}:]": (ranges, True) for name, ranges in _POSIX.items()},
}

_WORD_MASK = 0
for _lo, _hi in _W:
    _WORD_MASK |= range_mask(_lo, _hi)
WORD_MASK = _WORD_MASK
