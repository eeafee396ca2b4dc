"""Where Volcano picks at random, replay the session with the other choices and report outcomes.

* ``task-order`` ties (:func:`task_order_ties`): equal-index pods of different tasks are
  ordered by creation time and UID in Volcano, i.e. at random; the session is replayed with
  other task orders;
* ``choices`` ties (:func:`hypernode_choices`): at HyperNode-level score ties Volcano picks at
  random; the session is replayed with each other choice that leads elsewhere.

A job whose feasibility, HyperNode or pods per leaf differ between the replays gets a tie
listing the distinct outcomes (its own first). Replays stay within a budget that depends on
the input size, not on the machine (:func:`replay_limit`), so they are skipped on very large
inputs (the kinds of randomness are not combined).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from hypertopo.placement import session as simulated
from hypertopo.placement.jobs import JobIn
from hypertopo.placement.model import ALLOCATED, RELEASING, RUNNING, Job, pod_index
from hypertopo.placement.plugins import gang
from hypertopo.placement.session import Session, run_session
from hypertopo.placement.snapshot import exact_slots
from hypertopo.placement.tree import VIRTUAL_ROOT
from hypertopo.placement.world import World
from hypertopo.topology.labels import natural_key

#: replays of the session that look for other outcomes (:func:`task_order_ties`,
#: :func:`hypernode_choices`): at most ``MAX_REPLAYS`` each, and at most ``REPLAY_BUDGET``
#: divided by a replay's cost in nodes + predicate evaluations of the first session (so
#: every replay is skipped on very large inputs; the results do not depend on the machine)
MAX_REPLAYS = 64
#: the nodes listed per pod in a group of interchangeable nodes (:func:`node_groups`)
MAX_GROUP_NODES = 64


CHOICES_REASON = (
    "Volcano picks at random among HyperNodes with equal scores; other choices at this session's "
    "HyperNode-level ties give other placements"
)


TASK_ORDER_REASON = (
    "Volcano orders pods of different tasks with the same index by creation time (whole seconds), "
    "then by UID, i.e. at random; another order gives another placement"
)


def leaf_level_tie(job: Mapping[str, Any]) -> bool:
    """True when a reported tie could change a job result's per-leaf pod counts."""
    for tie in job.get("ties") or []:
        if tie.get("level") == "hypernode" or len(tie.get("leaves") or []) > 1:
            return True
        if tie.get("level") in ("task-order", "choices") and tie.get("leaf_counts_differ"):
            return True
    return False


def _order_slots(job_ins: Sequence[JobIn]) -> dict[tuple[int, int], list[int]]:
    """(job position, pod index) -> task positions of the pending pods of a Volcano Job sharing
    that index, where there are at least two and their order is not known from the cluster
    (their relative order is random in Volcano)."""
    slots: dict[tuple[int, int], list[int]] = {}
    for position, job in enumerate(job_ins):
        if job.kind != "Job":
            continue
        exact = exact_slots(job)
        for pod in job.pods:
            if pod.existing is not None and pod.existing.node_name:
                continue
            index = pod_index(pod.name)
            if index is not None and index not in exact:
                slots.setdefault((position, index), []).append(pod.role_position)
    return {slot: sorted(roles) for slot, roles in slots.items() if len(roles) > 1}


def task_orders(job_ins: Sequence[JobIn], limit: int) -> list[dict[tuple[int, int], dict[int, int]]]:
    """Task orders other than the engine's own: all of them if there are at most ``limit``,
    else the reverse order and seeded shuffles (``limit`` in all)."""
    slots = _order_slots(job_ins)
    if not slots or limit <= 0:
        return []
    keys = sorted(slots)
    perms = [list(itertools.permutations(slots[k])) for k in keys]
    total = 1
    for p in perms:
        total *= len(p)
    if total - 1 <= limit:
        chosen = list(itertools.product(*perms))[1:]  # the first is the engine's own order
    else:
        rng = random.Random(0)
        chosen = [tuple(tuple(reversed(slots[k])) for k in keys)]
        seen = {chosen[0], tuple(tuple(slots[k]) for k in keys)}
        while len(chosen) < limit:
            combo = tuple(p[rng.randrange(len(p))] for p in perms)
            if combo not in seen:
                seen.add(combo)
                chosen.append(combo)
    return [
        {key: {role: rank for rank, role in enumerate(perm)} for key, perm in zip(keys, combo, strict=True)}
        for combo in chosen
    ]


