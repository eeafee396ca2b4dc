"""Kubernetes resource quantities ("250m", "2Gi", "1e9", 8) as exact numbers.

Volcano keeps resources as float64 in fixed units: CPU in millicores, memory in
bytes, ``pods`` as a count and every other (scalar) resource in thousandths of a
unit (``Quantity.MilliValue()``), see ``pkg/scheduler/api/resource_info.go``
``NewResource``. :func:`to_volcano_units` reproduces that, rounding up like
``resource.Quantity`` does.

Refused as input errors: negative amounts (the API server's pod and node validation rejects
them, ``ValidateResourceQuantityValue``), texts longer than ``MAX_QUANTITY_CHARS`` and amounts
above ``MAX_AMOUNT`` (their thousandths no longer fit the int64 of ``Quantity.MilliValue()``).
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

from hypertopo.placement.errors import PlacementInputError, shown
from hypertopo.topology.quantity import SUFFIX_FACTORS, quantity_parts

#: Units Volcano keeps a resource in: value -> ``ceil(value * factor)``.
MILLI_RESOURCES_EXCEPT = frozenset({"memory", "pods"})

#: The longest quantity text read (an int64 amount with a suffix takes at most 25 characters).
MAX_QUANTITY_CHARS = 64
#: The largest amount: its thousandths must fit an int64 (``Quantity.MilliValue()``).
MAX_AMOUNT = (2**63 - 1) // 1000
#: Exponents beyond this change nothing within the bounds above (``1e-100`` rounds up like
#: ``1e-9999``; ``1e100`` is too large like ``1e9999``), so they are clamped before computing.
_MAX_EXPONENT = 100


@lru_cache(maxsize=4096)
def _parse_text(text: str) -> Fraction | None:
    parts = quantity_parts(text.strip())
    if parts is None:
        return None
    value, exponent, suffix = parts
    if exponent is not None:
        power = max(-_MAX_EXPONENT, min(_MAX_EXPONENT, exponent))
        return value * Fraction(10) ** power
    return value * SUFFIX_FACTORS[suffix]


def _in_bounds(amount: Fraction) -> bool:
    return 0 <= amount <= MAX_AMOUNT


def parse_quantity(value: object, *, where: str) -> Fraction:
    """Parse a quantity; ``where`` names the object and field for the error message."""
    if isinstance(value, bool):
        raise PlacementInputError(f"{where}: {value!r} is not a quantity")
    if isinstance(value, int):
        amount = Fraction(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise PlacementInputError(f"{where}: {value!r} is not a quantity")
        amount = Fraction(str(value))
    elif isinstance(value, str) and len(value) > MAX_QUANTITY_CHARS:
        raise PlacementInputError(
            f"{where}: {shown(value)} is longer than the {MAX_QUANTITY_CHARS} characters a quantity may have"
        )
    elif isinstance(value, str) and (parsed := _parse_text(value)) is not None:
        amount = parsed
    else:
        raise PlacementInputError(
            f"{where}: cannot parse quantity {shown(value)} (expected e.g. 250m, 2Gi, 1e9, 8)"
        )
    if amount < 0:
        raise PlacementInputError(
            f"{where}: {shown(value)} is negative (the API server rejects negative resource quantities)"
        )
    if amount > MAX_AMOUNT:
        raise PlacementInputError(
            f"{where}: {shown(value)} is too large (at most {MAX_AMOUNT:,}: its thousandths must fit "
            "an int64)"
        )
    return amount


def to_volcano_units(name: str, quantity: Fraction) -> int:
    """Volcano's internal unit for resource ``name`` (milli for all but memory/pods), rounded up."""
    if name in MILLI_RESOURCES_EXCEPT:
        return math.ceil(quantity)
    return math.ceil(quantity * 1000)


@lru_cache(maxsize=8192)
def _volcano_value(name: str, text: str) -> int | None:
    """The cached fast path for valid texts (None: let :func:`parse_quantity` say what is wrong)."""
    parsed = _parse_text(text) if len(text) <= MAX_QUANTITY_CHARS else None
    return None if parsed is None or not _in_bounds(parsed) else to_volcano_units(name, parsed)


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
