"""The one exception the placement engine raises for bad input."""

from __future__ import annotations


class PlacementInputError(ValueError):
    """Malformed input: the message names the object (kind/name) and the field."""
