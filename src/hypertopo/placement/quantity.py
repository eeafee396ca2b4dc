"""Kubernetes resource quantities ("250m", "2Gi", "1e9", 8) as exact numbers.

Volcano keeps resources as float64 in fixed units: CPU in millicores, memory in
bytes, ``pods`` as a count and every other (scalar) resource in thousandths of a
unit (``Quantity.MilliValue()``), see ``pkg/scheduler/api/resource_info.go``
``NewResource``. :func:`to_volcano_units` reproduces that, rounding up like
``resource.Quantity`` does.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import lru_cache

from hypertopo.placement.errors import PlacementInputError

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 1000),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}
_QUANTITY = re.compile(
    r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$"
)

#: Units Volcano keeps a resource in: value -> ``ceil(value * factor)``.
MILLI_RESOURCES_EXCEPT = frozenset({"memory", "pods"})


@lru_cache(maxsize=4096)
def _parse_text(text: str) -> Fraction | None:
    match = _QUANTITY.match(text.strip())
    if not match:
        return None
    number, exponent, suffix = match.groups()
    value = Fraction(number)
    if exponent:
        return value * Fraction(10) ** int(exponent[1:])
    if suffix in _BINARY:
        return value * _BINARY[suffix]
    return value * _DECIMAL[suffix or ""]


def parse_quantity(value: object, *, where: str) -> Fraction:
    """Parse a quantity; ``where`` names the object and field for the error message."""
    if isinstance(value, bool):
        raise PlacementInputError(f"{where}: {value!r} is not a quantity")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PlacementInputError(f"{where}: {value!r} is not a quantity")
        return Fraction(str(value))
    if isinstance(value, str):
        parsed = _parse_text(value)
        if parsed is not None:
            return parsed
    raise PlacementInputError(f"{where}: cannot parse quantity {value!r} (expected e.g. 250m, 2Gi, 1e9, 8)")


def to_volcano_units(name: str, quantity: Fraction) -> int:
    """Volcano's internal unit for resource ``name`` (milli for all but memory/pods), rounded up."""
    if name in MILLI_RESOURCES_EXCEPT:
        return math.ceil(quantity)
    return math.ceil(quantity * 1000)


@lru_cache(maxsize=8192)
def _volcano_value(name: str, text: str) -> int | None:
    parsed = _parse_text(text)
    return None if parsed is None else to_volcano_units(name, parsed)


def volcano_value(name: str, value: object, *, where: str) -> int:
    """Parse ``value`` and convert it to Volcano's unit for ``name`` (cached for strings)."""
    if isinstance(value, str):
        cached = _volcano_value(name, value)
        if cached is not None:
            return cached
    return to_volcano_units(name, parse_quantity(value, where=where))


def format_resource(name: str, amount: float) -> str:
    """Human-readable value of an internal amount (``nvidia.com/gpu`` 3000 -> ``3``)."""
    if name == "memory":
        for unit, size in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
            if amount >= size and amount % size == 0:
                return f"{int(amount // size)}{unit}"
        return f"{int(amount)}"
    if name == "pods":
        return f"{int(amount)}"
    if name == "cpu":
        return f"{int(amount)}m" if amount % 1000 else f"{int(amount // 1000)}"
    units = amount / 1000
    return f"{int(units)}" if units == int(units) else f"{units:g}"
