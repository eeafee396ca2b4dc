"""The ``backfill`` action: best-effort pods (no requests) of valid jobs, on any node, without topology."""

from __future__ import annotations

from collections.abc import Sequence

from hypertopo.placement.model import ALLOCATED, PENDING, Job
from hypertopo.placement.scheduler import Scheduler
from hypertopo.placement.statement import Op, Statement
from hypertopo.placement.util import predicate_nodes, prioritize


def backfill(sched: Scheduler, jobs: Sequence[Job], skip: dict[str, str]) -> None:
    """``backfill``: best-effort pods of valid jobs, over all nodes, without topology."""
    top = sched.tree.root
    for job in sorted(jobs, key=sched.job_key):
        if job.key in skip or not job.admitted:
            continue
        for task in sorted(
            (t for t in job.tasks if t.status == PENDING and t.best_effort), key=lambda t: t.order
        ):
            feasible, _ = predicate_nodes(sched, task, top)
            if not feasible:
                continue
            node, tie = prioritize(sched, task, feasible, task.subjob, None)
            if node is not None:
                Statement(sched.cluster).apply(Op(task, node, ALLOCATED, tie))