def _outcome(session: Session, job: Job) -> dict[str, Any]:
    """Feasibility, lowest common HyperNode, pods per leaf and per pod its group of
    interchangeable nodes (:func:`node_groups`) of ``job`` after ``session``."""
    tree = session.world.tree
    feasible = job.key not in session.skip and job.admitted and gang.job_ready(job)
    nodes = [t.node for t in job.tasks if t.node is not None and t.status in (ALLOCATED, RUNNING, RELEASING)]
    if not feasible:
        return {"feasible": False, "hypernode": None, "tier": None, "leaves": {}, "_groups": {}}
    leaves: dict[str, int] = {}
    for i in nodes:
        leaf = tree.node_leaf[i] or VIRTUAL_ROOT
        leaves[leaf] = leaves.get(leaf, 0) + 1
    hn = tree.lca_of_nodes(nodes) if nodes else None
    return {
        "feasible": True,
        "hypernode": hn,
        "tier": tree.tier(hn) if hn else None,
        "leaves": dict(sorted(leaves.items(), key=lambda kv: natural_key(kv[0]))),
        "_groups": node_groups(session, job),
    }


def outcome_key(outcome: Mapping[str, Any]) -> tuple[Any, ...]:
    """What makes two outcomes distinct: feasibility, HyperNode and pods per leaf."""
    return (outcome["feasible"], outcome["hypernode"], tuple(sorted((outcome.get("leaves") or {}).items())))


def node_groups(session: Session, job: Job) -> dict[str, dict[str, Any]]:
    """Per placed pod of ``job``, its group of interchangeable nodes: ``{"candidates", "count",
    "leaves"}`` (``candidates`` cut to :data:`MAX_GROUP_NODES` in natural order, ``count`` the
    group's size).

    Nodes tied for a pod (equal scores: Volcano picks at random, ``SelectBestNodeAndScore``) are
    interchangeable, and so, transitively, is every node tied with one of them for another pod
    of the job (the union of the job's node-level tie sets, joined where they share a node). A
    pod's group is the one holding its node; a pod placed without a tie on a node in no tie set,
    or already running, has a group of one."""
    nodes = session.world.nodes
    leaf_of = session.world.tree.node_leaf
    parent: dict[int, int] = {}

    def find(i: int) -> int:
        root = i
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(i, i) != root:
            parent[i], i = root, parent[i]
        return root

    placed = [t for t in job.tasks if t.node is not None and t.status in (ALLOCATED, RUNNING, RELEASING)]
    for task in placed:
        tied = (task.tie or {}).get("_tied") if task.status == ALLOCATED else None
        if not isinstance(tied, list) or len(tied) < 2:
            continue
        for i in tied:
            parent.setdefault(i, i)
        first = find(tied[0])
        for i in tied[1:]:
            other = find(i)
            if other != first:
                parent[other] = first
    members: dict[int, list[int]] = {}
    for i in parent:
        members.setdefault(find(i), []).append(i)
    groups: dict[int, dict[str, Any]] = {}
    out: dict[str, dict[str, Any]] = {}
    for task in placed:
        assert task.node is not None
        root = find(task.node) if task.status == ALLOCATED else None
        key = root if root is not None and root in members else -1 - task.node
        if key not in groups:
            idx = members.get(key, [task.node]) if key >= 0 else [task.node]
            names = sorted((nodes[i].name for i in idx), key=natural_key)
            groups[key] = {
                "candidates": names[:MAX_GROUP_NODES],
                "count": len(names),
                "leaves": sorted({leaf_of[i] or VIRTUAL_ROOT for i in idx}, key=natural_key),
            }
        out[task.name] = groups[key]
    return out


def task_order_ties(
    world: World,
    job_ins: Sequence[JobIn],
    session: Session,
    results: list[dict[str, Any]],
    limit: int | None = None,
) -> None:
    """Report the random order of equal-index pods of different tasks where it matters.

    The session is replayed with other task orders (:func:`task_orders`, at most ``limit``,
    default :func:`replay_limit`); every job whose feasibility, HyperNode or pods per leaf
    then differ gets a ``task-order`` tie listing the distinct outcomes (the engine's own
    first) and their HyperNodes as candidates."""
    if limit is None:
        limit = replay_limit(world, session)
    orders = task_orders(job_ins, limit)
    if not orders:
        return
    outcomes = _own_outcomes(session)
    for order in orders:
        _add_outcomes(outcomes, run_session(world, job_ins, task_order=order), None)
    _record_outcomes(results, outcomes, "task-order", TASK_ORDER_REASON)


