"""Parse Nodes, Pods and HyperNodes (plain dicts from the API or YAML) into typed records.

Errors name the object and the field (see :mod:`.fields`). Nothing here touches scheduling
state. Resource amounts are kept in Volcano's units (see :mod:`.quantity`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hypertopo.placement.errors import PlacementInputError
from hypertopo.placement.fields import (
    as_int,
    as_list,
    as_mapping,
    as_str,
    resources_from,
    string_map,
    where_of,
)
from hypertopo.placement.goregexp import GoRegexp, GoSyntaxError, RegexLimitError, compile_pattern
from hypertopo.placement.podspec import PodSpecInfo, parse_pod_spec
from hypertopo.placement.resources import Resources
from hypertopo.placement.selectors import LabelSelector, Taint, parse_label_selector

#: kubelet's default ``maxPods``; used when a node lists no ``pods`` allocatable.
DEFAULT_MAX_PODS = 110

ANN_GROUP_NAME = "scheduling.k8s.io/group-name"

#: The highest HyperNode tier read (real topologies have a handful of tiers).
MAX_TIER = 1000

_STR_ONLY = {str}


NO_IMAGES: dict[str, int] = {}


@dataclass(slots=True)
class Node:
    index: int
    name: str
    labels: dict[str, str]
    taints: tuple[Taint, ...]
    unschedulable: bool
    allocatable: Resources
    images: dict[str, int] = field(default_factory=lambda: NO_IMAGES)  # name -> size (status.images)
    #: the status of a Ready condition that is not True ("False", "Unknown"), else "" (ready, or
    #: no conditions given); Volcano v1.15.1 ignores it (pkg/scheduler/api/node_info.go setNodeState)
    not_ready: str = ""


def _not_ready(status: Mapping[str, Any]) -> str:
    """The status of the node's Ready condition when it is not True, else ""."""
    conditions = status.get("conditions")
    if not isinstance(conditions, list):
        return ""
    for cond in conditions:
        if isinstance(cond, Mapping) and cond.get("type") == "Ready":
            value = cond.get("status")
            return "" if value == "True" else str(value or "Unknown")
    return ""


def parse_node(obj: Any, index: int) -> Node:
    """Parse a Node; well-formed plain dicts take a fast path, anything else the validating one."""
    if type(obj) is dict:
        meta = obj.get("metadata")
        status = obj.get("status")
        spec = obj.get("spec")
        bare = spec is None or (type(spec) is dict and not spec)  # no taints, schedulable
        if type(meta) is dict and type(status) is dict and bare and "images" not in status:
            name = meta.get("name")
            labels = meta.get("labels")
            alloc = status.get("allocatable")
            if (
                type(name) is str
                and name
                and type(labels) is dict
                and type(alloc) is dict
                and (not labels or set(map(type, labels.values())) == _STR_ONLY)  # every value a str
            ):
                try:
                    hit = _ALLOCATABLE_CACHE.get(tuple(alloc.items()))
                except TypeError:
                    hit = None
                if hit is not None:
                    return Node(index, name, labels, (), False, hit, not_ready=_not_ready(status))
    return _parse_node(obj, index)


