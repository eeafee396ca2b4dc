"""What the scheduler reads from a pod spec: requests, node and pod affinity, tolerations, ports.

Requests follow k8s ``PodRequests`` (containers summed, init containers as a maximum, sidecars
added, overhead added) and are kept in Volcano's units (see :mod:`.quantity`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypeVar

from hypertopo.placement.errors import PlacementInputError
from hypertopo.placement.fields import as_int, as_list, as_mapping, as_str, string_map
from hypertopo.placement.quantity import parse_quantity, to_volcano_units
from hypertopo.placement.resource_names import not_whole, overcommit_allowed
from hypertopo.placement.resources import Resources, is_empty_request
from hypertopo.placement.selectors import (
    NodeSelectorTerm,
    PodAffinityTerm,
    Toleration,
    node_selector_term,
    pod_affinity_term,
)

#: k8s scheduler defaults for containers without CPU / memory requests (``util.DefaultMilliCPURequest``).
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024

_Term = TypeVar("_Term")


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
    priority_class_name: str = ""  # spec.priorityClassName

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
    limits = {
        str(name): parse_quantity(qty, where=f"{where}: {path}.resources.limits.{name}")
        for name, qty in as_mapping(res.get("limits"), where, f"{path}.resources.limits").items()
    }
    for kind, values in (("limits", limits), ("requests", out)):
        for name, value in values.items():
            if not_whole(name, value):
                raise PlacementInputError(
                    f"{where}: {path}.resources.{kind}.{name}: must be an integer, an extended resource "
                    "is counted in whole units (the API server rejects the pod)"
                )
    for name, request in out.items():
        if overcommit_allowed(name):
            continue
        if name not in limits:
            raise PlacementInputError(
                f"{where}: {path}.resources.limits.{name}: missing; {name} cannot be overcommitted, so "
                "a container that requests it sets the same limit (the API server rejects the pod)"
            )
        if request != limits[name]:
            raise PlacementInputError(
                f"{where}: {path}.resources.requests.{name}: must be equal to its limit "
                f"({name} cannot be overcommitted; the API server rejects the pod)"
            )
    for name, limit in limits.items():
        if name in out and out[name] > limit:
            raise PlacementInputError(
                f"{where}: {path}.resources.requests.{name}: greater than its limit (the API server "
                "rejects the pod)"
            )
        if default_from_limits:
            out.setdefault(name, limit)
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


def _weighted(
    raw: Any, where: str, path: str, term_key: str, parse: Callable[[Any, str], _Term]
) -> tuple[tuple[int, _Term], ...]:
    """A ``preferredDuringScheduling...`` list: ``(weight, parse(item[term_key], its path))`` per item."""
    out = []
    for i, item_raw in enumerate(as_list(raw, where, path)):
        item = as_mapping(item_raw, where, f"{path}[{i}]")
        weight = as_int(item.get("weight"), where, f"{path}[{i}].weight", required=True) or 0
        out.append((weight, parse(item.get(term_key), f"{path}[{i}].{term_key}")))
    return tuple(out)


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
            node_selector_term(t, where, f"{rpath}.nodeSelectorTerms[{i}]")
            for i, t in enumerate(
                as_list(req_map.get("nodeSelectorTerms"), where, f"{rpath}.nodeSelectorTerms")
            )
        )
    preferred = _weighted(
        node_aff.get("preferredDuringSchedulingIgnoredDuringExecution"),
        where,
        f"{path}.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution",
        "preference",
        lambda value, vpath: node_selector_term(value, where, vpath),
    )

    def pod_terms(kind: str) -> tuple[tuple[PodAffinityTerm, ...], tuple[tuple[int, PodAffinityTerm], ...]]:
        kpath = f"{path}.affinity.{kind}"
        block = as_mapping(affinity.get(kind), where, kpath)
        rpath = f"{kpath}.requiredDuringSchedulingIgnoredDuringExecution"
        required = tuple(
            pod_affinity_term(t, where, f"{rpath}[{i}]", namespace)
            for i, t in enumerate(
                as_list(block.get("requiredDuringSchedulingIgnoredDuringExecution"), where, rpath)
            )
        )
        weighted = _weighted(
            block.get("preferredDuringSchedulingIgnoredDuringExecution"),
            where,
            f"{kpath}.preferredDuringSchedulingIgnoredDuringExecution",
            "podAffinityTerm",
            lambda value, vpath: pod_affinity_term(value, where, vpath, namespace),
        )
        return required, weighted

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
        preferred_terms=preferred,
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
        priority_class_name=as_str(spec.get("priorityClassName"), where, f"{path}.priorityClassName"),
    )
