"""Parse Kubernetes objects (plain dicts from the API or YAML) into typed records.

Every problem raises :class:`PlacementInputError` whose message names the object
(kind and name) and the field, e.g. ``Node node7: status.allocatable.cpu: cannot
parse quantity 'lots'``. Nothing here touches scheduling state.

Resource amounts are kept in Volcano's units (see :mod:`.quantity`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from hypertopo.placement.errors import PlacementInputError
from hypertopo.placement.quantity import parse_quantity, to_volcano_units, volcano_value

Resources = dict[str, int]

#: kubelet's default ``maxPods``; used when a node lists no ``pods`` allocatable.
DEFAULT_MAX_PODS = 110
#: k8s scheduler defaults for containers without CPU / memory requests (``util.DefaultMilliCPURequest``).
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
#: Volcano's ``minResource``: amounts below it count as zero.
MIN_RESOURCE = 0.1

ANN_GROUP_NAME = "scheduling.k8s.io/group-name"


# --------------------------------------------------------------------------- helpers


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


def as_int(
    value: Any, where: str, path: str, *, required: bool = False, default: int | None = None
) -> int | None:
    if value is None:
        if required:
            raise PlacementInputError(f"{where}: {path}: required")
        return default
    if isinstance(value, bool):
        raise PlacementInputError(f"{where}: {path}: must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]+", value.strip()):
        return int(value)
    raise PlacementInputError(f"{where}: {path}: must be an integer, got {value!r}")


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


def add_into(target: Resources, other: Mapping[str, int]) -> None:
    for key, val in other.items():
        target[key] = target.get(key, 0) + val


def is_empty_request(res: Mapping[str, int]) -> bool:
    """Volcano ``Resource.IsEmpty`` (the ``pods`` count is ignored)."""
    return all(val < MIN_RESOURCE for key, val in res.items() if key != "pods")


# --------------------------------------------------------------------------- selectors


@dataclass(frozen=True, slots=True)
class LabelRequirement:
    key: str
    operator: str  # In, NotIn, Exists, DoesNotExist, Gt, Lt
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op == "In":
            return labels.get(self.key) in self.values if self.key in labels else False
        if op == "NotIn":
            return self.key not in labels or labels[self.key] not in self.values
        if op == "Exists":
            return self.key in labels
        if op == "DoesNotExist":
            return self.key not in labels
        if op in ("Gt", "Lt"):
            raw = labels.get(self.key)
            if raw is None:
                return False
            try:
                have, want = int(raw), int(self.values[0])
            except (ValueError, IndexError):
                return False
            return have > want if op == "Gt" else have < want
        return False

    def describe(self) -> str:
        if self.operator in ("Exists", "DoesNotExist"):
            return f"{self.key} {self.operator}"
        return f"{self.key} {self.operator} [{', '.join(self.values)}]"


_LABEL_OPS = {"In", "NotIn", "Exists", "DoesNotExist"}
_NODE_OPS = _LABEL_OPS | {"Gt", "Lt"}


def _requirements(items: Any, where: str, path: str, allowed: set[str]) -> tuple[LabelRequirement, ...]:
    reqs: list[LabelRequirement] = []
    for i, raw in enumerate(as_list(items, where, path)):
        item = as_mapping(raw, where, f"{path}[{i}]")
        key = as_str(item.get("key"), where, f"{path}[{i}].key", required=True)
        op = as_str(item.get("operator"), where, f"{path}[{i}].operator", required=True)
        if op not in allowed:
            raise PlacementInputError(
                f"{where}: {path}[{i}].operator: unknown operator {op!r} "
                f"(one of {', '.join(sorted(allowed))})"
            )
        values = tuple(
            as_str(v, where, f"{path}[{i}].values")
            for v in as_list(item.get("values"), where, f"{path}[{i}].values")
        )
        if op in ("In", "NotIn") and not values:
            raise PlacementInputError(f"{where}: {path}[{i}].values: operator {op} needs at least one value")
        if op in ("Gt", "Lt") and len(values) != 1:
            raise PlacementInputError(f"{where}: {path}[{i}].values: operator {op} needs exactly one value")
        reqs.append(LabelRequirement(key, op, values))
    return tuple(reqs)


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A ``metav1.LabelSelector``: all requirements must hold. Empty matches everything."""

    requirements: tuple[LabelRequirement, ...]

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(req.matches(labels) for req in self.requirements)

    def describe(self) -> str:
        return ", ".join(r.describe() for r in self.requirements) or "<everything>"


