"""Volcano's node filters for a task: the allocate action's resource check plus the predicates plugin.

* resource fit: every requested resource (incl. ``nvidia.com/gpu`` and the
  ``pods`` count) must be <= the node's ``FutureIdle`` (``allocate.predicate``);
* node pod count (``NodePodNumberExceeded``);
* NodeUnschedulable, NodeAffinity (``nodeSelector`` + required node affinity),
  TaintToleration (NoSchedule/NoExecute) - the "stable" filters;
* NodePorts (host ports) and InterPodAffinity (required affinity/anti-affinity,
  including existing pods' anti-affinity).

The stable filters depend only on the pod template and the node, so they are
evaluated once per template (using the label index) and give the candidate list
of every HyperNode; the rest is checked per node when a task is placed.
Volume, DRA and topology-spread filters are not simulated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hypertopo.placement import state as cluster_state
from hypertopo.placement.index import NodeIndex
from hypertopo.placement.objects import Node
from hypertopo.placement.podspec import PodSpecInfo
from hypertopo.placement.resources import short_resources
from hypertopo.placement.selectors import (
    LabelRequirement,
    LabelSelector,
    Taint,
    Toleration,
    term_namespaces,
    tolerated,
)
from hypertopo.placement.state import Cluster
from hypertopo.placement.tree import Tree

UNSCHEDULABLE_TAINT = Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")

R_AFFINITY = "node affinity/selector mismatch"
R_TAINT = "untolerated taint"
R_UNSCHEDULABLE = "node unschedulable"
R_PODS = "too many pods"
R_PORTS = "host port conflict"
R_POD_AFFINITY = "pod affinity rules not met"
R_POD_ANTI = "pod anti-affinity rules"


def insufficient(resource: str) -> str:
    return f"insufficient {resource}"


@dataclass(frozen=True, slots=True)
class PredicateConf:
    """The predicates plugin and its enable switches (``predicate.*Enable`` arguments)."""

    enabled: bool = True
    node_affinity: bool = True
    taint_toleration: bool = True
    pod_affinity: bool = True
    node_ports: bool = True


@dataclass(slots=True)
class StaticFit:
    """The stable-filter result of one pod template over every node."""

    feasible: list[int]
    feasible_set: frozenset[int]
    affinity_ok: frozenset[int] | None  # None: every node passes node affinity
    describe_affinity: str
    _per_hn: dict[str, list[int]] = field(default_factory=dict)


def node_selector_requirements(spec: PodSpecInfo) -> list[LabelRequirement]:
    return [LabelRequirement(k, "In", (v,)) for k, v in spec.node_selector.items()]


def describe_node_affinity(spec: PodSpecInfo) -> str:
    parts = [f"{k}={v}" for k, v in spec.node_selector.items()]
    if spec.required_terms is not None:
        terms = [t.describe() for t in spec.required_terms]
        parts.append(
            " OR ".join(f"({t})" for t in terms) if len(terms) > 1 else (terms[0] if terms else "<no terms>")
        )
    return " AND ".join(parts)


@dataclass(slots=True)
class AffinityContext:
    """Topology domains computed once per task (the InterPodAffinity PreFilter)."""

    required: list[tuple[str, set[str]]]
    any_match: bool
    self_match: bool
    anti: dict[str, set[str]]
    existing_anti: dict[str, set[str]]


@dataclass(slots=True)
class DynamicFit:
    """:meth:`Predicates.dynamic_reason` of every candidate node of one HyperNode for one pod
    template, as of ``Cluster.changed[:seen_at]`` and under one affinity context."""

    spec: PodSpecInfo
    resreq: Mapping[str, int]
    candidates: Sequence[int]
    ctx: AffinityContext | None
    seen_at: int
    reasons: dict[int, str | None]


class Predicates:
    def __init__(
        self, nodes: Sequence[Node], index: NodeIndex, tree: Tree, cluster: Cluster, conf: PredicateConf
    ) -> None:
        self.nodes = nodes
        self.index = index
        self.tree = tree
        self.cluster = cluster
        self.conf = conf
        self._static: dict[int, StaticFit] = {}
        self._dynamic: dict[tuple[int, str], DynamicFit] = {}
        self._tainted = [n.index for n in nodes if n.taints]
        self._unschedulable = [n.index for n in nodes if n.unschedulable]

    # ------------------------------------------------------------------ stable filters

    def affinity_nodes(self, spec: PodSpecInfo) -> frozenset[int] | None:
        if not self.conf.enabled or not self.conf.node_affinity:
            return None
        if not spec.node_selector and spec.required_terms is None:
            return None
        selected: set[int] | None = None
        if spec.node_selector:
            selected = set(self.index.select_labels(LabelSelector(tuple(node_selector_requirements(spec)))))
        if spec.required_terms is not None:
            union: set[int] = set()
            for term in spec.required_terms:
                union.update(self.index.select_term(term))
            selected = union if selected is None else selected & union
        return frozenset(selected or ())

    def static_fit(self, spec: PodSpecInfo) -> StaticFit:
        key = id(spec)
        got = self._static.get(key)
        if got is not None:
            return got
        affinity_ok = self.affinity_nodes(spec)
        bad: set[int] = set()
        if self.conf.enabled:
            for i in self._unschedulable:
                if not tolerated(UNSCHEDULABLE_TAINT, spec.tolerations):
                    bad.add(i)
            if self.conf.taint_toleration:
                for i in self._tainted:
                    if self.untolerated_taint(self.nodes[i].taints, spec.tolerations):
                        bad.add(i)
        if affinity_ok is None:
            feasible = (
                [i for i in range(len(self.nodes)) if i not in bad] if bad else list(range(len(self.nodes)))
            )
        else:
            feasible = sorted(i for i in affinity_ok if i not in bad)
        fit = StaticFit(feasible, frozenset(feasible), affinity_ok, describe_node_affinity(spec))
        self._static[key] = fit
        return fit

    @staticmethod
    def untolerated_taint(taints: Sequence[Taint], tolerations: Sequence[Toleration]) -> Taint | None:
        for taint in taints:
            if taint.effect in ("NoSchedule", "NoExecute") and not tolerated(taint, tolerations):
                return taint
        return None

    def candidates(self, spec: PodSpecInfo, hypernode: str) -> list[int]:
        """Nodes of ``hypernode`` passing the stable filters, in node-index order."""
        fit = self.static_fit(spec)
        got = fit._per_hn.get(hypernode)
        if got is not None:
            return got
        hn = self.tree.hypernodes[hypernode]
        if len(fit.feasible) == len(self.nodes):
            got = hn.nodes
        elif len(fit.feasible) < len(hn.nodes):
            node_hns = self.tree.node_hns
            got = [i for i in fit.feasible if hypernode in node_hns[i]]
        else:
            fs = fit.feasible_set
            got = [i for i in hn.nodes if i in fs]
        fit._per_hn[hypernode] = got
        return got

    def static_reason(self, spec: PodSpecInfo, i: int) -> str | None:
        """Why node ``i`` fails the stable filters (None: it passes)."""
        fit = self.static_fit(spec)
        if i in fit.feasible_set:
            return None
        if fit.affinity_ok is not None and i not in fit.affinity_ok:
            return R_AFFINITY
        node = self.nodes[i]
        if node.unschedulable and not tolerated(UNSCHEDULABLE_TAINT, spec.tolerations):
            return R_UNSCHEDULABLE
        taint = self.untolerated_taint(node.taints, spec.tolerations)
        if taint is not None:
            return (
                f"{R_TAINT} {taint.key}={taint.value}:{taint.effect}"
                if taint.value
                else f"{R_TAINT} {taint.key}:{taint.effect}"
            )
        return R_AFFINITY

    # ------------------------------------------------------------------ dynamic filters

    def affinity_context(
        self, spec: PodSpecInfo, namespace: str, labels: Mapping[str, str]
    ) -> AffinityContext | None:
        """Domains for required (anti-)affinity; None when nothing applies to this pod."""
        if not self.conf.enabled or not self.conf.pod_affinity:
            return None
        # with no required terms of its own, only pods with required anti-affinity can matter
        anti_nodes = (
            self.cluster.pods_with_required_anti
            if cluster_state.INCREMENTAL
            else self.cluster.pods_with_affinity
        )
        check_existing = bool(anti_nodes)
        if not spec.affinity_required and not spec.anti_affinity_required and not check_existing:
            return None
        required = [(t.topology_key, set()) for t in spec.affinity_required]
        anti: dict[str, set[str]] = {}
        existing_anti: dict[str, set[str]] = {}
        any_match = False
        states = self.cluster.states
        own_terms = (*spec.affinity_required, *spec.anti_affinity_required)
        # only pods an own term can match, or with required anti-affinity of their own, count
        own_ns = term_namespaces(own_terms)
        cluster = self.cluster
        pool = cluster.nodes_for(own_ns, required_anti=cluster_state.INCREMENTAL) if own_terms else anti_nodes
        for i in sorted(pool):
            state = states[i]
            if state is None or not state.pods:
                continue
            node_labels = self.nodes[i].labels
            for pod in state.pods:
                if own_ns is not None and pod.namespace not in own_ns and not pod.spec.anti_affinity_required:
                    continue
                for (key, domains), term in zip(required, spec.affinity_required, strict=True):
                    if term.matches_pod(pod.namespace, pod.labels):
                        any_match = True
                        if key in node_labels:
                            domains.add(node_labels[key])
                for term in spec.anti_affinity_required:
                    if term.topology_key in node_labels and term.matches_pod(pod.namespace, pod.labels):
                        anti.setdefault(term.topology_key, set()).add(node_labels[term.topology_key])
                for term in pod.spec.anti_affinity_required:
                    if term.topology_key in node_labels and term.matches_pod(namespace, labels):
                        existing_anti.setdefault(term.topology_key, set()).add(node_labels[term.topology_key])
        self_match = all(t.matches_pod(namespace, labels) for t in spec.affinity_required)
        if not required and not anti and not existing_anti:
            return None
        return AffinityContext(required, any_match, self_match, anti, existing_anti)

    def dynamic_reasons(
        self,
        spec: PodSpecInfo,
        resreq: Mapping[str, int],
        hypernode: str,
        candidates: Sequence[int],
        ctx: AffinityContext | None,
    ) -> dict[int, str | None]:
        """:meth:`dynamic_reason` of each of ``candidates`` (the HyperNode's, :meth:`candidates`), in
        their order. A node's reason changes only with its pods (``Cluster.changed``) or the
        affinity context: kept per template and HyperNode, only the nodes changed since are
        asked again (placing a large job's pods one after the other)."""
        key = (id(spec), hypernode)
        changed = self.cluster.changed
        got = self._dynamic.get(key)
        if (
            not cluster_state.INCREMENTAL
            or got is None
            or got.spec is not spec
            or got.resreq is not resreq
            or got.candidates is not candidates
            or got.ctx != ctx
        ):
            reasons = {i: self.dynamic_reason(spec, resreq, i, ctx) for i in candidates}
            self._dynamic[key] = DynamicFit(spec, resreq, candidates, ctx, len(changed), reasons)
            return reasons
        reasons = got.reasons
        for i in set(changed[got.seen_at :]):
            if i in reasons:
                reasons[i] = self.dynamic_reason(spec, resreq, i, ctx)
        got.seen_at = len(changed)
        return reasons

    def dynamic_reason(
        self, spec: PodSpecInfo, resreq: Mapping[str, int], i: int, ctx: AffinityContext | None
    ) -> str | None:
        """Why node ``i`` rejects the task now (None: it fits)."""
        cluster = self.cluster
        short = short_resources(resreq, cluster.future_idle(i))
        if short:
            return insufficient(short[0])
        if not self.conf.enabled:
            return None
        state = cluster.states[i]
        if state is not None:
            if self.nodes[i].allocatable.get("pods", 0) <= len(state.pods):
                return R_PODS
            if self.conf.node_ports and spec.host_ports and state.ports:
                for proto, ip, port in spec.host_ports:
                    for (p2, ip2, port2), count in state.ports.items():
                        if count and p2 == proto and port2 == port and (ip == ip2 or "0.0.0.0" in (ip, ip2)):
                            return R_PORTS
        if ctx is not None:
            labels = self.nodes[i].labels
            if ctx.required:
                ok = all(key in labels and labels[key] in domains for key, domains in ctx.required)
                if not ok and not (not ctx.any_match and ctx.self_match):
                    return R_POD_AFFINITY
            for key, domains in ctx.anti.items():
                if labels.get(key) in domains and key in labels:
                    return R_POD_ANTI
            for key, domains in ctx.existing_anti.items():
                if labels.get(key) in domains and key in labels:
                    return R_POD_ANTI
        return None
