"""Volcano's ``pkg/scheduler/util`` as the allocate action uses it.

* :func:`predicate_nodes` (``PredicateNodes``): the feasible nodes of a HyperNode for a task,
  with the sampling of ``CalculateNumOfFeasibleNodesToFind`` (:func:`nodes_to_find`);
* :func:`prioritize` (``PrioritizeNodes`` + ``SelectBestNodeAndScore``): the best node;
* :func:`select_best_hypernode` (``SelectBestHyperNodeAndScore``): the best HyperNode.

Ties (random in Volcano) go to :meth:`.scheduler.Scheduler.choose` and are recorded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise, permutations, product
from typing import TYPE_CHECKING, Any

from hypertopo.placement.gomap import (
    GO_MAP_GROUP_SLOTS,
    MAX_ORDER_COMBINATIONS,
    children_rotation_chances,
    map_first_chances,
)
from hypertopo.placement.model import ALLOCATED, RUNNING, Job, SubJob, Task
from hypertopo.placement.resources import MIN_RESOURCE, fits
from hypertopo.placement.scheduler import FitFailure, Scheduler
from hypertopo.placement.scoring import TIE_EPSILON, same_score
from hypertopo.topology.labels import natural_key

if TYPE_CHECKING:
    from hypertopo.placement.tree import Tree

MAX_TIE_CANDIDATES = 8
#: Volcano's defaults for ``PredicateNodes`` sampling (``--minimum-feasible-nodes``, adaptive percentage).
MIN_NODES_TO_FIND = 100
MIN_PERCENTAGE_TO_FIND = 5
BASELINE_PERCENTAGE_TO_FIND = 50


def nodes_to_find(total: int) -> int:
    """``CalculateNumOfFeasibleNodesToFind`` with the default options."""
    if total <= MIN_NODES_TO_FIND:
        return total
    pct = max(BASELINE_PERCENTAGE_TO_FIND - total // 125, MIN_PERCENTAGE_TO_FIND)
    return max(total * pct // 100, MIN_NODES_TO_FIND)


def predicate_nodes(sched: Scheduler, task: Task, hn: str) -> tuple[list[int], FitFailure | None]:
    """``PredicateNodes``: the feasible nodes of ``hn`` for ``task``.

    In a HyperNode of more than 100 nodes Volcano stops after ``nodes_to_find`` feasible
    nodes, walking its node list from a start index that rotates across calls
    (``lastProcessedNodeIndex``); the engine does the same over the input order (a random
    start with a random tie-breaker) and notes where the sample left feasible nodes out.
    """
    spec = task.pod.spec
    candidates = sched.pred.candidates(spec, hn)
    ctx = sched.pred.affinity_context(spec, task.pod.namespace, task.pod.labels)
    out: list[int] = []
    dynamic: dict[str, int] = {}
    reason_of = sched.pred.dynamic_reason
    resreq = task.resreq
    all_nodes = sched.tree.hypernodes[hn].nodes
    total = len(all_nodes)
    wanted = nodes_to_find(total)
    if wanted >= total or wanted >= len(candidates):
        reasons = sched.pred.dynamic_reasons(spec, resreq, hn, candidates, ctx)
        out = [i for i, reason in reasons.items() if reason is None]
        if not out:
            for reason in reasons.values():
                if reason is not None:
                    dynamic[reason] = dynamic.get(reason, 0) + 1
    else:
        start = sched.rng.randrange(total) if sched.rng is not None else sched.next_index % total
        static = sched.pred.static_fit(spec).feasible_set
        processed = 0
        for j in range(total):
            i = all_nodes[(start + j) % total]
            processed += 1
            if i not in static:
                continue
            reason = reason_of(spec, resreq, i, ctx)
            if reason is None:
                out.append(i)
                if len(out) >= wanted:
                    break
            else:
                dynamic[reason] = dynamic.get(reason, 0) + 1
        sched.next_index = (start + processed) % total
        if len(out) >= wanted and processed < total:
            sched.sampling_notes.setdefault(task.job.key, set()).add(hn)
    failure = None
    if not out:
        failure = FitFailure(task, hn, len(candidates), total, dynamic)
    return out, failure


def prioritize(
    sched: Scheduler, task: Task, feasible: list[int], sj: SubJob, allocated: str | None
) -> tuple[int | None, dict[str, Any] | None]:
    cluster = sched.cluster
    resreq = task.resreq
    fit_idle = cluster.node_memo("fits idle", resreq)
    idle_fit = []
    for i in feasible:
        ok = fit_idle.get(i)
        if ok is None:
            ok = fit_idle[i] = fits(resreq, cluster.idle(i))
        if ok:
            idle_fit.append(i)
    buckets = [idle_fit] if idle_fit else [[i for i in feasible if fits(resreq, cluster.future_idle(i))]]
    for bucket in buckets:
        if not bucket:
            continue
        if len(bucket) == 1:
            return bucket[0], None
        scores = sched.scorer.score_nodes(
            task.pod.spec,
            task.pod.namespace,
            task.pod.labels,
            bucket,
            sj.with_topology,
            allocated,
            sched.nta.task_num_fn(sj),
            len(sj.tasks),
        )
        top = max(scores.values())
        # no score further below the top than this can tie with it (a bound of same_score's)
        reach = TIE_EPSILON * max(1.0, top, -min(scores.values()))
        tied = [i for i, s in scores.items() if top - s <= reach and same_score(s, top)]
        if len(tied) == 1:
            return tied[0], None
        names = [sched.nodes[i].name for i in tied]
        chosen_name = sched.choose(names)
        chosen = tied[names.index(chosen_name)]
        return chosen, tie_record(sched, task, chosen, tied)
    return None, None


def tie_record(sched: Scheduler, task: Task, chosen: int, tied: list[int]) -> dict[str, Any]:
    """A node tie; ``_tied`` (node indices) is internal and dropped from results."""
    leaf_of = sched.tree.node_leaf
    leaves = sorted({leaf_of[i] or sched.tree.root for i in tied}, key=natural_key)
    names = sorted((sched.nodes[i].name for i in tied), key=natural_key)
    return {
        "level": "node",
        "pod": task.name,
        "chosen": sched.nodes[chosen].name,
        "candidates": names[:MAX_TIE_CANDIDATES],
        "count": len(tied),
        "leaves": leaves,
        "_tied": list(tied),
    }


def job_tie_chances(
    tree: Tree,
    entries: Sequence[str],
    tied: Sequence[str],
    score_laws: Mapping[str, Mapping[float, float]] | None = None,
) -> dict[str, float] | None:
    """The chance of each tied HyperNode being the job's pick, None when not computable.

    ``selectBestHyperNodeForJob`` (``pkg/scheduler/actions/allocate/allocate.go``) takes the first
    HyperNode of the highest score (strict ``>``) in the iteration order of
    ``subJobsAllocationScores``, a Go map that ``allocateForJob`` fills, in the gradient's order,
    with the HyperNodes that have a solution (``entries``). The gradient's order is the BFS order
    of ``hyperNodeGradientFn``, following each HyperNode's children in a random rotation of its
    ``spec.members`` order (:func:`children_rotation_chances`; :attr:`.tree.HyperNode.members`).
    The law is computed exactly by enumerating the rotations of every HyperNode whose children
    lead to two or more entries (BFS order: shallower first, then by the children's positions
    along the path), then :func:`map_first_chances` over the entries, among the tied those whose
    score is the highest: ``score_laws`` gives each tied HyperNode's score values in Volcano with
    their chances (:func:`job_score_laws`; default: all equal). None: more than 8 entries,
    such a HyperNode with more than 8 children, more than :data:`MAX_ORDER_COMBINATIONS`
    combinations, or a pick that depends on the order of the cluster-top HyperNode's children
    (``framework/session.go`` ``addClusterTopHyperNode`` fills them from the session's map of every
    HyperNode: not computable)."""
    if len(entries) > GO_MAP_GROUP_SLOTS:
        return None
    hns = tree.hypernodes
    paths = {hn: hns[hn].ancestors[::-1] for hn in entries}  # from the root down to the entry
    below: dict[str, set[str]] = {}  # HyperNode -> its children on the way to an entry
    for path in paths.values():
        for parent, child in pairwise(path):
            below.setdefault(parent, set()).add(child)
    branching = [p for p, kids in below.items() if len(kids) > 1]
    # per branching HyperNode: its possible orders of children as {child: position} with chances
    choices: list[tuple[str, list[tuple[dict[str, int], float]]]] = []
    top_orders: list[tuple[str, list[dict[str, int]]]] = []
    for parent in branching:
        if parent == tree.root:
            kids = sorted(below[parent], key=natural_key)
            if math.factorial(len(kids)) > MAX_ORDER_COMBINATIONS:
                return None
            top_orders.append((parent, [{k: i for i, k in enumerate(p)} for p in permutations(kids)]))
            continue
        members = hns[parent].members
        chances = children_rotation_chances(len(members))
        if chances is None:
            return None
        n = len(members)
        choices.append(
            (parent, [({c: (i - r) % n for i, c in enumerate(members)}, ch) for r, ch in enumerate(chances)])
        )
    combos = math.prod(len(c) for _, c in choices) * math.prod(len(t) for _, t in top_orders)
    if combos > MAX_ORDER_COMBINATIONS:
        return None

    def key(hn: str, positions: dict[str, dict[str, int]]) -> tuple[int, tuple[int, ...]]:
        path = paths[hn]
        return len(path), tuple(
            positions[parent][child] if parent in positions else 0 for parent, child in pairwise(path)
        )

    # the sets of tied HyperNodes that share the highest score, with their chances
    best_sets: dict[tuple[str, ...], float] = {tuple(tied): 1.0}
    if score_laws is not None:
        laws = [sorted(score_laws[hn].items()) for hn in tied]
        if math.prod(len(law) for law in laws) > MAX_ORDER_COMBINATIONS:
            return None
        best_sets = {}
        for values in product(*laws):
            high = max(v for v, _ in values)
            best = tuple(hn for hn, (v, _) in zip(tied, values, strict=True) if v == high)
            best_sets[best] = best_sets.get(best, 0.0) + math.prod(p for _, p in values)
    if combos * len(best_sets) > MAX_ORDER_COMBINATIONS * 16:
        return None

    found: dict[str, float] | None = None
    for top in product(*(orders for _, orders in top_orders)):
        law = dict.fromkeys(tied, 0.0)
        for combo in product(*(options for _, options in choices)):
            positions = {parent: order for (parent, _), (order, _) in zip(choices, combo, strict=True)}
            positions.update({parent: order for (parent, _), order in zip(top_orders, top, strict=True)})
            chance = math.prod(ch for _, ch in combo)
            order = sorted(entries, key=lambda hn, positions=positions: key(hn, positions))
            for best, share in best_sets.items():
                first = map_first_chances(order, best)
                assert first is not None
                for hn, p in first.items():
                    law[hn] += chance * share * p
        if found is not None and any(not math.isclose(found[hn], law[hn], abs_tol=1e-12) for hn in tied):
            return None  # the pick depends on the order of the cluster-top HyperNode's children
        found = law
    return found


def job_score_laws(
    sched: Scheduler, job: Job, scores: Mapping[str, float], tied: Sequence[str]
) -> dict[str, dict[float, float]] | None:
    """Each tied HyperNode's job score as Volcano computes it in float64: its values with their
    chances (None: not computable).

    The job's score in a HyperNode (``allocateForJob``: ``subJobsAllocationScore``) is the sum of
    its subjobs' ``HyperNodeOrderFn`` scores, and a binpack score is a float sum in Go map order
    (:meth:`.NetworkTopologyAware.binpack_law`): HyperNodes of equal real scores can differ in the
    last bit, and then ``selectBestHyperNodeForJob``'s strict ``>`` takes the higher, whatever
    the map order. A sum of at most two weighted resources is exact in any order (``0 + a + b``):
    all equal. Otherwise followed for a job of one subjob scored in the HyperNode itself (no
    subjob topology below it); a job of several subjobs: None."""
    nta = sched.nta
    equal = {hn: {0.0: 1.0} for hn in tied}
    if not nta.conf.enabled or not nta.conf.hypernode_order:
        return equal
    weights = nta.conf.binpack
    subjobs = list(job.subjobs.values())
    requests = [
        nta.binpack_request([t.resreq for t in sj.tasks]) if sj.binpack_cache is None else sj.binpack_cache
        for sj in subjobs
    ]
    if all(sum(1 for k, v in r.items() if k in weights and v >= MIN_RESOURCE) <= 2 for r in requests):
        return equal
    if len(subjobs) != 1:
        return None
    (sj,), (request,) = subjobs, requests
    laws: dict[str, dict[float, float]] = {}
    for hn in tied:
        if sj.hard and sched.tree.hypernodes[hn].children:
            return None  # the subjob's own pick below the HyperNode: not followed
        law = nta.binpack_law(request, hn)
        if law is None or not same_score(nta.hypernode_binpack(request, hn) * nta.nta_scale, scores[hn]):
            return None
        scaled: dict[float, float] = {}
        for value, p in law.items():
            scaled[value * nta.nta_scale] = scaled.get(value * nta.nta_scale, 0.0) + p
        laws[hn] = scaled
    return laws


def tie_chances(
    sched: Scheduler, job: Job, scores: Mapping[str, float], tied: Sequence[str], *, job_level: bool
) -> dict[str, float] | None:
    """The chance of each tied HyperNode being Volcano's pick: a subjob's
    (``SelectBestHyperNodeAndScore``: ``rand.Intn`` over the tied, uniform) or the job's
    (:func:`job_tie_chances`: the float scores' last bits (:func:`job_score_laws`), then Go map
    iteration order over ``spec.members`` order; not uniform)."""
    if not job_level:
        return {hn: 1 / len(tied) for hn in tied}
    laws = job_score_laws(sched, job, scores, tied)
    if laws is None:
        return None
    return job_tie_chances(sched.tree, list(scores), tied, laws)


def select_best_hypernode(
    sched: Scheduler,
    scores: dict[str, float],
    subjob: SubJob | None,
    job: Job,
    nodes_of: Callable[[str], list[int]],
) -> tuple[str, dict[str, Any] | None]:
    """``SelectBestHyperNodeAndScore`` (ties: random in Volcano).

    Every tie is a decision point (numbered in the order the session meets them): the
    choice is taken from :attr:`.Scheduler.hn_script` when it names a tied candidate, and the
    decision records one candidate per other job HyperNode a choice could lead to (the
    lowest common HyperNode of the job's pods so far and that candidate's dry run), which
    :func:`hypertopo.placement.ties.hypernode_choices` replays."""
    top = max(scores.values())
    tied = sorted((hn for hn, s in scores.items() if same_score(s, top)), key=natural_key)
    if len(tied) == 1:
        return tied[0], None
    forced = sched.hn_script.get(len(sched.hn_decisions))
    chosen = forced if forced in tied else sched.choose(tied)
    tree = sched.tree
    sched.hn_tie_count += 1
    if sched.record_decisions:
        before = tree.lca_of_nodes(
            [t.node for t in job.tasks if t.node is not None and t.status in (ALLOCATED, RUNNING)]
        )
        by_result: dict[str | None, str] = {}
        result_of: dict[str, str | None] = {}
        for hn in [chosen, *tied]:
            info = tree.hypernodes[hn]
            # a dry run in a leaf HyperNode puts its pods in that leaf
            where = hn if not info.children and hn != tree.root else tree.lca_of_nodes(nodes_of(hn))
            result_of[hn] = tree.lca(before, where)
            by_result.setdefault(result_of[hn], hn)
        sched.hn_decisions.append([hn for hn in by_result.values() if hn != chosen])
        # the chance of the branch taken: the chances of the tied candidates leading where
        # ``chosen`` does (a subjob's pick: uniform; the job's: Go map iteration order)
        chance = tie_chances(sched, job, scores, tied, job_level=subjob is None)
        sched.hn_weights.append(
            None if chance is None else sum(chance[hn] for hn in tied if result_of[hn] == result_of[chosen])
        )
        sched.hn_job_level.append(subjob is None)
    tie: dict[str, Any] = {
        "level": "hypernode",
        "pod": None,
        "chosen": chosen,
        "candidates": tied[:MAX_TIE_CANDIDATES],
        "count": len(tied),
        "tier": tree.tier(chosen),
    }
    if subjob is not None:
        tie["subgroup"] = subjob.uid.split("/")[-1] if subjob.uid != subjob.job.key else None
    return chosen, tie
