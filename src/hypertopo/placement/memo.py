"""Memoised dry runs over interchangeable leaf HyperNodes (an engine shortcut, not Volcano's).

Volcano dry-runs every eligible leaf HyperNode. Leaves whose candidate nodes are untouched and
identical (allocatable, filter results, preferred affinity, PreferNoSchedule taints, images),
for a subjob with nothing placed yet and per-host pod affinity only, give the same dry run up
to renaming their nodes in natural name order: the engine runs one and maps the result onto
the others. Results are identical with and without the memo (``MEMO = False``);
``tests/placement/test_memo.py`` checks it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hypertopo.placement.actions.worksheet import remaining_shapes
from hypertopo.placement.model import SubJob, Task
from hypertopo.placement.scheduler import FitFailure, Scheduler
from hypertopo.placement.state import hostname_only
from hypertopo.placement.statement import Op, Statement
from hypertopo.placement.util import MIN_NODES_TO_FIND, tie_record
from hypertopo.topology.labels import natural_key

if TYPE_CHECKING:
    from hypertopo.placement.actions.worksheet import JobSheet, SubJobSheet
    from hypertopo.placement.model import Job

#: ``allocateResourcesForTasks`` of the allocate action
DryRunFn = Callable[[Scheduler, SubJob, "SubJobSheet", str], Statement | None]

#: Memoise dry runs over interchangeable leaf HyperNodes (results are identical either way; tests check it).
MEMO = True


@dataclass(slots=True)
class DryRun:
    """A memoised ``allocateResourcesForTasks`` result, with nodes as positions in the signature order."""

    ops: list[tuple[Task, int, str, list[int] | None]] | None
    pos: int
    fit_tasks: list[Task]
    failure: FitFailure | None


def dry_run(sched: Scheduler, sj: SubJob, sheet: SubJobSheet, hn: str, run: DryRunFn) -> Statement | None:
    """``run(sched, sj, sheet, hn)`` (``allocateResourcesForTasks``), memoised over interchangeable
    leaves (see :func:`dry_signature`)."""
    signature = dry_signature(sched, sj, sheet, hn)
    if signature is None:
        return run(sched, sj, sheet, hn)
    key, order = signature
    hit = sched.dry_runs.get(key)
    if hit is not None:
        return replay_dry_run(sched, hit, sj, sheet, hn, order)
    job = sj.job
    fit_before = set(job.fit_errors)
    failure_before = sched.attempt.failures.get(hn) if sched.attempt is not None else None
    stmt = run(sched, sj, sheet, hn)
    pos_of = {node: p for p, node in enumerate(order)}
    ops = None
    if stmt is not None:
        ops = []
        for op in stmt.ops:
            tie = None
            if op.tie is not None:
                tie = [pos_of[i] for i in op.tie["_tied"]]
            ops.append((op.task, pos_of[op.node], op.status, tie))
    fit_tasks = [t for t in sj.tasks if t.key in job.fit_errors and t.key not in fit_before]
    failure = sched.attempt.failures.get(hn) if sched.attempt is not None else None
    failure = failure if failure is not failure_before else None
    sched.dry_runs[key] = DryRun(ops, sheet.pos, fit_tasks, failure)
    return stmt


def replay_dry_run(
    sched: Scheduler, hit: DryRun, sj: SubJob, sheet: SubJobSheet, hn: str, order: list[int]
) -> Statement | None:
    job = sj.job
    sheet.pos = hit.pos
    for task in hit.fit_tasks:
        job.record_fit_error(sj, task)
    if hit.failure is not None and sched.attempt is not None:
        f = hit.failure
        sched.attempt.failures[hn] = FitFailure(
            f.task, hn, f.candidates, len(sched.tree.hypernodes[hn].nodes), f.dynamic
        )
    if hit.ops is None:
        return None
    stmt = Statement(sched.cluster)
    for task, pos, status, tie in hit.ops:
        node = order[pos]
        record = None if tie is None else tie_record(sched, task, node, [order[p] for p in tie])
        stmt.apply(Op(task, node, status, record))
    return stmt


def dry_signature(
    sched: Scheduler, sj: SubJob, sheet: SubJobSheet, hn: str
) -> tuple[tuple[Any, ...], list[int]] | None:
    """A key under which two leaf HyperNodes give the same dry run, up to renaming their nodes.

    Only for a subjob with nothing placed yet, in a lowest-tier HyperNode whose candidate nodes
    are untouched (no pods), when pod affinity (if any) is per host and the normal-pod
    HyperNode score is not involved. Nodes are matched by natural name order, so the
    deterministic tie-break maps too. ``None``: not applicable.
    """
    if (
        not MEMO
        or sched.rng is not None
        or sj.allocated_hn
        or sj.node_counts
        or sched.cluster.non_hostname_affinity
    ):
        return None
    nta = sched.conf.nta
    if not sj.with_topology and nta.enabled and nta.node_order and nta.normal_pod_enable:
        return None
    tree = sched.tree
    if tree.hypernodes[hn].tier != tree.min_tier or hn == tree.root:
        return None
    if len(tree.hypernodes[hn].nodes) > MIN_NODES_TO_FIND:
        return None  # the rotating sample makes runs depend on call history
    specs = [task.pod.spec for task, _count in remaining_shapes(sched, sheet)]
    if not specs or any(not hostname_only(spec) for spec in specs):
        return None
    cand_sets = [set(sched.pred.candidates(spec, hn)) for spec in specs]
    union: set[int] = set().union(*cand_sets)
    nodes = sched.nodes
    order = sorted(union, key=lambda i: natural_key(nodes[i].name))
    states = sched.cluster.states
    leaf_of = tree.node_leaf
    parts: list[Any] = []
    for i in order:
        if states[i] is not None or leaf_of[i] != hn:
            return None
        node = nodes[i]
        extra: tuple[Any, ...] = tuple(
            sum(w for w, term in spec.preferred_terms if term.matches(node.name, node.labels))
            for spec in specs
            if spec.preferred_terms
        )
        if node.taints:
            extra += tuple((t.key, t.value, t.effect) for t in node.taints if t.effect == "PreferNoSchedule")
        images = id(node.images) if node.images else 0
        parts.append((id(node.allocatable), images, tuple(i in c for c in cand_sets), extra))
    job = sj.job
    key = (
        sj.uid,
        id(sheet.tasks),
        sheet.pos,
        tuple(sorted(job.counts.items())),
        tuple(sorted(sj.counts.items())),
        frozenset(job.failed_roles.get(sj.uid, ())),
        tuple(parts),
    )
    return key, order


def job_signature(
    sched: Scheduler, job: Job, sheet: JobSheet, hn: str
) -> tuple[tuple[Any, ...], list[int]] | None:
    """Memo key of a whole job-level dry run in a leaf HyperNode (single subjob only)."""
    if job.has_policy or len(sheet.queued) != 1:
        return None
    sj = sheet.queued[0]
    signature = dry_signature(sched, sj, sheet.sheets[sj.uid], hn)
    if signature is None:
        return None
    key, order = signature
    tier = sj.topology.tier if sj.topology else None
    eligible = bool(sched.nta.gradients(sj.hard, tier, None, sj.pending_resources() if sj.hard else {}, hn))
    return ("job", key, eligible), order


def store_job_run(
    sched: Scheduler,
    memo: tuple[tuple[Any, ...], list[int]],
    ops: list[Op],
    ready: bool,
    pipelined: bool,
    copy: JobSheet,
    hn: str,
    pruned: bool,
) -> None:
    """Keep a job-level dry run; ``pruned``: a subjob's run in it was skipped (:mod:`.prune`), so
    its failure is unknown and a replay marks the attempt ``pruned`` as the run did."""
    key, order = memo
    pos_of = {node: p for p, node in enumerate(order)}
    if any(op.node not in pos_of for op in ops):
        return
    saved = [
        (op.task, pos_of[op.node], op.status, [pos_of[i] for i in op.tie["_tied"]] if op.tie else None)
        for op in ops
    ]
    failure = sched.attempt.failures.get(hn) if sched.attempt is not None else None
    sched.job_runs[key] = (
        saved,
        ready,
        pipelined,
        {u: c.pos for u, c in copy.sheets.items()},
        bool(copy.queued),
        failure,
        pruned,
    )


def replay_job_run(
    sched: Scheduler,
    sheet: JobSheet,
    hn: str,
    memo: tuple[tuple[Any, ...], list[int]],
    results: dict[str, Any],
) -> None:
    key, order = memo
    saved, ready, pipelined, positions, requeue, failure, pruned = sched.job_runs[key]
    if pruned and sched.attempt is not None:
        sched.attempt.pruned = True
    if failure is not None and sched.attempt is not None:
        f = failure
        sched.attempt.failures[hn] = FitFailure(
            f.task, hn, f.candidates, len(sched.tree.hypernodes[hn].nodes), f.dynamic
        )
    if not saved or not (ready or pipelined):
        return
    sj = sheet.queued[0]
    copy = sheet.clone()
    for uid, pos in positions.items():
        copy.sheets[uid].pos = pos
    if not requeue:
        copy.queued = []

    def ops() -> list[Op]:
        out = []
        for task, pos, status, tie in saved:
            node = order[pos]
            record = None if tie is None else tie_record(sched, task, node, [order[p] for p in tie])
            out.append(Op(task, node, status, record))
        return out

    score = sched.nta.subjob_scores(sj, [hn])[hn]
    results[hn] = (ops, copy, score, {sj.uid: sched.tree.lca(sj.allocated_hn, hn)}, [])
    if sched.attempt is not None and not ready:
        sched.attempt.pipelined_only.append(hn)
