"""Kubernetes resource quantities: the full grammar of ``k8s.io/apimachinery`` ``resource.Quantity``.

::

    <quantity>        ::= <signedNumber><suffix>
    <signedNumber>    ::= <number> | <sign><number>
    <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
    <sign>            ::= "+" | "-"
    <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI>
    <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei
    <decimalSI>       ::= n | u | m | "" | k | M | G | T | P | E
    <decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber>

The exponent is an integer (``ParseQuantity`` reads it with ``strconv.ParseInt``). A YAML
number (``220``, ``1.5``) is a quantity too. Values are bounded so that an absurd input is
refused with a reason instead of being computed: at most :data:`MAX_CHARS` characters, and a
magnitude Kubernetes can count in an int64 (CPU in millicores, everything else in units).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import lru_cache

MAX_CHARS = 64
MAX_INT64 = 2**63 - 1

_GRAMMAR = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<exponent>[eE][+-]?[0-9]+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$"
)
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
#: Suffix -> the factor it multiplies the number by (binary and decimal SI suffixes).
SUFFIX_FACTORS: dict[str, Fraction] = {
    **{s: Fraction(2) ** bits for s, bits in _BINARY.items()},
    **{s: Fraction(10) ** power for s, power in _DECIMAL.items()},
}
#: Beyond this decimal exponent no quantity is a countable, non-zero int64 (10^19 > 2^63 - 1).
_EXPONENT_LIMIT = 40

EXAMPLES = "e.g. 220, 500m, 1.5, 1e3 CPUs; 1950Gi, 512M memory"


def quantity_parts(text: str) -> tuple[Fraction, int | None, str] | None:
    """``(number, decimal exponent or None, suffix)`` of a Kubernetes quantity text, else None.

    The one grammar of ``k8s.io/apimachinery/pkg/api/resource/quantity.go``; callers choose how
    to bound the exponent.
    """
    match = _GRAMMAR.match(text)
    if not match:
        return None
    exponent = int(match["exponent"][1:]) if match["exponent"] else None
    return Fraction(match["number"]), exponent, match["suffix"] or ""


class QuantityError(ValueError):
    """Why a value is not a usable Kubernetes quantity (the message completes '<value> ...')."""


def parse_quantity(value: object) -> Fraction:
    """The exact value of the quantity ``value`` (a string or a YAML number), or :class:`QuantityError`."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise QuantityError(f"is not a Kubernetes quantity ({EXAMPLES})")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise QuantityError("is not a finite number")
    text = value if isinstance(value, str) else repr(value)
    if len(text) > MAX_CHARS:
        raise QuantityError(f"is longer than the {MAX_CHARS} characters a quantity may have here")
    parts = quantity_parts(text)
    if parts is None:
        raise QuantityError(f"is not a Kubernetes quantity ({EXAMPLES})")
    number, power, suffix = parts
    if power is not None:
        if abs(power) > _EXPONENT_LIMIT:
            raise QuantityError(
                f"has exponent {power}; a quantity here has an exponent between "
                f"-{_EXPONENT_LIMIT} and {_EXPONENT_LIMIT}"
            )
        return number * Fraction(10) ** power
    return number * SUFFIX_FACTORS[suffix]


def check_positive_quantity(value: object, *, milli: bool = False) -> str | None:
    """Why ``value`` is not a positive, bounded quantity (``milli``: counted in thousandths), or None."""
    if isinstance(value, str | int | float):
        return _check_scalar(value, milli)
    return _check(value, milli)


@lru_cache(maxsize=4096)
def _check_scalar(value: str | int | float, milli: bool) -> str | None:
    return _check(value, milli)


def _check(value: object, milli: bool) -> str | None:
    try:
        amount = parse_quantity(value)
    except QuantityError as exc:
        return str(exc)
    if amount <= 0:
        return "is not greater than zero"
    if amount * (1000 if milli else 1) > MAX_INT64:
        limit = MAX_INT64 // 1000 if milli else MAX_INT64
        return f"is larger than Kubernetes can count (at most {limit})"
    return None
