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
  task per round (now searching under its allocated HyperNode without pre-filter);
* afterwards ``backfill`` places best-effort pods (no requests) on any node.

Where Volcano picks at random among equal scores, the engine takes the first in
natural name order and records the tie set; a ``random.Random`` can be given
instead (used for expected values over ties).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypertopo.placement.conf import SchedulerConf
from hypertopo.placement.index import natural_key
from hypertopo.placement.model import ALLOCATED, PENDING, PIPELINED, RUNNING, Job, SubJob, Task
from hypertopo.placement.objects import Node, Resources
from hypertopo.placement.predicates import Predicates, fits
from hypertopo.placement.quantity import format_resource
from hypertopo.placement.scores import Scorer, same_score
from hypertopo.placement.state import Cluster, hostname_only
from hypertopo.placement.tree import Tree

MAX_TIE_CANDIDATES = 8
#: Memoise dry runs over interchangeable leaf HyperNodes (results are identical either way; tests check it).
MEMO = True
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


@dataclass(slots=True)
class Op:
    task: Task
    node: int
    status: str  # Allocated | Pipelined
    tie: dict[str, Any] | None = None


@dataclass(slots=True)
class FitFailure:
    """A task found no node in a HyperNode: the per-reason node counts (for reasons)."""

    task: Task
    hypernode: str
    candidates: int  # nodes passing the stable filters
    total: int  # nodes in the HyperNode
    dynamic: dict[str, int]


@dataclass(slots=True)
class DryRun:
    """A memoised ``allocateResourcesForTasks`` result, with nodes as positions in the signature order."""

    ops: list[tuple[Task, int, str, list[int] | None]] | None
    pos: int
    fit_tasks: list[Task]
    failure: FitFailure | None


@dataclass(slots=True)
class Attempt:
    """What the first gang attempt of a job tried (turned into reasons when it fails)."""

    gradients: list[list[str]] = field(default_factory=list)
    failures: dict[str, FitFailure] = field(default_factory=dict)
    pipelined_only: list[str] = field(default_factory=list)
    no_gradient: str = ""


class Statement:
    def __init__(self, alloc: Allocator) -> None:
        self.alloc = alloc
        self.ops: list[Op] = []

    def apply(self, op: Op) -> None:
        self.alloc.apply(op)
        self.ops.append(op)

    def discard(self) -> None:
        for op in reversed(self.ops):
            self.alloc.revert(op)
        self.ops = []


class SubJobSheet:
    __slots__ = ("pos", "tasks")

    def __init__(self, tasks: list[Task], pos: int = 0) -> None:
        self.tasks = tasks
        self.pos = pos

    def empty(self) -> bool:
        return self.pos >= len(self.tasks)

    def pop(self) -> Task:
        task = self.tasks[self.pos]
        self.pos += 1
        return task

    def clone(self) -> SubJobSheet:
        return SubJobSheet(self.tasks, self.pos)


class JobSheet:
    def __init__(self, queued: list[SubJob], sheets: dict[str, SubJobSheet], required: set[str]) -> None:
        self.queued = queued
        self.sheets = sheets
        self.required = required

    def empty(self) -> bool:
        return not self.queued

    def clone(self) -> JobSheet:
        return JobSheet(list(self.queued), {k: v.clone() for k, v in self.sheets.items()}, self.required)

    def assign(self, other: JobSheet) -> None:
        self.queued = other.queued
        self.sheets = other.sheets


