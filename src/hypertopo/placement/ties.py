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
    """Feasibility, lowest common HyperNode and pods per leaf of ``job`` after ``session``."""
    tree = session.world.tree
    feasible = job.key not in session.skip and job.admitted and gang.job_ready(job)
    nodes = [t.node for t in job.tasks if t.node is not None and t.status in (ALLOCATED, RUNNING, RELEASING)]
    if not feasible:
        return {"feasible": False, "hypernode": None, "tier": None, "leaves": {}}
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
    }


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
        _add_outcomes(outcomes, run_session(world, job_ins, task_order=order))
    _record_outcomes(results, outcomes, "task-order", TASK_ORDER_REASON)


def _own_outcomes(session: Session) -> list[list[dict[str, Any]]]:
    """Per job of ``session``, the list of its distinct outcomes, starting with its own."""
    return [[_outcome(session, job)] for job in session.jobs]


def _add_outcomes(outcomes: list[list[dict[str, Any]]], replay: Session) -> None:
    """Add each job's outcome in ``replay`` to its list when it is a new one."""
    for seen, job in zip(outcomes, replay.jobs, strict=True):
        outcome = _outcome(replay, job)
        if outcome not in seen:
            seen.append(outcome)


def _record_outcomes(
    results: list[dict[str, Any]],
    outcomes: list[list[dict[str, Any]]],
    level: str,
    reason: str,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Add a ``level`` tie to every job whose distinct ``outcomes`` (its own first) differ."""
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
    outcomes = _own_outcomes(session)
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
                _add_outcomes(outcomes, alt)
                frontier.append((forced, alt.sched.hn_decisions))
    complete = not frontier or (
        replays < limit
        and all(
            not decisions[k] for script, decisions in frontier for k in range(max(script) + 1, len(decisions))
        )
    )
    for result in results:
        result["choice_replays"] = {"replays": replays, "complete": complete}
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
