"""The ``nodeorder`` plugin: the k8s framework's node scores, as Volcano v1.15.1 runs them.

LeastAllocated (cpu/memory 50/50 on non-zero requests, integer maths) x
``leastrequested.weight`` (1); MostAllocated x ``mostrequested.weight`` (0);
BalancedAllocation over cpu, memory and GPUs (``(1 - stddev) * 100``) x
``balancedresource.weight`` (1); NodeAffinity preferred terms, normalised to 0..100, x
``nodeaffinity.weight`` (2); InterPodAffinity preferred terms (incoming and existing pods),
min-max normalised, x ``podaffinity.weight`` (2); TaintToleration (PreferNoSchedule,
reverse-normalised) x ``tainttoleration.weight`` (3); ImageLocality (sizes of the pod's
images on the node, scaled by their spread) x ``imagelocality.weight`` (1).
PodTopologySpread is not simulated (it needs owner data).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hypertopo.placement import state as cluster_state
from hypertopo.placement.conf import NodeOrderConf
from hypertopo.placement.objects import Node
from hypertopo.placement.podspec import PodSpecInfo
from hypertopo.placement.selectors import NodeSelectorTerm, term_namespaces
from hypertopo.placement.state import Cluster, PodOnNode
from hypertopo.topology.labels import GPU_RESOURCE

MAX_NODE_SCORE = 100


def _least_requested(requested: int, capacity: int) -> int:
    if capacity == 0 or requested > capacity:
        return 0
    return ((capacity - requested) * MAX_NODE_SCORE) // capacity


def _most_requested(requested: int, capacity: int) -> int:
    if capacity == 0:
        return 0
    return (min(requested, capacity) * MAX_NODE_SCORE) // capacity


def _balanced(fractions: Sequence[float]) -> int:
    if len(fractions) == 2:
        std = abs((fractions[0] - fractions[1]) / 2)
    elif len(fractions) > 2:
        mean = sum(fractions) / len(fractions)
        std = math.sqrt(sum((f - mean) * (f - mean) for f in fractions) / len(fractions))
    else:
        std = 0.0
    return int((1 - std) * MAX_NODE_SCORE)


@dataclass(slots=True)
class AffinityTotals:
    """Per topology key and value, the InterPodAffinity weights of nodes' pods for one incoming
    spec, summed over the nodes counted (``shares``: each node's part, to take back)."""

    spec: PodSpecInfo
    seen_at: int = 0  # the length of ``Cluster.changed`` when last caught up
    seen: dict[str, str | None] = field(default_factory=dict)  # incoming labels summed for, by key
    topo: dict[str, dict[str, int]] = field(default_factory=dict)
    shares: dict[int, tuple[tuple[str, ...], list[tuple[str, str, int]]]] = field(default_factory=dict)
    key_uses: dict[str, int] = field(default_factory=dict)  # label key -> nodes whose terms look at it

    def add(self, n: int, keys: tuple[str, ...], share: list[tuple[str, str, int]]) -> None:
        self.shares[n] = (keys, share)
        for key in keys:
            self.key_uses[key] = self.key_uses.get(key, 0) + 1
        for key, value, delta in share:
            bucket = self.topo.setdefault(key, {})
            bucket[value] = bucket.get(value, 0) + delta

    def drop(self, n: int) -> None:
        got = self.shares.pop(n, None)
        if got is None:
            return
        keys, share = got
        for key in keys:
            self.key_uses[key] -= 1
            if not self.key_uses[key]:
                del self.key_uses[key]
        for key, value, delta in share:
            bucket = self.topo[key]
            bucket[value] -= delta

    def values_of(self, labels: Mapping[str, str]) -> dict[str, str | None]:
        """``labels``' values of the keys the counted nodes' terms look at."""
        return {key: labels.get(key) for key in self.key_uses}

    def summed_for(self, labels: Mapping[str, str]) -> bool:
        """Whether every counted share holds for an incoming pod with ``labels``: they agree with
        those the shares were computed for on every key the nodes' terms look at."""
        return all(labels.get(key) == value for key, value in self.seen.items())


def _term_matches(term: NodeSelectorTerm, node: Node) -> bool:
    return term.matches(node.name, node.labels)


class NodeOrder:
    """The plugin's node score over a candidate list."""

    def __init__(self, conf: NodeOrderConf, cluster: Cluster, nodes: Sequence[Node]) -> None:
        self.conf = conf
        self.cluster = cluster
        self.nodes = nodes
        self.image_nodes: dict[str, int] = {}
        #: (id(spec), namespace) -> InterPodAffinity's weights for such an incoming pod
        self._affinity_totals: dict[tuple[int, str], AffinityTotals] = {}
        #: id(spec) -> (spec, :meth:`_untolerated`)
        self._taint_counts: dict[int, tuple[PodSpecInfo, dict[int, int]]] = {}
        for node in nodes:
            for image in node.images:
                self.image_nodes[image] = self.image_nodes.get(image, 0) + 1

    def score(
        self,
        spec: PodSpecInfo,
        namespace: str,
        labels: Mapping[str, str],
        candidates: Sequence[int],
        scores: dict[int, float],
    ) -> None:
        w = self.conf
        cluster = self.cluster
        nodes = self.nodes
        states = cluster.states
        req = spec.resreq
        if w.least_requested or w.most_requested or w.balanced_resource:
            pod = (req.get("cpu", 0), req.get("memory", 0), req.get(GPU_RESOURCE, 0))
            balanced = w.balanced_resource and any(pod)
            memo: dict[tuple[int, int, int, int, int, int], float] = {}
            per_node = cluster.node_memo("nodeorder resources", spec)
            for i in candidates:
                value = per_node.get(i)
                if value is not None:
                    scores[i] += value
                    continue
                alloc = nodes[i].allocatable
                st = states[i]
                if st is None:
                    key = (id(alloc), 0, 0, 0, 0, 0)
                else:
                    got = st.requested
                    key = (
                        id(alloc),
                        st.nz_cpu,
                        st.nz_memory,
                        got.get("cpu", 0),
                        got.get("memory", 0),
                        got.get(GPU_RESOURCE, 0),
                    )
                value = memo.get(key)
                if value is None:
                    value = self._resource_scores(spec, pod, alloc, key, w.least_requested, w.most_requested)
                    if balanced:
                        value += self._balanced_score(pod, alloc, key) * w.balanced_resource
                    memo[key] = value
                per_node[i] = value
                scores[i] += value
        if w.node_affinity and spec.preferred_terms:
            raw = {
                i: sum(weight for weight, term in spec.preferred_terms if _term_matches(term, nodes[i]))
                for i in candidates
            }
            top = max(raw.values(), default=0)
            for i, s in raw.items():
                scores[i] += (s * MAX_NODE_SCORE // top if top > 0 else 0) * w.node_affinity
        if w.image_locality and self.image_nodes and spec.images:
            self._image_locality(spec, candidates, scores, w.image_locality)
        if w.pod_affinity:
            self._pod_affinity(spec, namespace, labels, candidates, scores, w.pod_affinity)
        if w.taint_toleration:
            counts = self._untolerated(spec)
            top = max((counts.get(i, 0) for i in candidates), default=0)
            if not top:
                for i in candidates:
                    scores[i] += MAX_NODE_SCORE * w.taint_toleration
            else:
                for i in candidates:
                    c = counts.get(i, 0)
                    scores[i] += (MAX_NODE_SCORE - (c * MAX_NODE_SCORE // top)) * w.taint_toleration

    def _untolerated(self, spec: PodSpecInfo) -> dict[int, int]:
        """Node -> its PreferNoSchedule taints that ``spec`` does not tolerate (nodes with any)."""
        got = self._taint_counts.get(id(spec))
        if got is not None and got[0] is spec:
            return got[1]
        tolerations = [t for t in spec.tolerations if t.effect in ("", "PreferNoSchedule")]
        counts: dict[int, int] = {}
        for i, node in enumerate(self.nodes):
            if node.taints:
                c = sum(
                    1
                    for t in node.taints
                    if t.effect == "PreferNoSchedule" and not any(tol.tolerates(t) for tol in tolerations)
                )
                if c:
                    counts[i] = c
        self._taint_counts[id(spec)] = (spec, counts)
        return counts

    def _image_locality(
        self, spec: PodSpecInfo, candidates: Sequence[int], scores: dict[int, float], weight: int
    ) -> None:
        """ImageLocality: sizes of the pod's images present on the node, scaled by their spread."""
        total_nodes = len(self.nodes)
        low, high = 23 * 2**20, 1000 * 2**20 * len(spec.images)
        for i in candidates:
            have = self.nodes[i].images
            if not have:
                value = 0
            else:
                value = sum(
                    int(have[img] * (self.image_nodes[img] / total_nodes))
                    for img in spec.images
                    if img in have
                )
            value = min(max(value, low), high)
            scores[i] += (MAX_NODE_SCORE * (value - low) // (high - low)) * weight

    @staticmethod
    def _resource_scores(
        spec: PodSpecInfo,
        pod: tuple[int, int, int],
        alloc: Mapping[str, int],
        key: tuple[int, ...],
        least: int,
        most: int,
    ) -> float:
        """LeastAllocated / MostAllocated on non-zero requests (cpu and memory)."""
        cpu = spec.nonzero_cpu + key[1]
        mem = spec.nonzero_memory + key[2]
        a_cpu, a_mem = alloc.get("cpu", 0), alloc.get("memory", 0)
        value = 0
        if least:
            total = weight = 0
            for r, a in ((cpu, a_cpu), (mem, a_mem)):
                if a:
                    total += _least_requested(r, a) * 50
                    weight += 50
            value += (total // weight if weight else 0) * least
        if most:
            total = weight = 0
            for r, a in ((cpu, a_cpu), (mem, a_mem)):
                if a:
                    total += _most_requested(r, a)
                    weight += 1
            value += (total // weight if weight else 0) * most
        return float(value)

    @staticmethod
    def _balanced_score(pod: tuple[int, int, int], alloc: Mapping[str, int], key: tuple[int, ...]) -> int:
        """BalancedAllocation over cpu, memory and GPUs on actual requests."""
        fractions = []
        for name, want, have_req in zip(("cpu", "memory", GPU_RESOURCE), pod, key[3:], strict=True):
            have = alloc.get(name, 0)
            if have == 0 or (name == GPU_RESOURCE and want == 0):
                continue
            fractions.append(min((have_req + want) / have, 1.0))
        return _balanced(fractions)

    def _affinity_share(
        self,
        n: int,
        pods: Sequence[PodOnNode],
        spec: PodSpecInfo,
        namespace: str,
        labels: Mapping[str, str],
        has_own: bool,
        own_ns: frozenset[str] | None,
    ) -> tuple[tuple[str, ...], list[tuple[str, str, int]]]:
        """InterPodAffinity's weights from node ``n``'s pods for the incoming pod, per topology
        key and value (the node's own value of that key): the incoming pod's preferred terms
        matching them, and theirs matching it; with the label keys their terms look at."""
        node_labels = self.nodes[n].labels
        out: dict[tuple[str, str], int] = {}
        keys: set[str] = set()
        for pod in pods:
            for _w, term in (*pod.spec.affinity_preferred, *pod.spec.anti_affinity_preferred):
                if term.selector is not None:
                    keys.update(req.key for req in term.selector.requirements)
            if not pod.spec.has_pod_affinity and (
                not has_own or (own_ns is not None and pod.namespace not in own_ns)
            ):
                continue
            for mult, terms, target_ns, target_labels in (
                (1, spec.affinity_preferred, pod.namespace, pod.labels),
                (-1, spec.anti_affinity_preferred, pod.namespace, pod.labels),
                (1, pod.spec.affinity_preferred, namespace, labels),
                (-1, pod.spec.anti_affinity_preferred, namespace, labels),
            ):
                for w, term in terms:
                    if term.topology_key in node_labels and term.matches_pod(target_ns, target_labels):
                        at = (term.topology_key, node_labels[term.topology_key])
                        out[at] = out.get(at, 0) + w * mult
        return tuple(sorted(keys)), [(key, value, delta) for (key, value), delta in out.items()]

    def _affinity_topo(
        self, spec: PodSpecInfo, namespace: str, labels: Mapping[str, str], has_own: bool
    ) -> dict[str, dict[str, int]]:
        """InterPodAffinity's weights per topology key and value for the incoming pod: the shares
        (:meth:`_affinity_share`) of the nodes whose pods count (those an own term can match by
        namespace, or with terms of their own), summed.

        The sum is kept per incoming spec and namespace and caught up with the nodes whose pods
        changed since (``Cluster.changed``): scoring a large job's pods one after the other
        recomputes only the node just filled. It is rebuilt when the incoming pod's values of the
        label keys the nodes' terms look at differ from those it was summed for."""
        cluster = self.cluster
        # a pod without terms of its own counts only when an own term can match its namespace
        own_ns = term_namespaces(t for _w, t in (*spec.affinity_preferred, *spec.anti_affinity_preferred))
        totals = self._affinity_totals.get((id(spec), namespace)) if cluster_state.INCREMENTAL else None
        if totals is not None and totals.spec is spec:
            if not totals.summed_for(labels):
                totals = None
            else:
                for n in set(cluster.changed[totals.seen_at :]):
                    totals.drop(n)
                    if cluster.hosts_for(n, own_ns) if has_own else n in cluster.pods_with_affinity:
                        self._count_share(totals, n, spec, namespace, labels, has_own, own_ns)
        if totals is None or totals.spec is not spec:
            totals = self._affinity_totals[(id(spec), namespace)] = AffinityTotals(spec)
            for n in cluster.nodes_for(own_ns) if has_own else cluster.pods_with_affinity:
                self._count_share(totals, n, spec, namespace, labels, has_own, own_ns)
        totals.seen_at = len(cluster.changed)
        totals.seen = totals.values_of(labels)
        return totals.topo

    def _count_share(
        self,
        totals: AffinityTotals,
        n: int,
        spec: PodSpecInfo,
        namespace: str,
        labels: Mapping[str, str],
        has_own: bool,
        own_ns: frozenset[str] | None,
    ) -> None:
        st = self.cluster.states[n]
        if st is None or not st.pods or not self.nodes[n].labels:
            return
        keys, share = self._affinity_share(n, st.pods, spec, namespace, labels, has_own, own_ns)
        totals.add(n, keys, share)

    def _pod_affinity(
        self,
        spec: PodSpecInfo,
        namespace: str,
        labels: Mapping[str, str],
        candidates: Sequence[int],
        scores: dict[int, float],
        weight: int,
    ) -> None:
        has_own = bool(spec.affinity_preferred or spec.anti_affinity_preferred)
        cluster = self.cluster
        if not has_own and not cluster.pods_with_affinity:
            return
        topo = self._affinity_topo(spec, namespace, labels, has_own)
        if not topo:
            return
        nodes = self.nodes
        raw: dict[int, int] = {}
        if len(topo) == 1:  # one topology key (the hostname, typically)
            ((key, values),) = topo.items()
            for i in candidates:
                label = nodes[i].labels.get(key)
                raw[i] = 0 if label is None else values.get(label, 0)
        else:
            for i in candidates:
                node_labels = nodes[i].labels
                raw[i] = sum(
                    values.get(node_labels[key], 0) for key, values in topo.items() if key in node_labels
                )
        low, high = min(raw.values()), max(raw.values())
        if high == low:
            return  # every candidate's normalised score is 0
        norms = {s: int(MAX_NODE_SCORE * ((s - low) / (high - low))) * weight for s in set(raw.values())}
        for i, s in raw.items():
            scores[i] += norms[s]
