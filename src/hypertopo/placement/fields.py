"""Read fields of Kubernetes objects (plain dicts from the API or YAML), with errors that say where.

Every problem raises :class:`PlacementInputError` whose message names the object (kind and
name) and the field, e.g. ``Node node7: status.allocatable.cpu: cannot parse quantity 'lots'``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hypertopo.placement.errors import PlacementInputError, shown
from hypertopo.placement.quantity import volcano_value
from hypertopo.placement.resources import Resources


def where_of(kind: str, meta: Mapping[str, Any] | None, index: int | None = None) -> str:
    """``Kind ns/name`` (or ``Kind #i`` when there is no name) for error messages."""
    name = meta.get("name") if isinstance(meta, Mapping) else None
    if not isinstance(name, str) or not name:
        return f"{kind} #{index}" if index is not None else kind
    ns = meta.get("namespace") if isinstance(meta, Mapping) else None
    return f"{kind} {ns}/{name}" if isinstance(ns, str) and ns else f"{kind} {name}"


def as_mapping(value: Any, where: str, path: str, *, required: bool = False) -> Mapping[str, Any]:
    if value is None:
        if required:
            raise PlacementInputError(f"{where}: {path}: required")
        return {}
    if not isinstance(value, Mapping):
        raise PlacementInputError(f"{where}: {path}: must be a mapping, got {type(value).__name__}")
    return value


def as_list(value: Any, where: str, path: str, *, required: bool = False) -> list[Any]:
    if value is None:
        if required:
            raise PlacementInputError(f"{where}: {path}: required")
        return []
    if not isinstance(value, list):
        raise PlacementInputError(f"{where}: {path}: must be a list, got {type(value).__name__}")
    return value


def as_str(value: Any, where: str, path: str, *, required: bool = False, default: str = "") -> str:
    if value is None:
        if required:
            raise PlacementInputError(f"{where}: {path}: required")
        return default
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PlacementInputError(f"{where}: {path}: must be a string, got {type(value).__name__}")
    return str(value)


#: Bounds of Kubernetes' integer fields: ``int32`` (replicas, minAvailable, ...) and ``int64``.
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
_INT_TEXT = re.compile(r"[+-]?[0-9]{1,30}")


def as_int(
    value: Any,
    where: str,
    path: str,
    *,
    required: bool = False,
    default: int | None = None,
    minimum: int = -INT64_MAX - 1,
    maximum: int = INT64_MAX,
) -> int | None:
    """An integer field within ``[minimum, maximum]`` (by default the int64 range)."""
    if value is None:
        if required:
            raise PlacementInputError(f"{where}: {path}: required")
        return default
    if isinstance(value, bool):
        raise PlacementInputError(f"{where}: {path}: must be an integer, got {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]+", value.strip()):
        number = maximum + 1  # longer than any bound: reported below without converting it
    else:
        raise PlacementInputError(f"{where}: {path}: must be an integer, got {shown(value)}")
    if number < minimum:
        raise PlacementInputError(f"{where}: {path}: must be >= {minimum}, got {shown(value)}")
    if number > maximum:
        kind = " (an int32 field)" if maximum == INT32_MAX else ""
        raise PlacementInputError(f"{where}: {path}: must be <= {maximum:,}{kind}, got {shown(value)}")
    return number


def string_map(value: Any, where: str, path: str) -> dict[str, str]:
    mapping = as_mapping(value, where, path)
    out: dict[str, str] = {}
    for key, val in mapping.items():
        out[str(key)] = as_str(val, where, f"{path}.{key}")
    return out


def resources_from(value: Any, where: str, path: str) -> Resources:
    """A ResourceList in Volcano units."""
    mapping = as_mapping(value, where, path)
    out: Resources = {}
    for name, amount in mapping.items():
        key = str(name)
        out[key] = volcano_value(key, amount, where=f"{where}: {path}.{key}")
    return out
