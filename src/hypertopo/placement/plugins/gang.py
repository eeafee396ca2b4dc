"""The ``gang`` plugin: ``JobValid``, ``JobReady``, ``JobPipelined`` and their subjob forms.

A job whose configuration has no gang plugin (``enableJobReady`` off) is valid and ready
at once (Volcano's session defaults); its pods are then placed one per round.
"""

from __future__ import annotations

from hypertopo.placement.model import Job, SubJob


def job_valid(job: Job) -> str | None:
    """``JobValid``; returns the reason when it fails."""
    if not job.gang:
        return None
    if not job.check_task_valid():
        return "not enough valid pods of each task for gang-scheduling (minTaskMember)"
    if not job.check_subjob_valid():
        return "not enough valid subGroups for gang-scheduling (minSubGroups)"
    valid = job.valid_num()
    if valid < job.min_available:
        return f"not enough valid pods for gang-scheduling: {valid} pods, minAvailable {job.min_available}"
    return None


def job_ready(job: Job) -> bool:
    if not job.gang:
        return True
    return job.check_task_ready() and job.subjobs_condition(True) and job.is_ready()


def job_pipelined(job: Job) -> bool:
    if not job.gang:
        return True
    return job.check_task_pipelined() and job.subjobs_condition(False) and job.is_pipelined()


def subjob_ready(job: Job, sj: SubJob) -> bool:
    if not job.has_policy:
        return job_ready(job)
    return sj.is_ready() if job.gang else True


def subjob_pipelined(job: Job, sj: SubJob) -> bool:
    if not job.has_policy:
        return job_pipelined(job)
    return sj.is_pipelined() if job.gang else True
