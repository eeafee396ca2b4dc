"""Label selectors, node-selector terms, taints and tolerations, pod-affinity terms.

Kubernetes semantics (``metav1.LabelSelector``, ``v1.NodeSelectorTerm``, ``v1.Toleration``);
where Volcano differs it is said at the use (an empty ``labelMatch`` of a HyperNode member
matches no node, see :mod:`.tree`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hypertopo.placement.errors import PlacementInputError
from hypertopo.placement.fields import as_list, as_mapping, as_str, string_map


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


def node_selector_term(value: Any, where: str, path: str) -> NodeSelectorTerm:
    mapping = as_mapping(value, where, path)
    exprs = _requirements(mapping.get("matchExpressions"), where, f"{path}.matchExpressions", _NODE_OPS)
    fields = _requirements(mapping.get("matchFields"), where, f"{path}.matchFields", {"In", "NotIn"})
    for i, req in enumerate(fields):
        if req.key != "metadata.name":
            raise PlacementInputError(
                f"{where}: {path}.matchFields[{i}].key: only metadata.name is supported"
            )
    return NodeSelectorTerm(exprs, fields)


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


def term_namespaces(terms: Iterable[PodAffinityTerm]) -> frozenset[str] | None:
    """The namespaces of the pods any of ``terms`` can match (:meth:`PodAffinityTerm.matches_pod`);
    None: any namespace. A pod elsewhere matches none of them (a shortcut for the scans over pods)."""
    out: set[str] = set()
    for term in terms:
        if term.selector is None:
            continue
        if term.all_namespaces:
            return None
        out.update(term.namespaces or (term.owner_namespace,))
    return frozenset(out)


def pod_affinity_term(value: Any, where: str, path: str, namespace: str) -> PodAffinityTerm:
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