def parse_label_selector(value: Any, where: str, path: str) -> LabelSelector:
    mapping = as_mapping(value, where, path)
    reqs = [
        LabelRequirement(k, "In", (v,))
        for k, v in string_map(mapping.get("matchLabels"), where, f"{path}.matchLabels").items()
    ]
    reqs.extend(_requirements(mapping.get("matchExpressions"), where, f"{path}.matchExpressions", _LABEL_OPS))
    return LabelSelector(tuple(reqs))


@dataclass(frozen=True, slots=True)
class NodeSelectorTerm:
    """One ``nodeSelectorTerms`` entry: expressions on labels and fields, ANDed.

    A term with neither matches no node (k8s semantics).
    """

    expressions: tuple[LabelRequirement, ...]
    fields: tuple[LabelRequirement, ...] = ()

    def matches(self, name: str, labels: Mapping[str, str]) -> bool:
        if not self.expressions and not self.fields:
            return False
        if not all(req.matches(labels) for req in self.expressions):
            return False
        return all(req.matches({"metadata.name": name}) for req in self.fields)

    def describe(self) -> str:
        parts = [r.describe() for r in self.expressions] + [r.describe() for r in self.fields]
        return " AND ".join(parts) or "<nothing>"


def _node_selector_term(value: Any, where: str, path: str) -> NodeSelectorTerm:
    mapping = as_mapping(value, where, path)
    exprs = _requirements(mapping.get("matchExpressions"), where, f"{path}.matchExpressions", _NODE_OPS)
    fields = _requirements(mapping.get("matchFields"), where, f"{path}.matchFields", {"In", "NotIn"})
    for i, req in enumerate(fields):
        if req.key != "metadata.name":
            raise PlacementInputError(
                f"{where}: {path}.matchFields[{i}].key: only metadata.name is supported"
            )
    return NodeSelectorTerm(exprs, fields)


# --------------------------------------------------------------------------- taints


@dataclass(frozen=True, slots=True)
class Taint:
    key: str
    value: str
    effect: str  # NoSchedule, PreferNoSchedule, NoExecute


@dataclass(frozen=True, slots=True)
class Toleration:
    key: str
    operator: str  # Equal, Exists
    value: str
    effect: str  # "" = all effects

    def tolerates(self, taint: Taint) -> bool:
        if self.effect and self.effect != taint.effect:
            return False
        if self.operator == "Exists":
            return not self.key or self.key == taint.key
        return self.key == taint.key and self.value == taint.value


def tolerated(taint: Taint, tolerations: Iterable[Toleration]) -> bool:
    return any(t.tolerates(taint) for t in tolerations)


# --------------------------------------------------------------------------- pod affinity


@dataclass(frozen=True, slots=True)
class PodAffinityTerm:
    selector: LabelSelector | None  # None: matches no pod
    namespaces: frozenset[str]  # empty and no namespace selector: the pod's own namespace
    all_namespaces: bool  # namespaceSelector: {} -> every namespace
    topology_key: str
    owner_namespace: str

    def matches_pod(self, namespace: str, labels: Mapping[str, str]) -> bool:
        if self.selector is None:
            return False
        if not self.all_namespaces:
            allowed = self.namespaces or frozenset({self.owner_namespace})
            if namespace not in allowed:
                return False
        return self.selector.matches(labels)


def _pod_affinity_term(value: Any, where: str, path: str, namespace: str) -> PodAffinityTerm:
    mapping = as_mapping(value, where, path)
    topo = as_str(mapping.get("topologyKey"), where, f"{path}.topologyKey", required=True)
    sel_raw = mapping.get("labelSelector")
    selector = None if sel_raw is None else parse_label_selector(sel_raw, where, f"{path}.labelSelector")
    namespaces = frozenset(
        as_str(n, where, f"{path}.namespaces")
        for n in as_list(mapping.get("namespaces"), where, f"{path}.namespaces")
    )
    ns_sel = mapping.get("namespaceSelector")
    all_ns = ns_sel is not None and not as_mapping(ns_sel, where, f"{path}.namespaceSelector")
    return PodAffinityTerm(selector, namespaces, all_ns, topo, namespace)


# --------------------------------------------------------------------------- pod spec