def _own_outcomes(session: Session, weight: float | None = None) -> list[list[dict[str, Any]]]:
    """Per job of ``session``, the list of its distinct outcomes, starting with its own (with
    ``weight``, the chance of ``session``'s path, as its ``_weight``)."""
    return [[{**_outcome(session, job), "_weight": weight}] for job in session.jobs]


def _add_outcomes(outcomes: list[list[dict[str, Any]]], replay: Session, weight: float | None) -> None:
    """Add each job's outcome in ``replay`` to its list when it is a new one; ``weight`` (the
    chance of the replay's path, None: not known) is added to the outcome's ``_weight``."""
    for seen, job in zip(outcomes, replay.jobs, strict=True):
        outcome = _outcome(replay, job)
        key = outcome_key(outcome)
        same = next((o for o in seen if outcome_key(o) == key), None)
        if same is None:
            seen.append({**outcome, "_weight": weight})
        elif same["_weight"] is not None and weight is not None:
            same["_weight"] += weight
        else:
            same["_weight"] = None


def path_weight(session: Session) -> float | None:
    """The chance that Volcano takes the path of ``session`` through its HyperNode-level tie
    decisions (:attr:`.Scheduler.hn_weights`, :func:`hypertopo.placement.util.tie_chances`);
    None when one of them is not known."""
    weight = 1.0
    for share in session.sched.hn_weights:
        if share is None:
            return None
        weight *= share
    return weight


