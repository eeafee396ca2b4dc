"""The one exception the placement engine raises for bad input, and how a bad value is shown in it."""

from __future__ import annotations

import math
from typing import Any


class PlacementInputError(ValueError):
    """Malformed input: the message names the object (kind/name) and the field."""


def shown(value: Any) -> str:
    """``repr(value)`` for an error message, shortened when huge (a huge int is never turned into text)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of {int(value.bit_length() * math.log10(2)) + 1} digits"
    if isinstance(value, str) and len(value) > 40:
        return f"{value[:20]!r}... ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
