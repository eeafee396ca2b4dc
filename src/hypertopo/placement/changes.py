"""Hypothetical changes to a cluster and its workloads (what-if, headroom, explain's suggestions).

A change is plain data, one mapping with one key (the kind) per list item, read from YAML or
JSON and never templated::

    - {add_hosts: {leaf: ib-switch0, gpu_model: h100, count: 2}}
    - {remove_hosts: {nodes: [node3]}}
    - {cordon: {nodes: [node4, node5]}}
    - {set_replicas: {job: pd-seed/pd-decode-service, task: decode-worker, replicas: 20}}
    - {set_tier: {job: pd-seed/pd-prefill-service, tier: 2}}          # or tier_name: <spec.tierName>
    - {set_mode: {job: pd-seed/pd-prefill-service, mode: hard}}
    - {add_pods: {node: node0, count: 2, requests: {nvidia.com/gpu: 4, cpu: "8"}}}
    - {remove_pods: {pods: [default/train-0]}}         # or selector: {namespace, labels, node}
    - {relax_affinity: {job: pd-seed/pd-decode-service, task: decode-worker, key: gpu-type}}

:func:`parse_changes` checks the shape (every mistake is one line naming the list index and the
field); :func:`apply_changes` applies them, in order, to the keyword inputs of
:func:`hypertopo.placement.predict` (what :func:`hypertopo.cli.hints.load_inputs` returns) and
returns a new dict: the caller's objects are never modified (only changed objects are copied).
What the inputs lack (an unknown job, node or leaf) is a :class:`PlacementInputError` naming the
change. Rules that have one definition elsewhere are reused, never restated: Node objects come from
:class:`hypertopo.topology.model.Topology` (our labels and the GPU model catalogue) or clone a
sibling of the same model with :func:`hypertopo.topology.objects.node_object`; HyperNode membership
is resolved as the predictor resolves it (:func:`hypertopo.placement.tree.member_nodes`); the
Volcano Job and Deployment fields are the ones :mod:`hypertopo.placement.jobs` reads.

``set_replicas`` keeps a gang whole: a task ``minAvailable`` (job ``minAvailable``, a Deployment's
``scheduling.volcano.sh/group-min-member``) equal to the old replica count follows the new one, and
one above the new count is lowered to it (the admission webhook would refuse it); others are kept.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypertopo.placement.changes_apply import (
    APPLY,
    INPUT_KEYS,
    Inputs,
    current_replicas,
    find_job,
    topology_text,
)
from hypertopo.placement.errors import PlacementInputError, shown
from hypertopo.placement.quantity import parse_quantity
from hypertopo.placement.resource_names import not_whole
from hypertopo.topology.k8snames import dns1123_subdomain_error
from hypertopo.topology.model import SWITCH_TYPES

#: The most hosts or pods one change adds (far above a real what-if; bounds time and memory).
MAX_ADDED = 10_000


@dataclass(frozen=True)
class Change:
    """One hypothetical change: ``kind`` (a key of :data:`KINDS`) and its ``params``."""

    kind: str
    params: Mapping[str, Any] = field(hash=False)

    def as_data(self) -> dict[str, Any]:
        """The change as it is written in a what-if file (``{kind: params}``)."""
        return {self.kind: copy.deepcopy(dict(self.params))}

    def text(self, inputs: Mapping[str, Any] | None = None) -> str:
        """A sentence for people; with ``inputs`` (those the change applies to) it says the value
        before as well ("decode of ns/name: 12 → 20 replicas")."""
        p = self.params
        if self.kind == "add_hosts":
            return f"add {p['count']} {p['gpu_model']} host(s) under {p['leaf']}"
        if self.kind == "remove_hosts":
            return f"remove host(s) {_names(p['nodes'])}"
        if self.kind == "cordon":
            return f"cordon {_names(p['nodes'])}"
        if self.kind == "set_replicas":
            what = f"{p['task']} of {p['job']}" if p.get("task") else p["job"]
            before = _safe(lambda: current_replicas(inputs, p["job"], p.get("task")), inputs)
            return f"{what}: {'' if before is None else f'{before} → '}{p['replicas']} replicas"
        if self.kind == "set_tier":
            new = f"highestTierAllowed {p['tier']}" if "tier" in p else f"highestTierName {p['tier_name']}"
            before = _safe(lambda: topology_text(inputs, p["job"]), inputs)
            return f"{p['job']}: {'' if before is None else f'{before} → '}{new}"
        if self.kind == "set_mode":
            before = _safe(lambda: topology_text(inputs, p["job"]), inputs)
            return f"{p['job']}: {'' if before is None else f'{before} → '}mode {p['mode']}"
        if self.kind == "add_pods":
            req = ", ".join(f"{k}={v}" for k, v in p["requests"].items())
            return f"add {p['count']} running pod(s) ({req}) on {p['node']}"
        if self.kind == "remove_pods":
            if "pods" in p:
                return f"remove pod(s) {_names(p['pods'])}"
            sel = p["selector"]
            parts = [f"{k}={v}" for k, v in sorted(sel.items()) if k != "labels"]
            parts += [f"{k}={v}" for k, v in sorted((sel.get("labels") or {}).items())]
            return f"remove the pods with {', '.join(parts)}"
        if self.kind == "relax_affinity":
            what = f"{p['task']} of {p['job']}" if p.get("task") else p["job"]
            return f"{what}: drop the required node affinity / nodeSelector on {p['key']}"
        return f"{self.kind} {dict(p)}"  # pragma: no cover - every kind is above


def _names(items: Sequence[str]) -> str:
    return ", ".join(items[:5]) + (f" (and {len(items) - 5} more)" if len(items) > 5 else "")


def _safe(get: Callable[[], Any], inputs: Mapping[str, Any] | None) -> Any:
    if inputs is None:
        return None
    try:
        return get()
    except PlacementInputError:
        return None


# --------------------------------------------------------------------------- the vocabulary


def _str(value: Any) -> str | None:
    return None if isinstance(value, str) and value else "must be a non-empty string"


def _count(minimum: int, maximum: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            return f"must be an integer from {minimum} to {maximum:,}, got {shown(value)}"
        return None

    return check


def _names_list(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "must be a non-empty list of names"
    bad = [v for v in value if not isinstance(v, str) or not v]
    return f"must hold names (strings), got {shown(bad[0])}" if bad else None


def _one_of(*allowed: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in allowed else f"must be one of {', '.join(allowed)}, got {shown(value)}"

    return check


def _job_ref(value: Any) -> str | None:
    if not isinstance(value, str) or not value or value.count("/") > 1 or value.startswith("/"):
        return f"must be NAMESPACE/NAME or NAME, got {shown(value)}"
    return None


def _requests(value: Any) -> str | None:
    if not isinstance(value, Mapping) or not value:
        return "must be a non-empty mapping of resource name to quantity"
    for key, qty in value.items():
        if not isinstance(key, str) or not key:
            return f"resource names must be strings, got {shown(key)}"
        try:
            amount = parse_quantity(qty, where=key)
        except PlacementInputError:
            return f"{key}: not a Kubernetes quantity: {shown(qty)}"
        if not_whole(key, amount):
            return f"{key}: must be a whole number (an extended resource is counted in units): {shown(qty)}"
    return None


def _string_map(value: Any) -> str | None:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return "must be a mapping of strings to strings"
    return None


def _selector(value: Any) -> str | None:
    if not isinstance(value, Mapping) or not value:
        return "must be a non-empty mapping with namespace, labels and/or node"
    unknown = sorted(str(k) for k in value if k not in ("namespace", "labels", "node"))
    if unknown:
        return f"unknown field {unknown[0]!r} (known: namespace, labels, node)"
    for key in ("namespace", "node"):
        if key in value and _str(value[key]):
            return f"{key}: must be a non-empty string"
    if "labels" in value and _string_map(value["labels"]):
        return "labels: must be a mapping of strings to strings"
    return None


def _pod_refs(value: Any) -> str | None:
    error = _names_list(value)
    if error:
        return error
    bad = [v for v in value if v.count("/") > 1 or v.startswith("/") or v.endswith("/")]
    return f"must hold NAMESPACE/NAME or NAME, got {shown(bad[0])}" if bad else None


@dataclass(frozen=True)
class Field:
    check: Callable[[Any], str | None]
    required: bool = False
    default: Any = None


#: kind -> field -> how it is checked. ``task`` names a Volcano Job's task (optional when the job
#: has one task, absent for Deployments and StatefulSets).
KINDS: dict[str, dict[str, Field]] = {
    "add_hosts": {
        "leaf": Field(_str, required=True),
        "gpu_model": Field(_str, required=True),
        "count": Field(_count(1, MAX_ADDED), default=1),
        "names": Field(_names_list),
        "switch_type": Field(_one_of(*SWITCH_TYPES)),
    },
    "remove_hosts": {"nodes": Field(_names_list, required=True)},
    "cordon": {"nodes": Field(_names_list, required=True)},
    "set_replicas": {
        "job": Field(_job_ref, required=True),
        "task": Field(_str),
        "replicas": Field(_count(0, 2**31 - 1), required=True),
    },
    "set_tier": {
        "job": Field(_job_ref, required=True),
        "tier": Field(_count(0, 2**31 - 1)),
        "tier_name": Field(_str),
    },
    "set_mode": {
        "job": Field(_job_ref, required=True),
        "mode": Field(_one_of("hard", "soft"), required=True),
    },
    "add_pods": {
        "node": Field(_str, required=True),
        "requests": Field(_requests, required=True),
        "count": Field(_count(1, MAX_ADDED), default=1),
        "namespace": Field(_str, default="default"),
        "name": Field(_str, default="what-if"),
        "labels": Field(_string_map),
    },
    "remove_pods": {"pods": Field(_pod_refs), "selector": Field(_selector)},
    "relax_affinity": {
        "job": Field(_job_ref, required=True),
        "task": Field(_str),
        "key": Field(_str, required=True),
    },
}


def _check_item(kind: str, raw: Any) -> tuple[dict[str, Any], list[str]]:
    """``raw``'s params with defaults, and one message (``field: problem``) per mistake."""
    fields = KINDS[kind]
    if not isinstance(raw, Mapping):
        return {}, [f"must be a mapping of {', '.join(fields)}, got {type(raw).__name__}"]
    errors: list[str] = []
    params: dict[str, Any] = {}
    for key in raw:
        if key not in fields:
            errors.append(f"{key}: unknown field (known: {', '.join(fields)})")
    for name, spec in fields.items():
        if name not in raw or raw[name] is None:
            if spec.required:
                errors.append(f"{name}: required")
            elif spec.default is not None:
                params[name] = spec.default
            continue
        problem = spec.check(raw[name])
        if problem:
            errors.append(f"{name}: {problem}")
        else:
            params[name] = copy.deepcopy(raw[name])
    if errors:
        return params, errors
    errors.extend(_cross_checks(kind, raw, params))
    return params, errors


