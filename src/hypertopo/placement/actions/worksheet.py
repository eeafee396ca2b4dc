"""The allocate action's worksheets (``organizeJobWorksheet``): what each job and subjob still has to place.

A :class:`JobSheet` queues the job's subjobs with pending tasks; each :class:`SubJobSheet`
walks its subjob's pending tasks in task order. Dry runs work on clones.
"""

from __future__ import annotations

from typing import Any

from hypertopo.placement.model import PENDING, Job, SubJob, Task
from hypertopo.placement.plugins import gang
from hypertopo.placement.scheduler import Scheduler


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


def remaining_shapes(sched: Scheduler, sheet: SubJobSheet) -> list[tuple[Task, int]]:
    """The sheet's remaining tasks by pod spec, in task order: the first task of each spec and how
    many there are (memoised for the session in ``Scheduler.task_specs``)."""
    key = (id(sheet.tasks), sheet.pos)
    got = sched.task_specs.get(key)
    if got is None:
        by_spec: dict[int, list[Any]] = {}
        for task in sheet.tasks[sheet.pos :]:
            entry = by_spec.get(id(task.pod.spec))
            if entry is None:
                by_spec[id(task.pod.spec)] = [task, 1]
            else:
                entry[1] += 1
        got = sched.task_specs[key] = [(task, count) for task, count in by_spec.values()]
    return got


def organize(sched: Scheduler, job: Job) -> JobSheet:
    """``organizeJobWorksheet``: the subjobs with pending tasks (best-effort ones are backfill's)."""
    not_ready = [sj for sj in job.subjobs.values() if not gang.subjob_ready(job, sj)]
    counted: dict[str, int] = {}
    for sj in job.subjobs.values():
        if gang.subjob_ready(job, sj):
            counted[sj.gid] = counted.get(sj.gid, 0) + 1
    not_ready.sort(key=sched.subjob_key)
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


def pop_subjob(sched: Scheduler, sheet: JobSheet) -> SubJob:
    """The next subjob to allocate: those the ``minSubGroups`` need first, then ``SubJobOrderFn``."""
    best = min(sheet.queued, key=lambda sj: (sj.uid not in sheet.required, *sched.subjob_key(sj)))
    sheet.queued.remove(best)
    return best