@dataclass(slots=True)
class PodSpecInfo:
    """What the scheduler reads from a pod spec (shared by all replicas of a template)."""

    resreq: Resources  # Volcano Resreq: requests (limits default them), plus pods: 1
    template_requests: Resources  # requests exactly as written (PodGroup minResources path)
    nonzero_cpu: int  # k8s non-zero requests (LeastAllocated)
    nonzero_memory: int
    best_effort: bool
    node_selector: dict[str, str]
    required_terms: tuple[NodeSelectorTerm, ...] | None  # None: no required node affinity
    preferred_terms: tuple[tuple[int, NodeSelectorTerm], ...]
    tolerations: tuple[Toleration, ...]
    affinity_required: tuple[PodAffinityTerm, ...]
    anti_affinity_required: tuple[PodAffinityTerm, ...]
    affinity_preferred: tuple[tuple[int, PodAffinityTerm], ...]
    anti_affinity_preferred: tuple[tuple[int, PodAffinityTerm], ...]
    host_ports: frozenset[tuple[str, str, int]]
    priority: int
    scheduler_name: str
    spread_constraints: int  # topologySpreadConstraints count (not simulated)
    node_name: str  # spec.nodeName (a bound pod)
    images: tuple[str, ...] = ()  # container images, normalised like ImageLocality (":latest" added)

    @property
    def has_pod_affinity(self) -> bool:
        return bool(
            self.affinity_required
            or self.anti_affinity_required
            or self.affinity_preferred
            or self.anti_affinity_preferred
        )


def _container_requests(
    container: Mapping[str, Any], where: str, path: str, *, default_from_limits: bool
) -> dict[str, Fraction]:
    res = as_mapping(container.get("resources"), where, f"{path}.resources")
    out: dict[str, Fraction] = {}
    for name, qty in as_mapping(res.get("requests"), where, f"{path}.resources.requests").items():
        out[str(name)] = parse_quantity(qty, where=f"{where}: {path}.resources.requests.{name}")
    if default_from_limits:
        for name, qty in as_mapping(res.get("limits"), where, f"{path}.resources.limits").items():
            out.setdefault(str(name), parse_quantity(qty, where=f"{where}: {path}.resources.limits.{name}"))
    return out


def _pod_requests(
    spec: Mapping[str, Any], where: str, path: str, *, default_from_limits: bool, nonzero: bool = False
) -> dict[str, Fraction]:
    """k8s ``PodRequests``: sum of containers, max with init containers (sidecars add), plus overhead."""

    def one(container: Mapping[str, Any], cpath: str) -> dict[str, Fraction]:
        reqs = _container_requests(container, where, cpath, default_from_limits=default_from_limits)
        if nonzero:
            reqs.setdefault("cpu", Fraction(DEFAULT_MILLI_CPU_REQUEST, 1000))
            reqs.setdefault("memory", Fraction(DEFAULT_MEMORY_REQUEST))
        return reqs

    total: dict[str, Fraction] = {}
    containers = as_list(spec.get("containers"), where, f"{path}.containers")
    for i, raw in enumerate(containers):
        for key, val in one(
            as_mapping(raw, where, f"{path}.containers[{i}]"), f"{path}.containers[{i}]"
        ).items():
            total[key] = total.get(key, Fraction(0)) + val
    sidecars: dict[str, Fraction] = {}
    init_max: dict[str, Fraction] = {}
    for i, raw in enumerate(as_list(spec.get("initContainers"), where, f"{path}.initContainers")):
        container = as_mapping(raw, where, f"{path}.initContainers[{i}]")
        reqs = one(container, f"{path}.initContainers[{i}]")
        if container.get("restartPolicy") == "Always":
            for key, val in reqs.items():
                total[key] = total.get(key, Fraction(0)) + val
                sidecars[key] = sidecars.get(key, Fraction(0)) + val
            use = dict(sidecars)
        else:
            use = dict(reqs)
            for key, val in sidecars.items():
                use[key] = use.get(key, Fraction(0)) + val
        for key, val in use.items():
            init_max[key] = max(init_max.get(key, Fraction(0)), val)
    for key, val in init_max.items():
        total[key] = max(total.get(key, Fraction(0)), val)
    for key, val in as_mapping(spec.get("overhead"), where, f"{path}.overhead").items():
        total[str(key)] = total.get(str(key), Fraction(0)) + parse_quantity(
            val, where=f"{where}: {path}.overhead.{key}"
        )
    return total


def _to_units(values: Mapping[str, Fraction]) -> Resources:
    return {key: to_volcano_units(key, val) for key, val in values.items()}


