"""The ``enqueue`` action: admit Pending PodGroups in job order while the proportion plugin allows.

Without the enqueue action (or without the proportion plugin's ``enableJobEnqueued``) every
PodGroup is admitted. A Volcano Job gets no pods until its PodGroup is admitted.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypertopo.placement.model import Job
from hypertopo.placement.plugins.proportion import QueueUsage
from hypertopo.placement.scheduler import Scheduler


def enqueue(sched: Scheduler, jobs: Sequence[Job]) -> None:
    """Admit the PodGroups still Pending; the others get their reason in ``sched.unadmitted``."""
    sched.unadmitted.clear()
    pending = [job for job in jobs if not job.admitted and job.inp.scheduled_by_volcano]
    if not pending:
        return
    if "enqueue" not in sched.conf.actions or not sched.conf.proportion_enqueue:
        for job in pending:
            job.admitted = True
        return
    usage = QueueUsage(jobs, sched.cluster.hn_alloc[sched.tree.root])
    for job in sorted(pending, key=sched.job_key):
        short = usage.shortages(job)
        if short:
            sched.unadmitted[job.key] = (
                "queue resource quota insufficient: insufficient "
                + ", ".join(sorted(s.split(" ")[0] for s in short))
                + f" - the enqueue action keeps the PodGroup Pending in queue {job.inp.queue} (proportion "
                "plugin: minResources plus what the queue's running and admitted jobs hold or reserve "
                "must fit the cluster's allocatable; a Volcano Job gets no pods until then): "
                + "; ".join(short)
            )
            continue
        job.admitted = True
        usage.admit(job)
