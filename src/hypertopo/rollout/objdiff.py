"""Which rendered objects actually need a write (pure logic, no API calls).

``kubernetes.core.k8s`` with ``apply: true`` sends a PATCH for every object that
contains a list at a path it has no merge key for (any CRD list such as a
HyperNode's ``spec.members`` or a Volcano Job's ``spec.tasks``), even when the
object is unchanged; ``state: present`` without apply always PATCHes too. To
keep a rerun at zero write requests the roles list the existing objects once and
hand the module only the objects this module says differ:

* the object does not exist;
* a field we render is missing or different on the server (server-side
  defaults and fields other actors add are ignored; quantities compare by value);
* the object's ``kubectl.kubernetes.io/last-applied-configuration`` is missing
  or differs from what we render now (so a field we stopped rendering is removed
  by the apply's three-way merge).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from hypertopo.topology.quantity import QuantityError, parse_quantity

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def object_name(obj: Mapping[str, Any], what: str, error: type[ValueError] = ValueError) -> str:
    """``metadata.name`` of a listed or rendered object; ``error`` names ``what`` when it is missing."""
    try:
        name = obj["metadata"]["name"]
    except (KeyError, TypeError):
        raise error(f"a {what} has no metadata.name: {obj!r:.200}") from None
    if not isinstance(name, str) or not name:
        raise error(f"a {what} has an invalid metadata.name: {name!r}")
    return name


def quantity(value: Any) -> Fraction | None:
    """A Kubernetes quantity as an exact number (the grammar of
    :func:`hypertopo.topology.quantity.parse_quantity`), or None when ``value`` is not one."""
    if isinstance(value, str):
        value = value.strip()
    try:
        return parse_quantity(value)
    except QuantityError:
        return None


def _scalar_equal(want: Any, have: Any) -> bool:
    # isinstance, not type(): Ansible hands filters tagged str/int subclasses.
    if isinstance(want, bool) or isinstance(have, bool):
        return isinstance(want, bool) and isinstance(have, bool) and want == have
    if isinstance(want, str) == isinstance(have, str) and want == have:
        return True
    qw, qh = quantity(want), quantity(have)
    return qw is not None and qh is not None and qw == qh


def contained(want: Any, have: Any) -> bool:
    """True when every field of ``want`` is present in ``have`` with an equal value.

    Mappings: ``have`` may carry extra keys. Lists: same length, element-wise
    containment. Scalars: equal, or equal as Kubernetes quantities.
    """
    if isinstance(want, Mapping):
        if not isinstance(have, Mapping):
            return False
        return all(k in have and contained(v, have[k]) for k, v in want.items() if v is not None)
    if isinstance(want, list):
        if not isinstance(have, list) or len(want) != len(have):
            return False
        return all(contained(w, h) for w, h in zip(want, have, strict=True))
    return _scalar_equal(want, have)


def _key(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return (str(obj.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name", "")))


def needs_write(want: Mapping[str, Any], have: Mapping[str, Any] | None) -> str | None:
    """Why ``want`` must be written over ``have`` (None when it need not be)."""
    if not have:
        return "missing"
    if not contained(want, have):
        return "differs"
    annotations = (have.get("metadata") or {}).get("annotations") or {}
    last = annotations.get(LAST_APPLIED)
    if last is None:
        return "not applied by us yet"
    try:
        last_obj = json.loads(last)
    except ValueError:
        return "unreadable last-applied annotation"
    if last_obj != json.loads(json.dumps(want)):
        return "rendered fields changed since the last apply"
    return None


def pending_writes(
    desired: Iterable[Mapping[str, Any]], existing: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """Split ``desired`` into the objects to write and the ones already in place.

    ``existing`` is the ``resources`` of one or more listings (kind, namespace and
    name identify an object). Returns ``write`` (objects), ``reasons``
    ("Kind ns/name" -> why), ``unchanged`` (count).
    """
    have = {_key(o): o for o in existing}
    write: list[Mapping[str, Any]] = []
    reasons: dict[str, str] = {}
    unchanged = 0
    for obj in desired:
        k = _key(obj)
        if not k[0] or not k[2]:
            kind, name = k[0] or "?", k[2] or "?"
            raise ValueError(f"a rendered object lacks kind or metadata.name: kind={kind} name={name}")
        why = needs_write(obj, have.get(k))
        if why is None:
            unchanged += 1
            continue
        write.append(obj)
        reasons[f"{k[0]} {k[1] + '/' if k[1] else ''}{k[2]}"] = why
    return {"write": write, "reasons": reasons, "unchanged": unchanged}