def parse_pod_spec(
    spec_raw: Any, where: str, path: str, *, namespace: str, default_requests_from_limits: bool = True
) -> PodSpecInfo:
    """Parse ``spec`` of a Pod or of a pod template.

    ``default_requests_from_limits`` mirrors the API server's defaulting of a Pod
    (a container's missing request is set to its limit).
    """
    spec = as_mapping(spec_raw, where, path, required=True)
    if not as_list(spec.get("containers"), where, f"{path}.containers"):
        raise PlacementInputError(f"{where}: {path}.containers: at least one container is required")
    requests = _pod_requests(spec, where, path, default_from_limits=default_requests_from_limits)
    resreq = _to_units(requests)
    resreq["pods"] = 1
    template_requests = _to_units(_pod_requests(spec, where, path, default_from_limits=False))
    nonzero = _pod_requests(spec, where, path, default_from_limits=default_requests_from_limits, nonzero=True)

    node_selector = string_map(spec.get("nodeSelector"), where, f"{path}.nodeSelector")
    affinity = as_mapping(spec.get("affinity"), where, f"{path}.affinity")
    node_aff = as_mapping(affinity.get("nodeAffinity"), where, f"{path}.affinity.nodeAffinity")
    required_terms: tuple[NodeSelectorTerm, ...] | None = None
    req_raw = node_aff.get("requiredDuringSchedulingIgnoredDuringExecution")
    if req_raw is not None:
        rpath = f"{path}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        req_map = as_mapping(req_raw, where, rpath)
        required_terms = tuple(
            _node_selector_term(t, where, f"{rpath}.nodeSelectorTerms[{i}]")
            for i, t in enumerate(
                as_list(req_map.get("nodeSelectorTerms"), where, f"{rpath}.nodeSelectorTerms")
            )
        )
    preferred: list[tuple[int, NodeSelectorTerm]] = []
    ppath = f"{path}.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution"
    for i, raw in enumerate(
        as_list(node_aff.get("preferredDuringSchedulingIgnoredDuringExecution"), where, ppath)
    ):
        item = as_mapping(raw, where, f"{ppath}[{i}]")
        weight = as_int(item.get("weight"), where, f"{ppath}[{i}].weight", required=True) or 0
        preferred.append(
            (weight, _node_selector_term(item.get("preference"), where, f"{ppath}[{i}].preference"))
        )

    def pod_terms(kind: str) -> tuple[tuple[PodAffinityTerm, ...], tuple[tuple[int, PodAffinityTerm], ...]]:
        kpath = f"{path}.affinity.{kind}"
        block = as_mapping(affinity.get(kind), where, kpath)
        rpath = f"{kpath}.requiredDuringSchedulingIgnoredDuringExecution"
        required = tuple(
            _pod_affinity_term(t, where, f"{rpath}[{i}]", namespace)
            for i, t in enumerate(
                as_list(block.get("requiredDuringSchedulingIgnoredDuringExecution"), where, rpath)
            )
        )
        weighted: list[tuple[int, PodAffinityTerm]] = []
        wpath = f"{kpath}.preferredDuringSchedulingIgnoredDuringExecution"
        for i, raw in enumerate(
            as_list(block.get("preferredDuringSchedulingIgnoredDuringExecution"), where, wpath)
        ):
            item = as_mapping(raw, where, f"{wpath}[{i}]")
            weight = as_int(item.get("weight"), where, f"{wpath}[{i}].weight", required=True) or 0
            weighted.append(
                (
                    weight,
                    _pod_affinity_term(
                        item.get("podAffinityTerm"), where, f"{wpath}[{i}].podAffinityTerm", namespace
                    ),
                )
            )
        return required, tuple(weighted)

    aff_req, aff_pref = pod_terms("podAffinity")
    anti_req, anti_pref = pod_terms("podAntiAffinity")

    tolerations: list[Toleration] = []
    for i, raw in enumerate(as_list(spec.get("tolerations"), where, f"{path}.tolerations")):
        item = as_mapping(raw, where, f"{path}.tolerations[{i}]")
        tolerations.append(
            Toleration(
                as_str(item.get("key"), where, f"{path}.tolerations[{i}].key"),
                as_str(item.get("operator"), where, f"{path}.tolerations[{i}].operator", default="Equal"),
                as_str(item.get("value"), where, f"{path}.tolerations[{i}].value"),
                as_str(item.get("effect"), where, f"{path}.tolerations[{i}].effect"),
            )
        )
    ports: set[tuple[str, str, int]] = set()
    for i, raw in enumerate(as_list(spec.get("containers"), where, f"{path}.containers")):
        container = as_mapping(raw, where, f"{path}.containers[{i}]")
        for j, praw in enumerate(as_list(container.get("ports"), where, f"{path}.containers[{i}].ports")):
            port = as_mapping(praw, where, f"{path}.containers[{i}].ports[{j}]")
            host_port = as_int(port.get("hostPort"), where, f"{path}.containers[{i}].ports[{j}].hostPort")
            if host_port:
                proto = as_str(
                    port.get("protocol"), where, f"{path}.containers[{i}].ports[{j}].protocol", default="TCP"
                )
                host_ip = as_str(
                    port.get("hostIP"), where, f"{path}.containers[{i}].ports[{j}].hostIP", default="0.0.0.0"
                )
                ports.add((proto, host_ip, host_port))
    spread = as_list(spec.get("topologySpreadConstraints"), where, f"{path}.topologySpreadConstraints")
    images = []
    for kind in ("initContainers", "containers"):
        for i, raw in enumerate(as_list(spec.get(kind), where, f"{path}.{kind}")):
            image = as_str(
                as_mapping(raw, where, f"{path}.{kind}[{i}]").get("image"), where, f"{path}.{kind}[{i}].image"
            )
            images.append(image + ":latest" if image.rfind(":") <= image.rfind("/") else image)
    return PodSpecInfo(
        resreq=resreq,
        template_requests=template_requests,
        nonzero_cpu=to_volcano_units("cpu", nonzero.get("cpu", Fraction(0))),
        nonzero_memory=to_volcano_units("memory", nonzero.get("memory", Fraction(0))),
        best_effort=is_empty_request(resreq),
        node_selector=node_selector,
        required_terms=required_terms,
        preferred_terms=tuple(preferred),
        tolerations=tuple(tolerations),
        affinity_required=aff_req,
        anti_affinity_required=anti_req,
        affinity_preferred=aff_pref,
        anti_affinity_preferred=anti_pref,
        host_ports=frozenset(ports),
        priority=as_int(spec.get("priority"), where, f"{path}.priority", default=0) or 0,
        scheduler_name=as_str(spec.get("schedulerName"), where, f"{path}.schedulerName"),
        spread_constraints=len(spread),
        node_name=as_str(spec.get("nodeName"), where, f"{path}.nodeName"),
        images=tuple(images),
    )