def _record_outcomes(
    results: list[dict[str, Any]],
    outcomes: list[list[dict[str, Any]]],
    level: str,
    reason: str,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Add a ``level`` tie to every job whose distinct ``outcomes`` (its own first) differ; the
    outcomes keep their node groups (``_groups``) and chances (``_weight``) for
    :func:`job_outcomes`."""
    for seen, result in zip(outcomes, results, strict=True):
        if len(seen) < 2:
            continue
        candidates = sorted({o["hypernode"] for o in seen if o["hypernode"]}, key=natural_key)
        leaf_counts = [o["leaves"] for o in seen if o["feasible"]]
        result["ties"].append(
            {
                "level": level,
                "pod": None,
                "chosen": seen[0]["hypernode"],
                "candidates": candidates,
                "count": len(candidates),
                "outcomes": seen,
                "leaf_counts_differ": len({tuple(sorted(c.items())) for c in leaf_counts}) > 1,
                "feasibility_differs": len({o["feasible"] for o in seen}) > 1,
                "reason": reason,
                **(extra or {}),
            }
        )
        result["leaf_level_tie"] = leaf_level_tie(result)


def hypernode_choices(
    world: World,
    job_ins: Sequence[JobIn],
    session: Session,
    results: list[dict[str, Any]],
    limit: int | None = None,
) -> None:
    """Follow the other choices of the session's HyperNode-level ties (Volcano picks at random).

    Every tie is a decision point; the session is replayed with each decision forced, in
    turn, to one candidate per other job HyperNode it can lead to, breadth first, later
    decisions of each replay explored the same way, at most ``limit`` replays (default
    :func:`replay_limit`). Every job whose feasibility, HyperNode or pods per leaf then
    differ gets a ``choices`` tie listing the distinct outcomes (its own first); every
    result gets ``choice_replays``: ``{"replays", "complete"}`` (complete: every decision
    met was followed)."""
    if limit is None:
        limit = replay_limit(world, session)
    if not session.sched.hn_decisions:
        # no tie at all, or (on inputs too large for any replay) ties that were not recorded
        for result in results:
            result["choice_replays"] = {"replays": 0, "complete": not session.sched.hn_tie_count}
        return
    outcomes = _own_outcomes(session, path_weight(session))
    frontier: list[tuple[dict[int, str], list[list[str]]]] = [({}, session.sched.hn_decisions)]
    replays = 0
    while frontier and replays < limit:
        script, decisions = frontier.pop(0)
        first = max(script) + 1 if script else 0
        for k in range(first, len(decisions)):
            for candidate in decisions[k]:
                if replays >= limit:
                    break
                forced = {**script, k: candidate}
                alt = run_session(world, job_ins, hn_script=forced)
                replays += 1
                _add_outcomes(outcomes, alt, path_weight(alt))
                frontier.append((forced, alt.sched.hn_decisions))
    complete = not frontier or (
        replays < limit
        and all(
            not decisions[k] for script, decisions in frontier for k in range(max(script) + 1, len(decisions))
        )
    )
    for result in results:
        result["choice_replays"] = {"replays": replays, "complete": complete}
    if not complete:
        for seen in outcomes:
            for outcome in seen:
                outcome["_weight"] = None
    _record_outcomes(results, outcomes, "choices", CHOICES_REASON, {"replays": replays})


def replay_limit(world: World, session: Session) -> int:
    """How many replays :data:`.session.REPLAY_BUDGET` affords (at most :data:`MAX_REPLAYS`): a replay
    costs about the nodes times the pods to place (in sixteens) plus the nodes of every
    HyperNode dry-run in the first session."""
    pods = sum(1 for job in session.jobs for t in job.tasks if t.status != RUNNING and t.node is None) + sum(
        job.counts.get(ALLOCATED, 0) for job in session.jobs
    )
    cost = len(world.nodes) * max(1, -(-pods // 16)) + session.sched.work
    return min(MAX_REPLAYS, simulated.REPLAY_BUDGET // max(cost, 1))


UNIFORM_BASIS = (
    "a subjob's HyperNode-level tie taken uniformly at random (SelectBestHyperNodeAndScore: "
    "rand.Intn over the tied HyperNodes)"
)
MAP_ORDER_BASIS = (
    "; the job's choice among equal job scores follows Go map iteration order over spec.members "
    "order, not a uniform draw: each score is a float sum over a Go map of resources "
    "(getSubJobHyperNodeBinPackingScore), so scores equal in reals can differ in the last bit and "
    "the higher wins; among scores equal in floats, the first in a Go map filled in the gradient's "
    "order (pkg/scheduler/actions/allocate/allocate.go, selectBestHyperNodeForJob), the gradient a "
    "BFS over each HyperNode's children, a Go map filled in its spec.members order and copied every "
    "session (hyperNodeGradientFn, HyperNodeInfo.DeepCopy); each small Go map's iteration starts at "
    "a random one of its 8 slots: of two leaves alone under one spine with equal float scores, the "
    "first listed in its members wins 0.711 (1/2 + 1/2 x (3/4)^3)"
)
NOT_COMPUTABLE = {
    "task-order": "not computable: which of the outcomes happens depends on the pods' creation "
    "times (whole seconds) and UIDs",
    "unfollowed": "not computable: the other choices at the HyperNode-level ties were not all "
    "followed (replay budget)",
    "map-order": "not computable (Go map iteration order): the job's pick among equal job scores "
    "follows the iteration order of a Go map of more than 8 HyperNodes, or of the cluster-top "
    "HyperNode's children (filled from the session's map of every HyperNode), or too many orders, "
    "or the last bits of float scores summed in Go map order for a job of several subjobs",
    "node-leaves": "not computable for the pods per leaf: nodes tied for a pod sit under several "
    "leaves (Volcano picks one at random, SelectBestNodeAndScore)",
}


def job_outcomes(session: Session, results: list[dict[str, Any]]) -> None:
    """Give every job result its ``outcomes`` and every placement its ``candidates``.

    ``outcomes``: ``[{"feasible", "hypernode", "tier", "pods_per_leaf", "probability",
    "candidates": {pod: [node, ...]}}]``, the job's own first, then those of its ``choices`` and
    ``task-order`` ties; ``probability`` follows every HyperNode-level tie decision with its law (a
    subjob's pick uniform, the job's Go map iteration order: :func:`.util.tie_chances`,
    :func:`path_weight`), or is None with ``probability_note`` saying why; per pod the
    group of interchangeable nodes (:func:`node_groups`). Placements get their pod's
    ``candidates`` (and ``candidates_count`` / ``candidate_leaves`` when the list is cut).
    Internal fields of the tie outcomes (``_groups``, ``_weight``) are dropped here."""
    for job, result in zip(session.jobs, results, strict=True):
        own = _outcome(session, job)
        seen: list[dict[str, Any]] = [own]
        weights: list[float | None] = [None]
        note: str | None = None
        kinds = set()
        for tie in result["ties"]:
            if tie.get("level") not in ("choices", "task-order"):
                continue
            kinds.add(tie["level"])
            for outcome in tie.get("outcomes") or []:
                key = outcome_key(outcome)
                at = next((k for k, o in enumerate(seen) if outcome_key(o) == key), None)
                if at is None:
                    seen.append(outcome)
                    weights.append(outcome.get("_weight") if tie["level"] == "choices" else None)
                elif tie["level"] == "choices" and at == 0:
                    weights[0] = outcome.get("_weight")
            tie["outcomes"] = [_public(o) for o in tie.get("outcomes") or []]
        replays = result.get("choice_replays") or {}
        if "task-order" in kinds:
            note = NOT_COMPUTABLE["task-order"]
        elif "choices" not in kinds and any(t.get("level") == "hypernode" for t in result["ties"]):
            note = None if replays.get("complete") else NOT_COMPUTABLE["unfollowed"]
        elif "choices" in kinds and any(w is None for w in weights):
            note = NOT_COMPUTABLE["unfollowed" if not replays.get("complete") else "map-order"]
        if note is None and any(
            t.get("level") == "node" and len(t.get("leaves") or []) > 1 for t in result["ties"]
        ):
            note = NOT_COMPUTABLE["node-leaves"]
        if note is None and len(seen) == 1:
            weights = [1.0]
        total = sum(w for w in weights if w is not None)
        probabilities = [
            None if note is not None or w is None or total <= 0 else round(w / total, 6) for w in weights
        ]
        result["outcomes"] = [
            {
                "feasible": o["feasible"],
                "hypernode": o["hypernode"],
                "tier": o["tier"],
                "pods_per_leaf": dict(o["leaves"]),
                "probability": p,
                "candidates": {pod: list(g["candidates"]) for pod, g in (o.get("_groups") or {}).items()},
            }
            for o, p in zip(seen, probabilities, strict=True)
        ]
        if note is not None:
            result["probability_note"] = note
        elif len(seen) > 1:
            job_level = any(session.sched.hn_job_level)
            result["probability_basis"] = UNIFORM_BASIS + (MAP_ORDER_BASIS if job_level else "")
        groups = own.get("_groups") or {}
        for placement in result["placements"]:
            group = groups.get(placement["pod"])
            if group is None:
                placement["candidates"] = [placement["node"]]
                continue
            placement["candidates"] = list(group["candidates"])
            if group["count"] > len(group["candidates"]):
                placement["candidates_count"] = group["count"]
                placement["candidate_leaves"] = list(group["leaves"])


def _public(outcome: Mapping[str, Any]) -> dict[str, Any]:
    """A tie outcome without the internal fields."""
    return {k: v for k, v in outcome.items() if not k.startswith("_")}


def fraction_text(probability: float | None) -> str:
    """``1/2``, ``2/3``, ``1`` (a probability as the fraction it was computed from), or ``?``."""
    if probability is None:
        return "?"
    share = Fraction(probability).limit_denominator(MAX_REPLAYS * 16)
    return str(share.numerator) if share.denominator == 1 else f"{share.numerator}/{share.denominator}"


def outcome_label(outcome: Mapping[str, Any], outcomes: Sequence[Mapping[str, Any]]) -> str:
    """One outcome for people: its HyperNode, with its pods per leaf when another outcome has the
    same HyperNode; ``not placed`` when the job stays Pending in it."""
    if not outcome.get("feasible", True):
        return "not placed"
    name = str(outcome.get("hypernode") or "-")
    if sum(1 for o in outcomes if o.get("hypernode") == outcome.get("hypernode")) > 1:
        leaves = ", ".join(f"{leaf}: {n}" for leaf, n in (outcome.get("pods_per_leaf") or {}).items())
        name += f" [{leaves}]"
    return name


def outcomes_text(job: Mapping[str, Any]) -> str:
    """Where a job result lands, for every surface: ``ib-switch0`` (one outcome), or ``ib-switch0
    or ib-switch1 (Volcano picks at random, 1/2 each)``, with the probabilities when they differ
    and ``probabilities not computable`` when they are not known."""
    outcomes = list(job.get("outcomes") or [])
    if len(outcomes) < 2:
        return str(job.get("hypernode") or "-")
    labels = [outcome_label(o, outcomes) for o in outcomes]
    shares = [o.get("probability") for o in outcomes]
    if any(p is None for p in shares):
        how = "Volcano picks at random; probabilities not computable"
    elif len({fraction_text(p) for p in shares}) == 1:
        how = f"Volcano picks at random, {fraction_text(shares[0])} each"
    else:
        how = "Volcano picks at random: " + ", ".join(
            f"{label} {fraction_text(p)}" for label, p in zip(labels, shares, strict=True)
        )
    return f"{' or '.join(labels)} ({how})"
