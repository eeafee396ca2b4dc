"""The shapes callers may hand to :func:`~hypertopo.placement.predict`, flattened to object lists.

Each argument may be a list of objects, a ``kind: List``/``*List`` (``items``), a
``kubernetes.core.k8s_info`` result (``resources``) or a single object; a scheduler
configuration may be a mapping, the YAML text of ``volcano-scheduler.conf``, its ConfigMap
or a ``k8s_info`` result holding the ConfigMap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypertopo.placement.errors import PlacementInputError

CONF_KEY = "volcano-scheduler.conf"


def as_objects(value: Any, what: str) -> list[Any]:
    """Flatten lists, ``*List`` objects and ``k8s_info`` results into a list of objects."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        if isinstance(value.get("resources"), list) and "kind" not in value:
            return as_objects(value["resources"], what)
        kind = value.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and "items" in value:
            items = value.get("items")
            if not isinstance(items, list):
                raise PlacementInputError(f"{what}: {kind}.items must be a list")
            return as_objects(items, what)
        return [value]
    if type(value) is list and all(
        type(item) is dict and "resources" not in item and "items" not in item for item in value
    ):
        return value
    if isinstance(value, list | tuple):
        out: list[Any] = []
        for item in value:
            if (
                isinstance(item, Mapping)
                and (
                    ("resources" in item and "kind" not in item) or str(item.get("kind", "")).endswith("List")
                )
            ) or isinstance(item, list | tuple):
                out.extend(as_objects(item, what))
            else:
                out.append(item)
        return out
    raise PlacementInputError(
        f"{what}: expected a list of objects, a List or a k8s_info result, got {type(value).__name__}"
    )


def check_kind(objs: Sequence[Any], kind: str, what: str) -> None:
    if all(type(obj) is dict and obj.get("kind", kind) == kind for obj in objs):
        return
    for i, obj in enumerate(objs):
        if isinstance(obj, Mapping) and obj.get("kind") not in (None, kind):
            name = (
                (obj.get("metadata") or {}).get("name") if isinstance(obj.get("metadata"), Mapping) else None
            )
            raise PlacementInputError(f"{what}[{i}] ({obj.get('kind')} {name or '?'}): kind: expected {kind}")


def coerce_scheduler_conf(value: Any) -> dict[str, Any] | None:
    """A scheduler conf from a mapping, YAML text, ConfigMap or ``k8s_info`` result (None: the default)."""
    from hypertopo.topology.scheduler_conf import SchedulerConfError, parse_conf

    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, Mapping) and isinstance(value.get("resources"), list) and "kind" not in value:
        if not value["resources"]:
            return None
        value = value["resources"][0]
    if isinstance(value, Mapping) and (value.get("kind") == "ConfigMap" or "data" in value):
        value = (value.get("data") or {}).get(CONF_KEY)
        if not isinstance(value, str):
            raise PlacementInputError(f"scheduler conf: ConfigMap has no data.{CONF_KEY}")
    if isinstance(value, str):
        try:
            parsed = parse_conf(value)
        except SchedulerConfError as exc:
            raise PlacementInputError(f"scheduler conf: {exc}") from None
        return parsed
    if isinstance(value, Mapping):
        return dict(value)
    raise PlacementInputError(
        f"scheduler conf: expected a mapping, YAML text or ConfigMap, got {type(value).__name__}"
    )


def default_scheduler_conf() -> dict[str, Any]:
    """The project's scheduler configuration (the scheduler_config role's defaults)."""
    from hypertopo.topology.scheduler_conf import default_conf_from_role

    return default_conf_from_role()