# --------------------------------------------------------------------------- nodes


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


def parse_node(obj: Any, index: int) -> Node:
    """Parse a Node; well-formed plain dicts take a fast path, anything else the validating one."""
    if type(obj) is dict:
        meta = obj.get("metadata")
        status = obj.get("status")
        if type(meta) is dict and type(status) is dict and "spec" not in obj and "images" not in status:
            name = meta.get("name")
            labels = meta.get("labels")
            alloc = status.get("allocatable")
            if (
                type(name) is str
                and name
                and type(labels) is dict
                and type(alloc) is dict
                and all(type(v) is str for v in labels.values())
            ):
                try:
                    hit = _ALLOCATABLE_CACHE.get(tuple(alloc.items()))
                except TypeError:
                    hit = None
                if hit is not None:
                    return Node(index, name, labels, (), False, hit)
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
        index, name, labels, taints, unschedulable, _allocatable(alloc_raw, where), images or NO_IMAGES
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


# --------------------------------------------------------------------------- pods


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


# --------------------------------------------------------------------------- hypernodes


@dataclass(frozen=True, slots=True)
class Member:
    type: str  # Node | HyperNode
    exact: str | None
    regex: re.Pattern[str] | None
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
    members_raw = as_list(spec.get("members"), where, "spec.members")
    if not members_raw:
        raise PlacementInputError(f"{where}: spec.members: at least one member is required")
    members: list[Member] = []
    for i, raw in enumerate(members_raw):
        path = f"spec.members[{i}]"
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
            regex_text = as_str(
                rm.get("pattern"), where, f"{path}.selector.regexMatch.pattern", required=True
            )
            if not regex_text:
                raise PlacementInputError(f"{where}: {path}.selector.regexMatch.pattern: must not be empty")
            try:
                regex = re.compile(regex_text)
            except re.error as exc:
                raise PlacementInputError(
                    f"{where}: {path}.selector.regexMatch.pattern: invalid regular expression: {exc}"
                ) from None
        else:
            label = parse_label_selector(sel["labelMatch"], where, f"{path}.selector.labelMatch")
        members.append(Member(mtype, exact, regex, regex_text, label, path))
    return HyperNodeObj(
        name, tier, as_str(spec.get("tierName"), where, "spec.tierName"), tuple(members), where
    )