def _cross_checks(kind: str, raw: Mapping[str, Any], params: dict[str, Any]) -> list[str]:
    if kind == "add_hosts":
        names = params.get("names")
        if names is not None:
            if "count" in raw and raw["count"] != len(names):
                return [f"names: {len(names)} names for count {raw['count']}"]
            params["count"] = len(names)
            bad = [n for n in names if dns1123_subdomain_error(n)]
            if bad:
                return [
                    f"names: {shown(bad[0])} is not a valid node name ({dns1123_subdomain_error(bad[0])})"
                ]
            if len(set(names)) != len(names):
                return ["names: a name appears twice"]
    if kind == "set_tier" and ("tier" in params) == ("tier_name" in params):
        return ["tier: give exactly one of tier and tier_name"]
    if kind == "remove_pods" and ("pods" in params) == ("selector" in params):
        return ["pods: give exactly one of pods and selector"]
    if kind == "add_pods" and dns1123_subdomain_error(params["name"]):
        return [f"name: {dns1123_subdomain_error(params['name'])}"]
    return []


def parse_changes(data: Any, source: str = "changes") -> list[Change]:
    """The changes of ``data`` (a list of ``{kind: params}``); every mistake is one line of the
    :class:`PlacementInputError`, naming ``source``, the list index and the field."""
    if isinstance(data, Mapping) and set(data) == {"changes"}:
        data = data["changes"]
    if not isinstance(data, list):
        raise PlacementInputError(
            f"{source}: must be a list of changes ({{kind: {{...}}}} per item), got {type(data).__name__}"
        )
    errors: list[str] = []
    out: list[Change] = []
    for i, item in enumerate(data):
        where = f"{source}: [{i}]"
        if not isinstance(item, Mapping) or len(item) != 1:
            errors.append(f"{where}: must be a mapping with one key, the kind ({', '.join(KINDS)})")
            continue
        ((kind, raw),) = item.items()
        if kind not in KINDS:
            errors.append(f"{where}: unknown change {shown(kind)} (known: {', '.join(KINDS)})")
            continue
        params, problems = _check_item(kind, raw)
        errors.extend(f"{where}.{kind}.{problem}" for problem in problems)
        if not problems:
            out.append(Change(kind, params))
    if errors:
        raise PlacementInputError("\n".join(errors))
    return out