def _parse_node(obj: Any, index: int) -> Node:
    if not isinstance(obj, Mapping):
        raise PlacementInputError(f"Node #{index}: must be a mapping, got {type(obj).__name__}")
    meta = obj.get("metadata")
    where = where_of("Node", meta, index)
    meta = as_mapping(meta, where, "metadata", required=True)
    name = as_str(meta.get("name"), where, "metadata.name", required=True)
    raw_labels = meta.get("labels")
    if raw_labels is None:
        labels: dict[str, str] = {}
    elif isinstance(raw_labels, dict) and all(isinstance(v, str) for v in raw_labels.values()):
        labels = raw_labels
    else:
        labels = string_map(raw_labels, where, "metadata.labels")
    spec = obj.get("spec")
    spec = as_mapping(spec, where, "spec") if spec is not None else {}
    taints: tuple[Taint, ...] = ()
    raw_taints = spec.get("taints")
    if raw_taints:
        parsed = []
        for i, raw in enumerate(as_list(raw_taints, where, "spec.taints")):
            item = as_mapping(raw, where, f"spec.taints[{i}]")
            effect = as_str(item.get("effect"), where, f"spec.taints[{i}].effect", required=True)
            if effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
                raise PlacementInputError(f"{where}: spec.taints[{i}].effect: unknown effect {effect!r}")
            parsed.append(
                Taint(
                    as_str(item.get("key"), where, f"spec.taints[{i}].key", required=True),
                    as_str(item.get("value"), where, f"spec.taints[{i}].value"),
                    effect,
                )
            )
        taints = tuple(parsed)
    unschedulable = bool(spec.get("unschedulable", False))
    status = as_mapping(obj.get("status"), where, "status")
    alloc_raw = status.get("allocatable")
    if alloc_raw is None:
        alloc_raw = status.get("capacity")
    images: dict[str, int] = {}
    for i, raw in enumerate(as_list(status.get("images"), where, "status.images")):
        item = as_mapping(raw, where, f"status.images[{i}]")
        size = as_int(item.get("sizeBytes"), where, f"status.images[{i}].sizeBytes", default=0) or 0
        for image in as_list(item.get("names"), where, f"status.images[{i}].names"):
            images[as_str(image, where, f"status.images[{i}].names")] = size
    return Node(
        index,
        name,
        labels,
        taints,
        unschedulable,
        _allocatable(alloc_raw, where),
        images or NO_IMAGES,
        _not_ready(status),
    )


_ALLOCATABLE_CACHE: dict[tuple[tuple[str, object], ...], Resources] = {}


def _allocatable(raw: Any, where: str) -> Resources:
    """Parsed allocatable, shared between nodes with identical input (never mutate it)."""
    if isinstance(raw, dict):
        try:
            key = tuple(raw.items())
            hit = _ALLOCATABLE_CACHE.get(key)
        except TypeError:
            key, hit = None, None
        if hit is not None:
            return hit
    else:
        key = None
    allocatable = resources_from(raw, where, "status.allocatable")
    allocatable.setdefault("pods", DEFAULT_MAX_PODS)
    if key is not None and len(_ALLOCATABLE_CACHE) < 4096:
        _ALLOCATABLE_CACHE[key] = allocatable
    return allocatable


@dataclass(slots=True)
class PodObj:
    """An existing Pod from the cluster (bound, pending member of a PodGroup, or terminating)."""

    name: str
    namespace: str
    uid: str
    labels: dict[str, str]
    annotations: dict[str, str]
    spec: PodSpecInfo
    node_name: str
    phase: str
    terminating: bool
    creation: str
    owner_kind: str
    owner_name: str
    where: str


def parse_pod(obj: Any, index: int) -> PodObj:
    if not isinstance(obj, Mapping):
        raise PlacementInputError(f"Pod #{index}: must be a mapping, got {type(obj).__name__}")
    meta_raw = obj.get("metadata")
    where = where_of("Pod", meta_raw, index)
    meta = as_mapping(meta_raw, where, "metadata", required=True)
    name = as_str(meta.get("name"), where, "metadata.name", required=True)
    namespace = as_str(meta.get("namespace"), where, "metadata.namespace", default="default") or "default"
    spec = parse_pod_spec(obj.get("spec"), where, "spec", namespace=namespace)
    status = as_mapping(obj.get("status"), where, "status")
    owner_kind = owner_name = ""
    for i, ref in enumerate(as_list(meta.get("ownerReferences"), where, "metadata.ownerReferences")):
        ref_map = as_mapping(ref, where, f"metadata.ownerReferences[{i}]")
        if ref_map.get("controller") or not owner_kind:
            owner_kind = as_str(ref_map.get("kind"), where, f"metadata.ownerReferences[{i}].kind")
            owner_name = as_str(ref_map.get("name"), where, f"metadata.ownerReferences[{i}].name")
    return PodObj(
        name=name,
        namespace=namespace,
        uid=as_str(meta.get("uid"), where, "metadata.uid") or f"{namespace}/{name}",
        labels=string_map(meta.get("labels"), where, "metadata.labels"),
        annotations=string_map(meta.get("annotations"), where, "metadata.annotations"),
        spec=spec,
        node_name=spec.node_name,
        phase=as_str(status.get("phase"), where, "status.phase", default="Pending") or "Pending",
        terminating=meta.get("deletionTimestamp") is not None,
        creation=as_str(meta.get("creationTimestamp"), where, "metadata.creationTimestamp"),
        owner_kind=owner_kind,
        owner_name=owner_name,
        where=where,
    )


