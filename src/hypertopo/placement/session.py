"""Simulated scheduling sessions: vc-scheduler opens one every ``--schedule-period``.

Each session runs the actions in order (:mod:`.actions`: enqueue, allocate, backfill). Pods
left pending (a subjob dropped from the worksheet, extra replicas, tasks that failed
predicates) are tried again in the next session with what the earlier ones bound; the run
stops once a session places nothing (at most :data:`MAX_SESSIONS`).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hypertopo.placement.actions.allocate import allocate
from hypertopo.placement.actions.backfill import backfill
from hypertopo.placement.actions.enqueue import enqueue
from hypertopo.placement.jobs import JobIn
from hypertopo.placement.model import ALLOCATED, PENDING, PIPELINED, RUNNING, Job
from hypertopo.placement.plugins.predicates import Predicates
from hypertopo.placement.scheduler import Scheduler
from hypertopo.placement.scoring import Scorer
from hypertopo.placement.snapshot import TaskOrder, open_session, recover_allocated
from hypertopo.placement.state import Cluster
from hypertopo.placement.statement import Op, unallocate
from hypertopo.placement.tree import Tree
from hypertopo.placement.world import World


@dataclass(slots=True)
class Session:
    world: World
    cluster: Cluster
    sched: Scheduler
    jobs: list[Job]
    skip: dict[str, str]
    warnings: list[str]
    sessions: int = 1


#: scheduling sessions simulated at most (each later one must place a pod, or the run stops)
MAX_SESSIONS = 16


#: nodes times pods above which no replay of a session is affordable (see :func:`.ties.replay_limit`);
#: beyond it the HyperNode-level tie decisions are not even recorded
REPLAY_BUDGET = 20_000


def run_actions(sched: Scheduler, jobs: Sequence[Job], skip: dict[str, str]) -> None:
    """One session's actions: enqueue, allocate, backfill (``skip``: job key -> reason, filled in)."""
    enqueue(sched, jobs)
    allocate(sched, jobs, skip)
    backfill(sched, jobs, skip)


def run_session(
    world: World,
    job_ins: Sequence[JobIn],
    rng: random.Random | None = None,
    task_order: TaskOrder | None = None,
    hn_script: Mapping[int, str] | None = None,
    prune: bool = False,
) -> Session:
    """Simulate vc-scheduler's sessions over ``job_ins`` until one places nothing.

    ``rng`` breaks ties at random (else: the first in natural name order); ``task_order``
    orders equal-index pods of different tasks; ``hn_script`` forces the choices at the
    HyperNode-level tie decisions it numbers (see :mod:`.ties`); ``prune`` skips dry runs that
    cannot make a gang ready (:mod:`.prune`: the same placements, but the reasons of a job left
    unplaced may lack what those runs found, see :func:`pruned_reasons`).
    """
    tree = world.tree
    conf = world.conf
    cluster, jobs, warnings = open_session(world, job_ins, task_order)
    predicates = Predicates(world.nodes, world.index, tree, cluster, conf.predicates)
    scorer = Scorer(conf, cluster, tree, world.nodes)
    sched = Scheduler(conf, tree, world.nodes, cluster, predicates, scorer, rng)
    sched.hn_script = hn_script or {}
    sched.prune = prune
    sched.record_decisions = len(world.nodes) < REPLAY_BUDGET  # else no replay is affordable
    skip: dict[str, str] = {}
    run_actions(sched, jobs, skip)
    placed = _allocated(jobs)
    sessions = 1
    # vc-scheduler opens a session every --schedule-period: pods left pending (a subjob
    # dropped from the worksheet, extra replicas, tasks that failed predicates) are tried
    # again with what the earlier sessions bound; stop once a session places nothing
    while placed and sessions < MAX_SESSIONS and _retry_pending(jobs, skip):
        _open_next_session(jobs, tree, cluster, sched)
        run_actions(sched, jobs, skip)
        sessions += 1
        now = _allocated(jobs)
        if now == placed:
            break
        placed = now
    return Session(world, cluster, sched, jobs, skip, warnings, sessions)


def pruned_reasons(session: Session, job: Job) -> bool:
    """Whether ``job``'s first attempt skipped a dry run (``run_session(prune=True)``): its reasons,
    should it be unplaced, are then incomplete."""
    attempt = session.sched.attempts.get(job.key)
    return attempt is not None and attempt.pruned


def _allocated(jobs: Sequence[Job]) -> int:
    return sum(job.counts.get(ALLOCATED, 0) for job in jobs)


def _retry_pending(jobs: Sequence[Job], skip: Mapping[str, str]) -> bool:
    """Whether a later session has anything to try (pending or pipelined pods of a placeable job)."""
    return any(
        job.key not in skip
        and job.counts.get(PENDING, 0) - job.pending_be() + job.counts.get(PIPELINED, 0) > 0
        for job in jobs
    )


def _open_next_session(jobs: Sequence[Job], tree: Tree, cluster: Cluster, sched: Scheduler) -> None:
    """The next scheduling session: pipelined pods are pending again, allocated ones stay
    (bound by now); ``removeInvalidAllocatedHyperNode`` then ``recoverAllocatedHyperNode``
    for the empty ones (the scheduler keeps the others in memory); fresh HyperNode idle
    resources for the gradient pre-filter."""
    for job in jobs:
        for task in job.tasks:
            if task.status == PIPELINED and task.node is not None:
                unallocate(cluster, Op(task, task.node, PIPELINED, None))
        job.reset_fit_errors()
        if not job.counts.get(ALLOCATED, 0) and not job.counts.get(RUNNING, 0):
            job.allocated_hn = None
        for sj in job.subjobs.values():
            if not sj.allocated_num():
                sj.allocated_hn = None
    recover_allocated(jobs, tree, only_empty=True)
    cluster.snapshot_session_open()
    sched.new_session()