def change(kind: str, **params: Any) -> Change:
    """One checked :class:`Change` built in code (``change("set_tier", job="ns/j", tier=2)``)."""
    return parse_changes([{kind: params}], "change")[0]


# --------------------------------------------------------------------------- applying


def apply_changes(
    inputs: Mapping[str, Any],
    changes: Iterable[Change],
    source: str = "changes",
    *,
    described: list[str] | None = None,
) -> dict[str, Any]:
    """``inputs`` (``jobs``, ``nodes``, ``hypernodes``, ``pods``, ``scheduler_conf``, ``network``,
    ``kv_model``) with ``changes`` applied in order, as a new dict (the caller's objects untouched).

    What the inputs lack is a :class:`PlacementInputError` like those of :func:`parse_changes`,
    one line ``<source>: [<index>].<kind>.<field>: <problem>`` per change that cannot apply (the
    others are applied in order all the same, so a later line may follow from an earlier one).
    ``described`` (a list) receives each change's :meth:`Change.text` on the inputs as they are
    just before it."""
    state = Inputs(inputs)
    errors: list[str] = []
    for i, item in enumerate(changes):
        if described is not None:
            described.append(item.text(state.out))
        try:
            APPLY[item.kind](state, item.params)
        except PlacementInputError as exc:  # the others are still tried: one line per mistake
            errors.append(f"{source}: [{i}].{item.kind}.{exc}")
    if errors:
        raise PlacementInputError("\n".join(errors))
    return state.out


__all__ = [
    "INPUT_KEYS",
    "KINDS",
    "Change",
    "apply_changes",
    "change",
    "current_replicas",
    "find_job",
    "parse_changes",
]
