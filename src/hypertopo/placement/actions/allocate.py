"""Volcano v1.15.1's ``allocate`` action with the network-topology-aware plugin.

Mirrors ``pkg/scheduler/actions/allocate/allocate.go``:

* jobs with a hard topology (after the session's soft->hard conversion) or a
  ``subGroupPolicy`` go through ``allocateForJob``: for each gradient (eligible
  HyperNodes of one tier, lowest tier first), dry-run every HyperNode, keep those
  where the job becomes ready (or pipelined), take the best total subjob score and
  replay it; subjobs run ``allocateForSubJob`` the same way inside the job's
  HyperNode; tasks are placed one by one in task order on the best-scoring node;
* other jobs take the flat path over all nodes;
* a job whose gang is met but which has tasks left is put back and gets one more
  task per round (now searching under its allocated HyperNode without pre-filter).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypertopo.placement import memo, prune
from hypertopo.placement.actions.worksheet import JobSheet, SubJobSheet, organize, pop_subjob
from hypertopo.placement.memo import job_signature, replay_job_run, store_job_run
from hypertopo.placement.model import ALLOCATED, PIPELINED, Job, SubJob
from hypertopo.placement.plugins import gang
from hypertopo.placement.resources import fits
from hypertopo.placement.scheduler import Attempt, Scheduler
from hypertopo.placement.statement import Op, Statement
from hypertopo.placement.util import predicate_nodes, prioritize, select_best_hypernode


def allocate(sched: Scheduler, jobs: Sequence[Job], skip: dict[str, str]) -> None:
    """The action over ``jobs`` in one session (``skip``: job key -> why it is not scheduled, filled in)."""
    queue: list[Job] = []
    sheets: dict[str, JobSheet] = {}
    for job in jobs:
        if not job.inp.scheduled_by_volcano:
            skip[job.key] = "not scheduled by Volcano (schedulerName is not volcano)"
            continue
        if not job.admitted:
            continue
        reason = gang.job_valid(job)
        if reason:
            skip[job.key] = reason
            continue
        if not sched.tree.ready and job.contains_topology():
            skip[job.key] = (
                "HyperNodes are not ready for scheduling (" + "; ".join(sched.tree.not_ready_reasons) + ")"
            )
            continue
        sheet = organize(sched, job)
        if sheet.empty():
            continue
        queue.append(job)
        sheets[job.key] = sheet
    top = sched.tree.root
    while queue:
        job = min(queue, key=sched.job_key)
        queue.remove(job)
        sheet = sheets[job.key]
        first = job.key not in sched.attempts
        if first:
            sched.attempt = sched.attempts[job.key] = Attempt()
        if job.contains_hard() or job.has_policy:
            stmt = allocate_for_job(sched, job, sheet, top)
            if stmt is not None and gang.job_ready(job):
                sched.record_hn_tie(job)
                if not sheet.empty():
                    queue.append(job)
        else:
            sj = job.default_subjob()
            tasks = sheet.sheets.get(sj.uid)
            sched.work += len(sched.tree.hypernodes[top].nodes)
            if tasks is not None:
                stmt = allocate_tasks(sched, sj, tasks, top)
                if stmt is not None and gang.job_ready(job) and not tasks.empty():
                    queue.append(job)
        sched.attempt = None
        sched.pending_ties = []


def allocate_for_job(sched: Scheduler, job: Job, sheet: JobSheet, start: str) -> Statement | None:
    if sheet.empty():
        return None
    hard = job.topology is not None and job.topology.hard
    tier = job.topology.tier if job.topology else None
    grads = sched.nta.gradients(hard, tier, job.allocated_hn, job.min_resources, start)
    attempt = sched.attempt
    if grads is None:
        if attempt is not None:
            attempt.no_gradient = (
                f"no HyperNode search root for allocated {job.allocated_hn} within tier {tier}"
            )
        return None
    if attempt is not None:
        attempt.gradients = grads
    for gradient in grads:
        results: dict[str, tuple[Any, JobSheet, float, dict[str, str | None], list[dict[str, Any]]]] = {}
        for hn in gradient:
            sched.work += len(sched.tree.hypernodes[hn].nodes)
            signature = job_signature(sched, job, sheet, hn)
            if signature is not None and signature[0] in sched.job_runs:
                replay_job_run(sched, sheet, hn, signature, results)
                continue
            job.reset_fit_errors()
            copy = sheet.clone()
            pruned_before = sched.pruned
            snapshot = {uid: sj.allocated_hn for uid, sj in job.subjobs.items()}
            stmts: list[Statement] = []
            total = 0.0
            decisions: dict[str, str | None] = {}
            ties: list[dict[str, Any]] = []
            while copy.queued:
                sj = pop_subjob(sched, copy)
                got = allocate_for_subjob(sched, sj, copy.sheets[sj.uid], hn)
                if got is not None and got[0].ops:
                    stmt, score, tie = got
                    stmts.append(stmt)
                    total += score
                    decisions[sj.uid] = sj.allocated_hn
                    if tie is not None:
                        ties.append(tie)
                    if not copy.sheets[sj.uid].empty():
                        copy.queued.append(sj)
                    if gang.job_ready(job):
                        break
            for uid, value in snapshot.items():
                job.subjobs[uid].allocated_hn = value
            ops = [op for stmt in stmts for op in stmt.ops]
            ready, pipelined = gang.job_ready(job), gang.job_pipelined(job)
            if signature is not None:
                pruned = sched.pruned != pruned_before
                store_job_run(sched, signature, ops, ready, pipelined, copy, hn, pruned)
            if ops and (ready or pipelined):
                results[hn] = (ops, copy, total, decisions, ties)
                if attempt is not None and not ready:
                    attempt.pipelined_only.append(hn)
            for stmt in stmts:
                stmt.discard()
        if not results:
            continue

        def job_nodes(hn: str, results: dict[str, Any] = results) -> list[int]:
            ops = results[hn][0]
            return [op.node for op in (ops() if callable(ops) else ops)]

        best, tie = select_best_hypernode(
            sched, {hn: r[2] for hn, r in results.items()}, None, job, job_nodes
        )
        ops, copy, _score, decisions, sub_ties = results[best]
        if callable(ops):
            ops = ops()
        sched.pending_ties = ([tie] if tie else []) + sub_ties
        final = Statement(sched.cluster)
        for op in ops:
            final.apply(Op(op.task, op.node, op.status, op.tie))
        sheet.assign(copy)
        if gang.job_ready(job):
            job.allocated_hn = sched.tree.lca(job.allocated_hn, best)
            for uid, hn_name in decisions.items():
                sj = job.subjobs[uid]
                sj.allocated_hn = sched.tree.lca(sj.allocated_hn, hn_name)
        return final
    return None


def allocate_for_subjob(
    sched: Scheduler, sj: SubJob, sheet: SubJobSheet, job_hn: str
) -> tuple[Statement, float, dict[str, Any] | None] | None:
    if sheet.empty():
        return None
    job = sj.job
    hard = sj.hard
    tier = sj.topology.tier if sj.topology else None
    grads = sched.nta.gradients(hard, tier, sj.allocated_hn, sj.pending_resources() if hard else {}, job_hn)
    if grads is None:
        return None
    for gradient in grads:
        if len(gradient) == 1:
            # one candidate: score it now (the state after a discard is this state) and keep the run
            hn = gradient[0]
            job.reset_fit_errors(sj)
            copy = sheet.clone()
            score = sched.nta.subjob_scores(sj, [hn])[hn]
            stmt = allocate_tasks(sched, sj, copy, hn)
            if stmt is None or not stmt.ops:
                continue
            sj.allocated_hn = sched.tree.lca(sj.allocated_hn, hn)
            sheet.pos = copy.pos
            return stmt, score, None
        results: dict[str, tuple[list[Op], SubJobSheet]] = {}
        for hn in gradient:
            job.reset_fit_errors(sj)
            copy = sheet.clone()
            stmt = allocate_tasks(sched, sj, copy, hn)
            if stmt is not None and stmt.ops:
                results[hn] = (list(stmt.ops), copy)
                stmt.discard()
        if not results:
            continue
        scores = sched.nta.subjob_scores(sj, list(results))
        best, tie = select_best_hypernode(
            sched, scores, sj, job, lambda hn, results=results: [op.node for op in results[hn][0]]
        )
        ops, copy = results[best]
        final = Statement(sched.cluster)
        for op in ops:
            final.apply(Op(op.task, op.node, op.status, op.tie))
        sj.allocated_hn = sched.tree.lca(sj.allocated_hn, best)
        sheet.pos = copy.pos
        return final, scores[best], tie
    return None


def allocate_tasks(sched: Scheduler, sj: SubJob, sheet: SubJobSheet, hn: str) -> Statement | None:
    """``allocateResourcesForTasks`` in ``hn``, memoised over interchangeable leaves (:mod:`..memo`),
    skipped when it cannot make the gang ready (:mod:`..prune`, opt-in)."""
    if prune.hopeless(sched, sj, sheet, hn):
        return None
    return memo.dry_run(sched, sj, sheet, hn, allocate_resources_for_tasks)


def allocate_resources_for_tasks(
    sched: Scheduler, sj: SubJob, sheet: SubJobSheet, hn: str
) -> Statement | None:
    job = sj.job
    hn_info = sched.tree.hypernodes[hn]
    if not hn_info.nodes:
        return None
    stmt = Statement(sched.cluster)
    allocated = sj.allocated_hn
    while not sheet.empty():
        task = sheet.pop()
        if job.task_has_fit_errors(sj, task):
            job.record_fit_error(sj, task)
            continue
        feasible, failure = predicate_nodes(sched, task, hn)
        if not feasible:
            job.record_fit_error(sj, task)
            if sched.attempt is not None and failure is not None:
                sched.attempt.failures[hn] = failure
            if job.need_continue_allocating(sj):
                continue
            break
        node, tie = prioritize(sched, task, feasible, sj, allocated if sj.with_topology else None)
        if node is None:
            continue
        if fits(task.resreq, sched.cluster.idle(node)):
            stmt.apply(Op(task, node, ALLOCATED, tie))
        elif fits(task.resreq, sched.cluster.future_idle(node)):
            stmt.apply(Op(task, node, PIPELINED, tie))
        else:
            continue
        if sj.with_topology:
            leaf = sched.tree.node_leaf[node]
            if leaf:
                allocated = leaf if not allocated else sched.tree.lca(leaf, allocated)
        if gang.subjob_ready(job, sj):
            break
    if gang.subjob_ready(job, sj) or gang.subjob_pipelined(job, sj):
        return stmt
    stmt.discard()
    return None
