"""Node and HyperNode scores of Volcano v1.15.1 (``util.PrioritizeNodes`` sums every plugin).

Node scores, all summed:

* ``nodeorder`` (k8s framework plugins over the candidate nodes): LeastAllocated
  (cpu/memory 50/50 on non-zero requests, integer maths) x ``leastrequested.weight``
  (1); MostAllocated x ``mostrequested.weight`` (0); BalancedAllocation over cpu,
  memory, ``nvidia.com/gpu`` (``(1 - stddev) * 100``) x ``balancedresource.weight``
  (1); NodeAffinity preferred terms, normalised to 0..100, x ``nodeaffinity.weight``
  (2); InterPodAffinity preferred terms (incoming and existing pods), min-max
  normalised, x ``podaffinity.weight`` (2); TaintToleration (PreferNoSchedule,
  reverse-normalised) x ``tainttoleration.weight`` (3). ImageLocality and
  PodTopologySpread are not simulated (they need image and owner data).
* ``binpack``: ``sum w_r (used_r + req_r) / alloc_r / sum w_r * 100 * binpack.weight``
  over requested resources that have a weight (cpu, memory, ``binpack.resources``).
* ``network-topology-aware``: for a task of a subjob with a network topology, the
  LCA-tier score against the subjob's running allocated HyperNode (nothing for
  the first task) plus the task-count bonus among the best; for other tasks the
  tier-faded HyperNode binpack score. Multiplied by ``100 * weight``.

HyperNode score of a subjob (``HyperNodeOrderFn``): the subjob binpack score
over all its tasks' requests, plus ``taskNum/|tasks|`` when several share the
maximum, times ``100 * weight``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from hypertopo.placement.conf import GPU, SchedulerConf
from hypertopo.placement.objects import MIN_RESOURCE, Node, NodeSelectorTerm, PodSpecInfo, Resources
from hypertopo.placement.state import Cluster
from hypertopo.placement.tree import Tree

MAX_NODE_SCORE = 100
TIE_EPSILON = 1e-9


def same_score(a: float, b: float) -> bool:
    return abs(a - b) <= TIE_EPSILON * max(1.0, abs(a), abs(b))


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


def _term_matches(term: NodeSelectorTerm, node: Node) -> bool:
    return term.matches(node.name, node.labels)


class Scorer:
    def __init__(self, conf: SchedulerConf, cluster: Cluster, tree: Tree, nodes: Sequence[Node]) -> None:
        self.conf = conf
        self.cluster = cluster
        self.tree = tree
        self.nodes = nodes
        nta = conf.nta
        self.nta_scale = MAX_NODE_SCORE * nta.weight
        self.tier_pos = {tier: i for i, tier in enumerate(tree.tiers)}
        self.tier_weights: list[tuple[int, float]] = []
        for tier in range(tree.min_tier, tree.max_tier + 1):
            self.tier_weights.append((tier, 1.0 if tier - 1 == 0 else nta.normal_pod_fading ** (tier - 1)))
        self.tier_weight_sum = sum(w for _, w in self.tier_weights)
        self.image_nodes: dict[str, int] = {}
        for node in nodes:
            for image in node.images:
                self.image_nodes[image] = self.image_nodes.get(image, 0) + 1

    # ------------------------------------------------------------------ HyperNode binpack

    def binpack_request(self, resreqs: Sequence[Mapping[str, int]]) -> Resources:
        """Summed request of the subjob's tasks over resources with a HyperNode binpack weight."""
        weights = self.conf.nta.binpack
        out: Resources = {}
        for req in resreqs:
            for key, val in req.items():
                if val >= MIN_RESOURCE and key in weights:
                    out[key] = out.get(key, 0) + val
        return out

    def hypernode_binpack(self, request: Mapping[str, int], hn: str) -> float:
        """``getSubJobHyperNodeBinPackingScore`` / ``getPodHyperNodeBinPackingScore`` (0..1)."""
        weights = self.conf.nta.binpack
        alloc = self.cluster.hn_alloc[hn]
        used = self.cluster.hn_used[hn]
        total = 0.0
        weight_sum = 0
        for key, want in request.items():
            weight = weights.get(key)
            if weight is None or want < MIN_RESOURCE:
                continue
            have = alloc.get(key, 0)
            now = used.get(key, 0) + want
            if now > have:
                return 0.0
            total += weight * (now / have)
            weight_sum += weight
        return total / weight_sum if weight_sum > 0 else 0.0

    def subjob_hypernode_scores(
        self,
        request: Mapping[str, int],
        hypernodes: Sequence[str],
        task_num: Callable[[str], int],
        total_tasks: int,
    ) -> dict[str, float]:
        raw = {hn: self.hypernode_binpack(request, hn) for hn in hypernodes}
        best = max(raw.values())
        tops = [hn for hn, s in raw.items() if s == best]
        if len(tops) > 1 and total_tasks > 0:
            for hn in tops:
                raw[hn] += task_num(hn) / total_tasks
        return {hn: s * self.nta_scale for hn, s in raw.items()}

    # ------------------------------------------------------------------ node scores

    def score_nodes(
        self,
        spec: PodSpecInfo,
        namespace: str,
        labels: Mapping[str, str],
        candidates: Sequence[int],
        network_aware: bool,
        allocated_hn: str | None,
        task_num: Callable[[str], int],
        total_tasks: int,
    ) -> dict[int, float]:
        scores = dict.fromkeys(candidates, 0.0)
        if self.conf.nodeorder.enabled:
            self._nodeorder(spec, namespace, labels, candidates, scores)
        if self.conf.binpack.enabled and self.conf.binpack.weight != 0:
            self._binpack(spec.resreq, candidates, scores)
        nta = self.conf.nta
        if nta.enabled and nta.node_order:
            if network_aware:
                self._nta_network(candidates, allocated_hn, task_num, total_tasks, scores)
            elif nta.normal_pod_enable:
                self._nta_normal(spec.resreq, candidates, scores)
        return scores

    def _nodeorder(
        self,
        spec: PodSpecInfo,
        namespace: str,
        labels: Mapping[str, str],
        candidates: Sequence[int],
        scores: dict[int, float],
    ) -> None:
        w = self.conf.nodeorder
        cluster = self.cluster
        nodes = self.nodes
        states = cluster.states
        req = spec.resreq
        if w.least_requested or w.most_requested or w.balanced_resource:
            pod = (req.get("cpu", 0), req.get("memory", 0), req.get(GPU, 0))
            balanced = w.balanced_resource and any(pod)
            memo: dict[tuple[int, int, int, int, int, int], float] = {}
            for i in candidates:
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
                        got.get(GPU, 0),
                    )
                value = memo.get(key)
                if value is None:
                    value = self._resource_scores(spec, pod, alloc, key, w.least_requested, w.most_requested)
                    if balanced:
                        value += self._balanced_score(pod, alloc, key) * w.balanced_resource
                    memo[key] = value
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
            tolerations = [t for t in spec.tolerations if t.effect in ("", "PreferNoSchedule")]
            counts: dict[int, int] = {}
            for i in candidates:
                taints = nodes[i].taints
                counts[i] = (
                    sum(
                        1
                        for t in taints
                        if t.effect == "PreferNoSchedule" and not any(tol.tolerates(t) for tol in tolerations)
                    )
                    if taints
                    else 0
                )
            top = max(counts.values(), default=0)
            for i, c in counts.items():
                scores[i] += (
                    MAX_NODE_SCORE - (c * MAX_NODE_SCORE // top) if top else MAX_NODE_SCORE
                ) * w.taint_toleration

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
        for name, want, have_req in zip(("cpu", "memory", GPU), pod, key[3:], strict=True):
            have = alloc.get(name, 0)
            if have == 0 or (name == GPU and want == 0):
                continue
            fractions.append(min((have_req + want) / have, 1.0))
        return _balanced(fractions)

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
        topo: dict[str, dict[str, int]] = {}
        pool = sorted(cluster.occupied) if has_own else sorted(cluster.pods_with_affinity)
        nodes = self.nodes
        for n in pool:
            st = cluster.states[n]
            if st is None or not st.pods:
                continue
            node_labels = nodes[n].labels
            if not node_labels:
                continue
            for pod in st.pods:
                if not has_own and not pod.spec.has_pod_affinity:
                    continue
                for mult, terms, target_ns, target_labels in (
                    (1, spec.affinity_preferred, pod.namespace, pod.labels),
                    (-1, spec.anti_affinity_preferred, pod.namespace, pod.labels),
                    (1, pod.spec.affinity_preferred, namespace, labels),
                    (-1, pod.spec.anti_affinity_preferred, namespace, labels),
                ):
                    for w, term in terms:
                        if term.topology_key in node_labels and term.matches_pod(target_ns, target_labels):
                            bucket = topo.setdefault(term.topology_key, {})
                            value = node_labels[term.topology_key]
                            bucket[value] = bucket.get(value, 0) + w * mult
        if not topo:
            return
        raw = {}
        for i in candidates:
            node_labels = nodes[i].labels
            raw[i] = sum(
                values.get(node_labels[key], 0) for key, values in topo.items() if key in node_labels
            )
        low, high = min(raw.values()), max(raw.values())
        for i, s in raw.items():
            norm = int(MAX_NODE_SCORE * ((s - low) / (high - low))) if high > low else 0
            scores[i] += norm * weight

    def _binpack(self, req: Mapping[str, int], candidates: Sequence[int], scores: dict[int, float]) -> None:
        conf = self.conf.binpack
        nodes = self.nodes
        states = self.cluster.states
        wanted = [
            (k, v, conf.resources[k]) for k, v in req.items() if v >= MIN_RESOURCE and k in conf.resources
        ]
        if not wanted:
            return
        for i in candidates:
            alloc = nodes[i].allocatable
            st = states[i]
            used = st.used if st else {}
            total = 0.0
            weight_sum = 0
            overflow = False
            for key, want, weight in wanted:
                cap = alloc.get(key, 0)
                weight_sum += weight
                if cap == 0 or weight == 0:
                    continue
                final = want + used.get(key, 0)
                if final > cap:
                    overflow = True
                    break
                total += final * weight / cap
            if overflow:
                continue
            if weight_sum > 0:
                total /= weight_sum
            scores[i] += total * MAX_NODE_SCORE * conf.weight

    def tier_score(self, tier: int) -> float:
        low, high = self.tree.min_tier, self.tree.max_tier
        if low == high:
            return 1.0
        if low <= tier <= high:
            return (high - tier) / (high - low)
        return 0.0

    def _nta_network(
        self,
        candidates: Sequence[int],
        allocated_hn: str | None,
        task_num: Callable[[str], int],
        total_tasks: int,
        scores: dict[int, float],
    ) -> None:
        if not allocated_hn:
            return
        tree = self.tree
        leaf_of = tree.node_leaf
        memo: dict[str | None, float] = {}
        raw: dict[int, float] = {}
        for i in candidates:
            hn = leaf_of[i]
            s = memo.get(hn)
            if s is None:
                if hn is None:
                    s = 0.0
                elif hn == allocated_hn:
                    s = 1.0
                else:
                    lca = tree.lca(hn, allocated_hn)
                    s = 0.0 if lca is None else self.tier_score(tree.tier(lca))
                memo[hn] = s
            raw[i] = s
        best = max(raw.values(), default=0.0)
        tops = [i for i, s in raw.items() if s == best]
        if len(tops) > 1 and total_tasks > 0:
            bonus: dict[str | None, float] = {}
            for i in tops:
                hn = leaf_of[i]
                if hn not in bonus:
                    bonus[hn] = (task_num(hn) / total_tasks) if hn else 0.0
                raw[i] += bonus[hn]
        scale = self.nta_scale
        for i, s in raw.items():
            scores[i] += s * scale

    def _nta_normal(
        self, req: Mapping[str, int], candidates: Sequence[int], scores: dict[int, float]
    ) -> None:
        if self.tier_weight_sum <= 0:
            return
        tree = self.tree
        tier_pos = self.tier_pos
        per_hn: dict[str, float] = {}
        memo: dict[tuple[str | None, ...], float] = {}
        scale = self.nta_scale
        for i in candidates:
            chain = tree.node_tier_hn[i]
            value = memo.get(chain)
            if value is None:
                total = 0.0
                for tier, weight in self.tier_weights:
                    pos = tier_pos.get(tier)
                    hn = chain[pos] if pos is not None else None
                    if hn is None:
                        s = 1.0
                    else:
                        s = per_hn.get(hn)
                        if s is None:
                            s = self.hypernode_binpack(req, hn)
                            per_hn[hn] = s
                    total += weight * s
                value = total / self.tier_weight_sum
                memo[chain] = value
            scores[i] += value * scale