class Allocator:
    def __init__(
        self,
        conf: SchedulerConf,
        tree: Tree,
        nodes: Sequence[Node],
        cluster: Cluster,
        predicates: Predicates,
        scorer: Scorer,
        rng: random.Random | None = None,
    ) -> None:
        self.conf = conf
        self.tree = tree
        self.nodes = nodes
        self.cluster = cluster
        self.pred = predicates
        self.scorer = scorer
        self.rng = rng
        self.attempts: dict[str, Attempt] = {}
        self._attempt: Attempt | None = None
        self.job_decisions: dict[str, str] = {}
        self.hn_ties: dict[str, list[dict[str, Any]]] = {}
        self.pending_ties: list[dict[str, Any]] = []
        self.sampling_notes: dict[
            str, set[str]
        ] = {}  # job key -> HyperNodes where the sample cut feasible nodes
        self.next_index = 0
        self._dry_cache: dict[tuple[Any, ...], DryRun] = {}
        self._job_cache: dict[tuple[Any, ...], Any] = {}
        self._specs_memo: dict[tuple[int, int], list[Any]] = {}
        #: job key -> why the enqueue action keeps its PodGroup Pending (latest session)
        self.unadmitted: dict[str, str] = {}
        #: HyperNode-level tie decisions: forced choices by decision number, and per decision met
        #: the candidates leading to other job HyperNodes (see ``best_hypernode``)
        self.hn_script: Mapping[int, str] = {}
        self.hn_decisions: list[list[str]] = []
        #: whether HyperNode-level tie decisions are recorded for replays (off when none can follow)
        self.record_decisions = True
        self.hn_tie_count = 0
        #: nodes of every HyperNode a job was dry-run in, plus the nodes of every flat-path run: a
        #: measure of a session's cost that depends neither on the machine nor on the memos
        self.work = 0

    def new_session(self) -> None:
        """Forget what one session memoised (the cluster changed since)."""
        self._dry_cache.clear()
        self._job_cache.clear()
        self._specs_memo.clear()

    # ------------------------------------------------------------------ state changes

    def apply(self, op: Op) -> None:
        task = op.task
        self.cluster.place(op.node, task.on_node, task.resreq, op.status)
        task.job.set_status(task, op.status)
        task.node = op.node
        task.tie = op.tie
        counts = task.subjob.node_counts
        counts[op.node] = counts.get(op.node, 0) + 1

    def revert(self, op: Op) -> None:
        task = op.task
        self.cluster.unplace(op.node, task.on_node, task.resreq, op.status)
        task.job.set_status(task, PENDING)
        task.node = None
        task.tie = None
        counts = task.subjob.node_counts
        counts[op.node] -= 1
        if not counts[op.node]:
            del counts[op.node]

    # ------------------------------------------------------------------ tie-breaking

    def choose(self, names: list[str]) -> str:
        if self.rng is not None:
            return names[self.rng.randrange(len(names))] if len(names) > 1 else names[0]
        return min(names, key=natural_key)

    # ------------------------------------------------------------------ session

    def organize(self, job: Job) -> JobSheet:
        """``organizeJobWorksheet``."""
        not_ready = [sj for sj in job.subjobs.values() if not job.subjob_ready(sj)]
        counted: dict[str, int] = {}
        for sj in job.subjobs.values():
            if job.subjob_ready(sj):
                counted[sj.gid] = counted.get(sj.gid, 0) + 1
        not_ready.sort(key=self.subjob_key)
        required: set[str] = set()
        for sj in not_ready:
            if counted.get(sj.gid, 0) < job.min_subjobs.get(sj.gid, 0):
                required.add(sj.uid)
                counted[sj.gid] = counted.get(sj.gid, 0) + 1
        queued = []
        sheets = {}
        for sj in job.subjobs.values():
            tasks = sorted(
                (t for t in sj.tasks if t.status == PENDING and not t.best_effort), key=lambda t: t.order
            )
            if tasks:
                queued.append(sj)
                sheets[sj.uid] = SubJobSheet(tasks)
        return JobSheet(queued, sheets, required)

    def subjob_key(self, sj: SubJob) -> tuple[Any, ...]:
        key: list[Any] = []
        for plugin in self.conf.subjob_order_plugins:
            key.append(-sj.priority if plugin == "priority" else sj.is_ready())
        key.extend((sj.match_index, sj.uid))
        return tuple(key)

    def pop_subjob(self, sheet: JobSheet) -> SubJob:
        best = min(sheet.queued, key=lambda sj: (sj.uid not in sheet.required, *self.subjob_key(sj)))
        sheet.queued.remove(best)
        return best

    def job_key(self, job: Job) -> tuple[Any, ...]:
        key: list[Any] = []
        for plugin in self.conf.plugin_order:
            if plugin == "priority" and self.conf.priority_job_order:
                key.append(-job.priority)
            elif plugin == "gang" and self.conf.gang:
                key.append(job.is_ready())
            elif plugin == "drf":
                key.append(self.drf_share(job))
        key.append(job.position)
        return tuple(key)

    def drf_share(self, job: Job) -> float:
        total: Resources = {}
        for name, val in self.cluster.hn_alloc[self.tree.root].items():
            total[name] = val
        allocated: Resources = {}
        for task in job.tasks:
            if task.status in (ALLOCATED, "Running"):
                for key, val in task.resreq.items():
                    allocated[key] = allocated.get(key, 0) + val
        return max((val / total[key] for key, val in allocated.items() if total.get(key)), default=0.0)

    def enqueue(self, jobs: Sequence[Job]) -> None:
        """The ``enqueue`` action: PodGroups still Pending are admitted in job order while the
        proportion plugin's ``JobEnqueueable`` holds for their queue: minResources + allocated +
        inqueue - elastic <= the cluster's total allocatable, in the dimensions minResources
        asks for (queues without capability or guarantee). Without the enqueue action every
        PodGroup is admitted."""
        self.unadmitted.clear()
        pending = [job for job in jobs if not job.admitted and job.inp.scheduled_by_volcano]
        if not pending:
            return
        if "enqueue" not in self.conf.actions or not self.conf.proportion_enqueue:
            for job in pending:
                job.admitted = True
            return
        total = self.cluster.hn_alloc[self.tree.root]
        allocated: dict[str, Resources] = {}
        inqueue: dict[str, Resources] = {}
        elastic: dict[str, Resources] = {}
        for job in jobs:
            queue = job.inp.queue
            used: Resources = {}
            for task in job.tasks:
                if task.status in (ALLOCATED, RUNNING):
                    for key, val in task.resreq.items():
                        used[key] = used.get(key, 0) + val
            acc = allocated.setdefault(queue, {})
            for key, val in used.items():
                acc[key] = acc.get(key, 0) + val
            if job.admitted:  # Inqueue, or Running (minResources not yet allocated count)
                acc = inqueue.setdefault(queue, {})
                for key, val in job.min_resources.items():
                    if val > used.get(key, 0):
                        acc[key] = acc.get(key, 0) + val - used.get(key, 0)
            acc = elastic.setdefault(queue, {})
            for key, val in used.items():
                over = val - job.min_resources.get(key, 0)
                if over > 0:
                    acc[key] = acc.get(key, 0) + over
        for job in sorted(pending, key=self.job_key):
            queue = job.inp.queue
            want = job.min_resources
            short = []
            for key, val in want.items():
                if val <= 0:
                    continue
                held = (
                    allocated.get(queue, {}).get(key, 0)
                    + inqueue.get(queue, {}).get(key, 0)
                    - elastic.get(queue, {}).get(key, 0)
                )
                have = total.get(key, 0)
                if val + held > have:
                    short.append(
                        f"{key} (needs {format_resource(key, val)}; the queue's jobs hold or reserve "
                        f"{format_resource(key, held)} of the cluster's {format_resource(key, have)})"
                    )
            if short:
                self.unadmitted[job.key] = (
                    "queue resource quota insufficient: insufficient "
                    + ", ".join(sorted(s.split(" ")[0] for s in short))
                    + f" - the enqueue action keeps the PodGroup Pending in queue {queue} (proportion "
                    "plugin: minResources plus what the queue's running and admitted jobs hold or reserve "
                    "must fit the cluster's allocatable; a Volcano Job gets no pods until then): "
                    + "; ".join(short)
                )
                continue
            job.admitted = True
            acc = inqueue.setdefault(queue, {})
            for key, val in want.items():
                acc[key] = acc.get(key, 0) + val

    def run(self, jobs: Sequence[Job], skip: dict[str, str]) -> None:
        """One scheduling session over ``jobs`` (``skip``: job key -> reason, filled in)."""
        queue: list[Job] = []
        sheets: dict[str, JobSheet] = {}
        self.enqueue(jobs)
        for job in jobs:
            if not job.inp.scheduled_by_volcano:
                skip[job.key] = "not scheduled by Volcano (schedulerName is not volcano)"
                continue
            if not job.admitted:
                continue
            reason = job.job_valid()
            if reason:
                skip[job.key] = reason
                continue
            if not self.tree.ready and job.contains_topology():
                skip[job.key] = (
                    "HyperNodes are not ready for scheduling (" + "; ".join(self.tree.not_ready_reasons) + ")"
                )
                continue
            sheet = self.organize(job)
            if sheet.empty():
                continue
            queue.append(job)
            sheets[job.key] = sheet
        top = self.tree.root
        while queue:
            job = min(queue, key=self.job_key)
            queue.remove(job)
            sheet = sheets[job.key]
            first = job.key not in self.attempts
            if first:
                self._attempt = self.attempts[job.key] = Attempt()
            if job.contains_hard() or job.has_policy:
                stmt = self.allocate_for_job(job, sheet, top)
                if stmt is not None and job.job_ready():
                    self.record_hn_tie(job)
                    if not sheet.empty():
                        queue.append(job)
            else:
                sj = job.default_subjob()
                tasks = sheet.sheets.get(sj.uid)
                self.work += len(self.tree.hypernodes[top].nodes)
                if tasks is not None:
                    stmt = self.allocate_tasks(sj, tasks, top)
                    if stmt is not None and job.job_ready() and not tasks.empty():
                        queue.append(job)
            self._attempt = None
            self.pending_ties = []
        self.backfill(jobs, skip)

    def record_hn_tie(self, job: Job) -> None:
        if self.pending_ties:
            self.hn_ties.setdefault(job.key, []).extend(self.pending_ties)

    # ------------------------------------------------------------------ gradients

    def gradients(
        self, hard: bool, tier: int | None, allocated: str | None, min_res: Resources, start: str
    ) -> list[list[str]] | None:
        """``hyperNodeGradientFn`` (None when the search root does not exist)."""
        nta = self.conf.nta
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

    # ------------------------------------------------------------------ allocateForJob

    def allocate_for_job(self, job: Job, sheet: JobSheet, start: str) -> Statement | None:
        if sheet.empty():
            return None
        hard = job.topology is not None and job.topology.hard
        tier = job.topology.tier if job.topology else None
        grads = self.gradients(hard, tier, job.allocated_hn, job.min_resources, start)
        attempt = self._attempt
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
                self.work += len(self.tree.hypernodes[hn].nodes)
                memo = self.job_memo(job, sheet, hn)
                if memo is not None and memo[0] in self._job_cache:
                    self._job_hit(job, sheet, hn, memo, results)
                    continue
                job.reset_fit_errors()
                copy = sheet.clone()
                snapshot = {uid: sj.allocated_hn for uid, sj in job.subjobs.items()}
                stmts: list[Statement] = []
                total = 0.0
                decisions: dict[str, str | None] = {}
                ties: list[dict[str, Any]] = []
                while copy.queued:
                    sj = self.pop_subjob(copy)
                    got = self.allocate_for_subjob(sj, copy.sheets[sj.uid], hn)
                    if got is not None and got[0].ops:
                        stmt, score, tie = got
                        stmts.append(stmt)
                        total += score
                        decisions[sj.uid] = sj.allocated_hn
                        if tie is not None:
                            ties.append(tie)
                        if not copy.sheets[sj.uid].empty():
                            copy.queued.append(sj)
                        if job.job_ready():
                            break
                for uid, value in snapshot.items():
                    job.subjobs[uid].allocated_hn = value
                ops = [op for stmt in stmts for op in stmt.ops]
                ready, pipelined = job.job_ready(), job.job_pipelined()
                if memo is not None:
                    self._job_store(job, memo, ops, ready, pipelined, copy, hn)
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

            best, tie = self.best_hypernode({hn: r[2] for hn, r in results.items()}, None, job, job_nodes)
            ops, copy, _score, decisions, sub_ties = results[best]
            if callable(ops):
                ops = ops()
            self.pending_ties = ([tie] if tie else []) + sub_ties
            final = Statement(self)
            for op in ops:
                final.apply(Op(op.task, op.node, op.status, op.tie))
            sheet.assign(copy)
            self.job_decisions[job.key] = best
            if job.job_ready():
                job.allocated_hn = self.tree.lca(job.allocated_hn, best)
                for uid, hn_name in decisions.items():
                    sj = job.subjobs[uid]
                    sj.allocated_hn = self.tree.lca(sj.allocated_hn, hn_name)
            return final
        return None

    def job_memo(self, job: Job, sheet: JobSheet, hn: str) -> tuple[tuple[Any, ...], list[int]] | None:
        """Memo key of a whole job-level dry run in a leaf HyperNode (single subjob only)."""
        if job.has_policy or len(sheet.queued) != 1:
            return None
        sj = sheet.queued[0]
        signature = self.dry_signature(sj, sheet.sheets[sj.uid], hn)
        if signature is None:
            return None
        key, order = signature
        tier = sj.topology.tier if sj.topology else None
        eligible = bool(self.gradients(sj.hard, tier, None, sj.pending_resources() if sj.hard else {}, hn))
        return ("job", key, eligible), order

    def _job_store(
        self,
        job: Job,
        memo: tuple[tuple[Any, ...], list[int]],
        ops: list[Op],
        ready: bool,
        pipelined: bool,
        copy: JobSheet,
        hn: str,
    ) -> None:
        key, order = memo
        pos_of = {node: p for p, node in enumerate(order)}
        if any(op.node not in pos_of for op in ops):
            return
        saved = [
            (op.task, pos_of[op.node], op.status, [pos_of[i] for i in op.tie["_tied"]] if op.tie else None)
            for op in ops
        ]
        failure = self._attempt.failures.get(hn) if self._attempt is not None else None
        self._job_cache[key] = (
            saved,
            ready,
            pipelined,
            {u: c.pos for u, c in copy.sheets.items()},
            bool(copy.queued),
            failure,
        )

    def _job_hit(
        self,
        job: Job,
        sheet: JobSheet,
        hn: str,
        memo: tuple[tuple[Any, ...], list[int]],
        results: dict[str, Any],
    ) -> None:
        key, order = memo
        saved, ready, pipelined, positions, requeue, failure = self._job_cache[key]
        if failure is not None and self._attempt is not None:
            f = failure
            self._attempt.failures[hn] = FitFailure(
                f.task, hn, f.candidates, len(self.tree.hypernodes[hn].nodes), f.dynamic
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
                record = None if tie is None else self.tie_record(task, node, [order[p] for p in tie])
                out.append(Op(task, node, status, record))
            return out

        score = self.subjob_scores(sj, [hn])[hn]
        results[hn] = (ops, copy, score, {sj.uid: self.tree.lca(sj.allocated_hn, hn)}, [])
        if self._attempt is not None and not ready:
            self._attempt.pipelined_only.append(hn)

    def best_hypernode(
        self,
        scores: dict[str, float],
        subjob: SubJob | None,
        job: Job,
        nodes_of: Callable[[str], list[int]],
    ) -> tuple[str, dict[str, Any] | None]:
        """``SelectBestHyperNodeAndScore`` (ties: random in Volcano).

        Every tie is a decision point (numbered in the order the session meets them): the
        choice is taken from :attr:`hn_script` when it names a tied candidate, and the
        decision records one candidate per other job HyperNode a choice could lead to (the
        lowest common HyperNode of the job's pods so far and that candidate's dry run), which
        :func:`hypertopo.placement.engine.hypernode_choices` replays."""
        top = max(scores.values())
        tied = sorted((hn for hn, s in scores.items() if same_score(s, top)), key=natural_key)
        if len(tied) == 1:
            return tied[0], None
        forced = self.hn_script.get(len(self.hn_decisions))
        chosen = forced if forced in tied else self.choose(tied)
        tree = self.tree
        self.hn_tie_count += 1
        if self.record_decisions:
            before = tree.lca_of_nodes(
                [t.node for t in job.tasks if t.node is not None and t.status in (ALLOCATED, RUNNING)]
            )
            by_result: dict[str | None, str] = {}
            for hn in [chosen, *tied]:
                info = tree.hypernodes[hn]
                # a dry run in a leaf HyperNode puts its pods in that leaf
                where = hn if not info.children and hn != tree.root else tree.lca_of_nodes(nodes_of(hn))
                by_result.setdefault(tree.lca(before, where), hn)
            self.hn_decisions.append([hn for hn in by_result.values() if hn != chosen])
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

    # ------------------------------------------------------------------ allocateForSubJob

    def allocate_for_subjob(
        self, sj: SubJob, sheet: SubJobSheet, job_hn: str
    ) -> tuple[Statement, float, dict[str, Any] | None] | None:
        if sheet.empty():
            return None
        job = sj.job
        hard = sj.hard
        tier = sj.topology.tier if sj.topology else None
        grads = self.gradients(hard, tier, sj.allocated_hn, sj.pending_resources() if hard else {}, job_hn)
        if grads is None:
            return None
        for gradient in grads:
            if len(gradient) == 1:
                # one candidate: score it now (the state after a discard is this state) and keep the run
                hn = gradient[0]
                job.reset_fit_errors(sj)
                copy = sheet.clone()
                score = self.subjob_scores(sj, [hn])[hn]
                stmt = self.allocate_tasks(sj, copy, hn)
                if stmt is None or not stmt.ops:
                    continue
                sj.allocated_hn = self.tree.lca(sj.allocated_hn, hn)
                sheet.pos = copy.pos
                return stmt, score, None
            results: dict[str, tuple[list[Op], SubJobSheet]] = {}
            for hn in gradient:
                job.reset_fit_errors(sj)
                copy = sheet.clone()
                stmt = self.allocate_tasks(sj, copy, hn)
                if stmt is not None and stmt.ops:
                    results[hn] = (list(stmt.ops), copy)
                    stmt.discard()
            if not results:
                continue
            scores = self.subjob_scores(sj, list(results))
            best, tie = self.best_hypernode(
                scores, sj, job, lambda hn, results=results: [op.node for op in results[hn][0]]
            )
            ops, copy = results[best]
            final = Statement(self)
            for op in ops:
                final.apply(Op(op.task, op.node, op.status, op.tie))
            sj.allocated_hn = self.tree.lca(sj.allocated_hn, best)
            sheet.pos = copy.pos
            return final, scores[best], tie
        return None

    def subjob_scores(self, sj: SubJob, hypernodes: list[str]) -> dict[str, float]:
        nta = self.conf.nta
        if not nta.enabled or not nta.hypernode_order:
            return dict.fromkeys(hypernodes, 0.0)
        if sj.binpack_cache is None:
            sj.binpack_cache = self.scorer.binpack_request([t.resreq for t in sj.tasks])
        request = sj.binpack_cache
        return self.scorer.subjob_hypernode_scores(request, hypernodes, self.task_num_fn(sj), len(sj.tasks))

    def task_num_fn(self, sj: SubJob) -> Callable[[str], int]:
        def task_num(hn: str) -> int:
            node_hns = self.tree.node_hns
            return sum(count for node, count in sj.node_counts.items() if hn in node_hns[node])

        return task_num

    # ------------------------------------------------------------------ allocateResourcesForTasks

    def allocate_tasks(self, sj: SubJob, sheet: SubJobSheet, hn: str) -> Statement | None:
        """``allocateResourcesForTasks``, memoised over interchangeable leaves (see ``dry_signature``)."""
        signature = self.dry_signature(sj, sheet, hn)
        if signature is None:
            return self._allocate_tasks(sj, sheet, hn)
        key, order = signature
        hit = self._dry_cache.get(key)
        if hit is not None:
            return self._replay(hit, sj, sheet, hn, order)
        job = sj.job
        fit_before = set(job.fit_errors)
        failure_before = self._attempt.failures.get(hn) if self._attempt is not None else None
        stmt = self._allocate_tasks(sj, sheet, hn)
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
        failure = self._attempt.failures.get(hn) if self._attempt is not None else None
        failure = failure if failure is not failure_before else None
        self._dry_cache[key] = DryRun(ops, sheet.pos, fit_tasks, failure)
        return stmt

    def _replay(
        self, hit: DryRun, sj: SubJob, sheet: SubJobSheet, hn: str, order: list[int]
    ) -> Statement | None:
        job = sj.job
        sheet.pos = hit.pos
        for task in hit.fit_tasks:
            job.record_fit_error(sj, task)
        if hit.failure is not None and self._attempt is not None:
            f = hit.failure
            self._attempt.failures[hn] = FitFailure(
                f.task, hn, f.candidates, len(self.tree.hypernodes[hn].nodes), f.dynamic
            )
        if hit.ops is None:
            return None
        stmt = Statement(self)
        for task, pos, status, tie in hit.ops:
            node = order[pos]
            record = None if tie is None else self.tie_record(task, node, [order[p] for p in tie])
            stmt.apply(Op(task, node, status, record))
        return stmt

    def dry_signature(
        self, sj: SubJob, sheet: SubJobSheet, hn: str
    ) -> tuple[tuple[Any, ...], list[int]] | None:
        """A key under which two leaf HyperNodes give the same dry run, up to renaming their nodes.

        Only for a subjob with nothing placed yet, in a lowest-tier HyperNode whose candidate nodes
        are untouched (no pods), when pod affinity (if any) is per host and the normal-pod
        HyperNode score is not involved. Nodes are matched by natural name order, so the
        deterministic tie-break maps too. ``None``: not applicable.
        """
        if (
            not MEMO
            or self.rng is not None
            or sj.allocated_hn
            or sj.node_counts
            or self.cluster.non_hostname_affinity
        ):
            return None
        nta = self.conf.nta
        if not sj.with_topology and nta.enabled and nta.node_order and nta.normal_pod_enable:
            return None
        tree = self.tree
        if tree.hypernodes[hn].tier != tree.min_tier or hn == tree.root:
            return None
        if len(tree.hypernodes[hn].nodes) > MIN_NODES_TO_FIND:
            return None  # the rotating sample makes runs depend on call history
        spec_key = (id(sheet.tasks), sheet.pos)
        specs = self._specs_memo.get(spec_key)
        if specs is None:
            specs = []
            seen: set[int] = set()
            for task in sheet.tasks[sheet.pos :]:
                if id(task.pod.spec) not in seen:
                    seen.add(id(task.pod.spec))
                    specs.append(task.pod.spec)
            self._specs_memo[spec_key] = specs
        if not specs or any(not hostname_only(spec) for spec in specs):
            return None
        cand_sets = [set(self.pred.candidates(spec, hn)) for spec in specs]
        union: set[int] = set().union(*cand_sets)
        nodes = self.nodes
        order = sorted(union, key=lambda i: natural_key(nodes[i].name))
        states = self.cluster.states
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
                extra += tuple(
                    (t.key, t.value, t.effect) for t in node.taints if t.effect == "PreferNoSchedule"
                )
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

    def _allocate_tasks(self, sj: SubJob, sheet: SubJobSheet, hn: str) -> Statement | None:
        job = sj.job
        hn_info = self.tree.hypernodes[hn]
        if not hn_info.nodes:
            return None
        stmt = Statement(self)
        allocated = sj.allocated_hn
        while not sheet.empty():
            task = sheet.pop()
            if job.task_has_fit_errors(sj, task):
                job.record_fit_error(sj, task)
                continue
            feasible, failure = self.predicate_nodes(task, hn)
            if not feasible:
                job.record_fit_error(sj, task)
                if self._attempt is not None and failure is not None:
                    self._attempt.failures[hn] = failure
                if job.need_continue_allocating(sj):
                    continue
                break
            node, tie = self.prioritize(task, feasible, sj, allocated if sj.with_topology else None)
            if node is None:
                continue
            if fits(task.resreq, self.cluster.idle(node)):
                stmt.apply(Op(task, node, ALLOCATED, tie))
            elif fits(task.resreq, self.cluster.future_idle(node)):
                stmt.apply(Op(task, node, PIPELINED, tie))
            else:
                continue
            if sj.with_topology:
                leaf = self.tree.node_leaf[node]
                if leaf:
                    allocated = leaf if not allocated else self.tree.lca(leaf, allocated)
            if job.subjob_ready(sj):
                break
        if job.subjob_ready(sj) or job.subjob_pipelined(sj):
            return stmt
        stmt.discard()
        return None

    def predicate_nodes(self, task: Task, hn: str) -> tuple[list[int], FitFailure | None]:
        """``PredicateNodes``: the feasible nodes of ``hn`` for ``task``.

        In a HyperNode of more than 100 nodes Volcano stops after ``nodes_to_find`` feasible
        nodes, walking its node list from a start index that rotates across calls
        (``lastProcessedNodeIndex``); the engine does the same over the input order (a random
        start with a random tie-breaker) and notes where the sample left feasible nodes out.
        """
        spec = task.pod.spec
        candidates = self.pred.candidates(spec, hn)
        ctx = self.pred.affinity_context(spec, task.pod.namespace, task.pod.labels)
        out: list[int] = []
        dynamic: dict[str, int] = {}
        reason_of = self.pred.dynamic_reason
        resreq = task.resreq
        all_nodes = self.tree.hypernodes[hn].nodes
        total = len(all_nodes)
        wanted = nodes_to_find(total)
        if wanted >= total or wanted >= len(candidates):
            for i in candidates:
                reason = reason_of(spec, resreq, i, ctx)
                if reason is None:
                    out.append(i)
                else:
                    dynamic[reason] = dynamic.get(reason, 0) + 1
        else:
            start = self.rng.randrange(total) if self.rng is not None else self.next_index % total
            static = self.pred.static_fit(spec).feasible_set
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
            self.next_index = (start + processed) % total
            if len(out) >= wanted and processed < total:
                self.sampling_notes.setdefault(task.job.key, set()).add(hn)
        failure = None
        if not out:
            failure = FitFailure(task, hn, len(candidates), total, dynamic)
        return out, failure

    def prioritize(
        self, task: Task, feasible: list[int], sj: SubJob, allocated: str | None
    ) -> tuple[int | None, dict[str, Any] | None]:
        cluster = self.cluster
        resreq = task.resreq
        idle_fit = [i for i in feasible if fits(resreq, cluster.idle(i))]
        buckets = [idle_fit] if idle_fit else [[i for i in feasible if fits(resreq, cluster.future_idle(i))]]
        for bucket in buckets:
            if not bucket:
                continue
            if len(bucket) == 1:
                return bucket[0], None
            scores = self.scorer.score_nodes(
                task.pod.spec,
                task.pod.namespace,
                task.pod.labels,
                bucket,
                sj.with_topology,
                allocated,
                self.task_num_fn(sj),
                len(sj.tasks),
            )
            top = max(scores.values())
            tied = [i for i, s in scores.items() if same_score(s, top)]
            if len(tied) == 1:
                return tied[0], None
            names = [self.nodes[i].name for i in tied]
            chosen_name = self.choose(names)
            chosen = tied[names.index(chosen_name)]
            return chosen, self.tie_record(task, chosen, tied)
        return None, None

    def tie_record(self, task: Task, chosen: int, tied: list[int]) -> dict[str, Any]:
        """A node tie; ``_tied`` (node indices) is internal and dropped from results."""
        leaf_of = self.tree.node_leaf
        leaves = sorted({leaf_of[i] or self.tree.root for i in tied}, key=natural_key)
        names = sorted((self.nodes[i].name for i in tied), key=natural_key)
        return {
            "level": "node",
            "pod": task.name,
            "chosen": self.nodes[chosen].name,
            "candidates": names[:MAX_TIE_CANDIDATES],
            "count": len(tied),
            "leaves": leaves,
            "_tied": list(tied),
        }

    # ------------------------------------------------------------------ backfill

    def backfill(self, jobs: Sequence[Job], skip: dict[str, str]) -> None:
        """``backfill``: best-effort pods of valid jobs, over all nodes, without topology."""
        top = self.tree.root
        for job in sorted(jobs, key=self.job_key):
            if job.key in skip or not job.admitted:
                continue
            for task in sorted(
                (t for t in job.tasks if t.status == PENDING and t.best_effort), key=lambda t: t.order
            ):
                feasible, _ = self.predicate_nodes(task, top)
                if not feasible:
                    continue
                node, tie = self.prioritize(task, feasible, task.subjob, None)
                if node is not None:
                    Statement(self).apply(Op(task, node, ALLOCATED, tie))
