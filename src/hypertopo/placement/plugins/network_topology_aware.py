"""The ``network-topology-aware`` plugin of Volcano v1.15.1.

* ``HyperNodeGradientFn`` (:meth:`NetworkTopologyAware.gradients`): the eligible HyperNodes
  of a hard-mode (sub)job, one list per tier, lowest tier first: under the search root
  (the job's allocated HyperNode widened to its highest allowed ancestor), tier <= the
  limit, and with enough idle (or future idle) resources at session open for the
  PodGroup's ``minResources``;
* ``HyperNodeOrderFn`` (:meth:`NetworkTopologyAware.subjob_scores`): the subjob's binpack
  score over all its tasks' requests, plus ``taskNum/|tasks|`` when several share the
  maximum, times ``100 * weight``;
* ``NodeOrderFn``: for a task of a subjob with a network topology, the LCA-tier score
  against the subjob's allocated HyperNode (nothing for the first task) plus the task-count
  bonus among the best (:meth:`NetworkTopologyAware.network_score`); for other tasks the
  tier-faded HyperNode binpack score (:meth:`NetworkTopologyAware.normal_score`); both
  multiplied by ``100 * weight``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import permutations

from hypertopo.placement import state as cluster_state
from hypertopo.placement.conf import NtaConf
from hypertopo.placement.gomap import GO_MAP_GROUP_SLOTS, map_first_chances
from hypertopo.placement.model import SubJob
from hypertopo.placement.plugins.nodeorder import MAX_NODE_SCORE
from hypertopo.placement.resources import MIN_RESOURCE, Resources, fits
from hypertopo.placement.state import Cluster
from hypertopo.placement.tree import Tree


class NetworkTopologyAware:
    def __init__(self, conf: NtaConf, cluster: Cluster, tree: Tree) -> None:
        self.conf = conf
        self.cluster = cluster
        self.tree = tree
        self.nta_scale = MAX_NODE_SCORE * conf.weight
        self.tier_pos = {tier: i for i, tier in enumerate(tree.tiers)}
        self.tier_weights: list[tuple[int, float]] = []
        for tier in range(tree.min_tier, tree.max_tier + 1):
            self.tier_weights.append((tier, 1.0 if tier - 1 == 0 else conf.normal_pod_fading ** (tier - 1)))
        self.tier_weight_sum = sum(w for _, w in self.tier_weights)
        #: allocated HyperNode -> leaf -> the LCA-tier score of a node under that leaf
        self._leaf_scores: dict[str, dict[str | None, float]] = {}

    # ------------------------------------------------------------------ HyperNodeGradientFn

    def gradients(
        self, hard: bool, tier: int | None, allocated: str | None, min_res: Resources, start: str
    ) -> list[list[str]] | None:
        """``hyperNodeGradientFn`` (None when the search root does not exist)."""
        nta = self.conf
        if not nta.enabled or not nta.gradient or not hard or tier is None:
            return [[start]]
        tree = self.tree
        root = start
        if allocated:
            highest = tree.highest_allowed(allocated, tier)
            if highest is None:
                return None
            lca = tree.lca(start, highest)
            if lca == highest:
                root = start
            elif lca == start:
                root = highest
            else:
                return None
        by_tier: dict[int, list[str]] = {}
        queue = [root]
        seen = {root}
        idle0 = self.cluster.hn_idle0
        future0 = self.cluster.hn_future0
        while queue:
            nxt = []
            for name in queue:
                hn = tree.hypernodes[name]
                if hn.tier <= tier and (
                    allocated or fits(min_res, idle0[name]) or fits(min_res, future0[name])
                ):
                    by_tier.setdefault(hn.tier, []).append(name)
                for kid in hn.children:
                    if kid not in seen:
                        seen.add(kid)
                        nxt.append(kid)
            queue = nxt
        return [by_tier[t] for t in sorted(by_tier)]

    # ------------------------------------------------------------------ HyperNodeOrderFn

    def subjob_scores(self, sj: SubJob, hypernodes: list[str]) -> dict[str, float]:
        nta = self.conf
        if not nta.enabled or not nta.hypernode_order:
            return dict.fromkeys(hypernodes, 0.0)
        if sj.binpack_cache is None:
            sj.binpack_cache = self.binpack_request([t.resreq for t in sj.tasks])
        request = sj.binpack_cache
        return self.subjob_hypernode_scores(request, hypernodes, self.task_num_fn(sj), len(sj.tasks))

    def task_num_fn(self, sj: SubJob) -> Callable[[str], int]:
        """The subjob's tasks on the nodes of a HyperNode (``SubJob.hn_counts``, kept as tasks come
        and go)."""
        if cluster_state.INCREMENTAL:
            return lambda hn: sj.hn_counts.get(hn, 0)
        node_hns = self.tree.node_hns
        return lambda hn: sum(count for node, count in sj.node_counts.items() if hn in node_hns[node])

    def binpack_request(self, resreqs: Sequence[Mapping[str, int]]) -> Resources:
        """Summed request of the subjob's tasks over resources with a HyperNode binpack weight."""
        weights = self.conf.binpack
        out: Resources = {}
        for req in resreqs:
            for key, val in req.items():
                if val >= MIN_RESOURCE and key in weights:
                    out[key] = out.get(key, 0) + val
        return out

    def hypernode_binpack(self, request: Mapping[str, int], hn: str) -> float:
        """``getSubJobHyperNodeBinPackingScore`` / ``getPodHyperNodeBinPackingScore`` (0..1)."""
        weights = self.conf.binpack
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

    def binpack_law(self, request: Mapping[str, int], hn: str) -> dict[float, float] | None:
        """The values :meth:`hypernode_binpack` takes in Volcano, with their chances (None: not
        computable).

        ``getSubJobHyperNodeBinPackingScore`` sums ``weight * (used + request) / allocatable`` in
        float64 over ``tasksRequest``, a Go map iterated afresh for every HyperNode scored
        (:func:`.gomap.map_first_chances`: a random rotation of its insertion order, cpu, memory,
        then the scalar resources, ``Resource.ResourceNames``). Float addition is not
        associative, so HyperNodes of equal real scores can differ in the last bit (two identical
        leaves of 8 GPUs, 96 CPUs, 768Gi each, eight 2-GPU pods: 861.1111111111112 for the
        insertion order, 3/4, and 861.1111111111111 for the two other rotations, as vc-scheduler
        logs them at ``--v=4``). Two scalar resources or more are inserted in a Go map order not
        followed here: None unless every such order gives the same law."""
        weights = self.conf.binpack
        alloc = self.cluster.hn_alloc[hn]
        used = self.cluster.hn_used[hn]
        keys = [k for k, want in request.items() if k in weights and want >= MIN_RESOURCE]
        if len(keys) > GO_MAP_GROUP_SLOTS:
            return None
        terms: dict[str, float] = {}
        for key in keys:
            have = alloc.get(key, 0)
            now = used.get(key, 0) + request[key]
            if now > have:
                return {0.0: 1.0}
            terms[key] = weights[key] * (now / have)
        weight_sum = sum(weights[k] for k in keys)
        if weight_sum <= 0:
            return {0.0: 1.0}
        fixed = [k for k in ("cpu", "memory") if k in terms]
        scalars = [k for k in keys if k not in fixed]
        found: dict[float, float] | None = None
        for tail in permutations(scalars):
            names = [*fixed, *tail]
            first = map_first_chances(names, names) or {}
            law: dict[float, float] = {}
            for r, name in enumerate(names):
                total = 0.0
                for key in names[r:] + names[:r]:
                    total += terms[key]
                value = total / weight_sum
                law[value] = law.get(value, 0.0) + first[name]
            if found is not None and found != law:
                return None
            found = law
        return found if found is not None else {0.0: 1.0}

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

    # ------------------------------------------------------------------ NodeOrderFn

    def tier_score(self, tier: int) -> float:
        low, high = self.tree.min_tier, self.tree.max_tier
        if low == high:
            return 1.0
        if low <= tier <= high:
            return (high - tier) / (high - low)
        return 0.0

    def network_score(
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
        memo = self._leaf_scores.setdefault(allocated_hn, {})  # the tree does not change
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

    def normal_score(
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
