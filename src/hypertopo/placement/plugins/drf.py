"""The ``drf`` plugin's job order: the job's dominant share of the cluster's allocatable."""

from __future__ import annotations

from collections.abc import Mapping

from hypertopo.placement.model import ALLOCATED, RUNNING, Job
from hypertopo.placement.resources import Resources


def share(job: Job, total: Mapping[str, int]) -> float:
    """The largest fraction of ``total`` that ``job``'s allocated and running pods hold."""
    allocated: Resources = {}
    for task in job.tasks:
        if task.status in (ALLOCATED, RUNNING):
            for key, val in task.resreq.items():
                allocated[key] = allocated.get(key, 0) + val
    return max((val / total[key] for key, val in allocated.items() if total.get(key)), default=0.0)
