"""The ``proportion`` plugin's ``JobEnqueueable`` check, for queues without capability or guarantee.

A PodGroup still Pending is admitted while its ``minResources`` plus what its queue's jobs
hold or reserve (allocated + inqueue - elastic) fit the cluster's total allocatable, in the
dimensions ``minResources`` asks for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hypertopo.placement.model import ALLOCATED, RUNNING, Job
from hypertopo.placement.quantity import format_resource
from hypertopo.placement.resources import Resources


class QueueUsage:
    """Per queue: what its jobs hold (allocated), reserve (inqueue) and hold beyond their minimum."""

    def __init__(self, jobs: Sequence[Job], total: Mapping[str, int]) -> None:
        self.total = total
        self.allocated: dict[str, Resources] = {}
        self.inqueue: dict[str, Resources] = {}
        self.elastic: dict[str, Resources] = {}
        for job in jobs:
            queue = job.inp.queue
            used: Resources = {}
            for task in job.tasks:
                if task.status in (ALLOCATED, RUNNING):
                    for key, val in task.resreq.items():
                        used[key] = used.get(key, 0) + val
            acc = self.allocated.setdefault(queue, {})
            for key, val in used.items():
                acc[key] = acc.get(key, 0) + val
            if job.admitted:  # Inqueue, or Running (minResources not yet allocated count)
                acc = self.inqueue.setdefault(queue, {})
                for key, val in job.min_resources.items():
                    if val > used.get(key, 0):
                        acc[key] = acc.get(key, 0) + val - used.get(key, 0)
            acc = self.elastic.setdefault(queue, {})
            for key, val in used.items():
                over = val - job.min_resources.get(key, 0)
                if over > 0:
                    acc[key] = acc.get(key, 0) + over

    def shortages(self, job: Job) -> list[str]:
        """The resources ``job``'s ``minResources`` cannot get in its queue (empty: enqueueable)."""
        queue = job.inp.queue
        short = []
        for key, val in job.min_resources.items():
            if val <= 0:
                continue
            held = (
                self.allocated.get(queue, {}).get(key, 0)
                + self.inqueue.get(queue, {}).get(key, 0)
                - self.elastic.get(queue, {}).get(key, 0)
            )
            have = self.total.get(key, 0)
            if val + held > have:
                short.append(
                    f"{key} (needs {format_resource(key, val)}; the queue's jobs hold or reserve "
                    f"{format_resource(key, held)} of the cluster's {format_resource(key, have)})"
                )
        return short

    def admit(self, job: Job) -> None:
        """``job`` is Inqueue now: its ``minResources`` are reserved in its queue."""
        acc = self.inqueue.setdefault(job.inp.queue, {})
        for key, val in job.min_resources.items():
            acc[key] = acc.get(key, 0) + val