@dataclass(frozen=True, slots=True)
class Member:
    type: str  # Node | HyperNode
    exact: str | None
    regex: GoRegexp | None
    regex_text: str | None
    label: LabelSelector | None
    path: str


@dataclass(slots=True)
class HyperNodeObj:
    name: str
    tier: int
    tier_name: str
    members: tuple[Member, ...]
    where: str = field(default="")


def parse_member(raw: Any, where: str, path: str) -> Member:
    """One ``spec.members`` entry of a HyperNode (``path`` names it in errors)."""
    item = as_mapping(raw, where, path)
    mtype = as_str(item.get("type"), where, f"{path}.type", required=True)
    if mtype not in ("Node", "HyperNode"):
        raise PlacementInputError(f"{where}: {path}.type: must be Node or HyperNode, got {mtype!r}")
    sel = as_mapping(item.get("selector"), where, f"{path}.selector", required=True)
    present = [k for k in ("exactMatch", "regexMatch", "labelMatch") if sel.get(k) is not None]
    if not present:
        raise PlacementInputError(
            f"{where}: {path}.selector: one of exactMatch, regexMatch or labelMatch is required"
        )
    if len(present) > 1:
        raise PlacementInputError(
            f"{where}: {path}.selector: only one of exactMatch, regexMatch, labelMatch may be set "
            f"(got {', '.join(present)})"
        )
    exact = regex = regex_text = label = None
    if "exactMatch" in present:
        em = as_mapping(sel["exactMatch"], where, f"{path}.selector.exactMatch")
        exact = as_str(em.get("name"), where, f"{path}.selector.exactMatch.name", required=True)
        if not exact:
            raise PlacementInputError(f"{where}: {path}.selector.exactMatch.name: must not be empty")
    elif "regexMatch" in present:
        rm = as_mapping(sel["regexMatch"], where, f"{path}.selector.regexMatch")
        regex_text = as_str(rm.get("pattern"), where, f"{path}.selector.regexMatch.pattern", required=True)
        if not regex_text:
            raise PlacementInputError(f"{where}: {path}.selector.regexMatch.pattern: must not be empty")
        try:
            regex = compile_pattern(regex_text)
        except GoSyntaxError as exc:
            raise PlacementInputError(
                f"{where}: {path}.selector.regexMatch.pattern: invalid regular expression for Go's regexp "
                f"(Volcano's admission webhook rejects the HyperNode): {exc}"
            ) from None
        except RegexLimitError as exc:
            raise PlacementInputError(f"{where}: {path}.selector.regexMatch.pattern: {exc}") from None
    else:
        label = parse_label_selector(sel["labelMatch"], where, f"{path}.selector.labelMatch")
    return Member(mtype, exact, regex, regex_text, label, path)


def parse_hypernode(obj: Any, index: int) -> HyperNodeObj:
    if not isinstance(obj, Mapping):
        raise PlacementInputError(f"HyperNode #{index}: must be a mapping, got {type(obj).__name__}")
    meta_raw = obj.get("metadata")
    where = where_of("HyperNode", meta_raw, index)
    meta = as_mapping(meta_raw, where, "metadata", required=True)
    name = as_str(meta.get("name"), where, "metadata.name", required=True)
    spec = as_mapping(obj.get("spec"), where, "spec", required=True)
    tier = as_int(spec.get("tier"), where, "spec.tier", required=True)
    assert tier is not None
    if tier < 0:
        raise PlacementInputError(f"{where}: spec.tier: must be >= 0, got {tier}")
    if tier > MAX_TIER:
        raise PlacementInputError(
            f"{where}: spec.tier: {tier} is above {MAX_TIER}; Volcano's network-topology-aware plugin loops "
            "over every tier number up to the highest"
        )
    members_raw = as_list(spec.get("members"), where, "spec.members")
    if not members_raw:
        raise PlacementInputError(f"{where}: spec.members: at least one member is required")
    members = tuple(parse_member(raw, where, f"spec.members[{i}]") for i, raw in enumerate(members_raw))
    return HyperNodeObj(name, tier, as_str(spec.get("tierName"), where, "spec.tierName"), members, where)
