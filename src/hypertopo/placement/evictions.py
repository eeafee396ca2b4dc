"""Candidate victims of the ``preempt`` and ``reclaim`` actions, which the engine does not simulate.

When the scheduler configuration lists them, a job left pending by allocate may still get room
by evicting running pods, so the prediction may change. :func:`eviction_candidates` lists the
running pods Volcano v1.15.1 could evict for a pending job, on the nodes the job's pods may use
(node affinity, taints, unschedulable):

* ``preempt`` (pkg/scheduler/actions/preempt/preempt.go Execute): pods of *other jobs of the same
  queue* whose job priority is lower (plugins/priority/priority.go preemptableFn);
* ``reclaim`` (pkg/scheduler/actions/reclaim/reclaim.go Execute): pods of jobs of *other queues*,
  taken only from a queue above its deserved share (plugins/proportion reclaimableFn, not
  checked here);

neither for a job whose PodGroup is still Pending (not enqueued: both Execute skip
``job.IsPending()``), and preempt not for a job with a network topology ("jobs containing
networkTopology do not support preemption", preempt.go Execute); both take only Running/Bound
pods (api/helpers.go PreemptableStatus) of Volcano jobs (a pod of another scheduler belongs to
no job of the session), not annotated or labelled
``volcano.sh/preemptable: "false"`` (api/pod_info.go GetPodPreemptable), not in kube-system or
of a system-critical PriorityClass (plugins/conformance evictableFn), and only the pods a job
has beyond its minAvailable (plugins/gang/gang.go preemptableFn). Pods of jobs not in the input
are not examined.
"""

from __future__ import annotations

from typing import Any

from hypertopo.placement.model import PENDING, PIPELINED, RUNNING, Job, Task
from hypertopo.placement.session import Session
from hypertopo.topology.labels import natural_key

ACTIONS = ("preempt", "reclaim")
PREEMPTABLE = "volcano.sh/preemptable"
CRITICAL = ("system-cluster-critical", "system-node-critical")
#: candidates named in a job's warning at most
MAX_NAMED = 5


def configured(session: Session) -> list[str]:
    """The eviction actions the scheduler configuration lists."""
    return [a for a in ACTIONS if a in session.world.conf.actions]


def usable_actions(session: Session, job: Job) -> list[str]:
    """The configured eviction actions that consider ``job`` (see the module docs)."""
    if not job.admitted:
        return []
    return [a for a in configured(session) if not (a == "preempt" and job.contains_topology())]


def _preemptable(task: Task) -> bool:
    existing = task.pod.existing
    for source in (existing.annotations if existing is not None else {}, task.pod.labels):
        value = source.get(PREEMPTABLE)
        if value is not None:
            return value.strip().lower() in ("1", "t", "true")  # Go's strconv.ParseBool
    return True


def _conformant(task: Task) -> bool:
    return task.pod.namespace != "kube-system" and task.pod.spec.priority_class_name not in CRITICAL


def eviction_candidates(session: Session, job: Job) -> list[dict[str, Any]]:
    """The running pods the configured preempt/reclaim actions could evict for ``job``'s pending
    pods (see the module docs), each ``{"pod", "node", "leaf", "job", "priority", "queue",
    "action"}``; empty when neither action is configured."""
    actions = usable_actions(session, job)
    if not actions:
        return []
    world = session.world
    pred = session.sched.pred
    usable: set[int] = set()
    seen: set[int] = set()
    for task in job.tasks:
        if task.status in (PENDING, PIPELINED) and id(task.pod.spec) not in seen:
            seen.add(id(task.pod.spec))
            usable.update(pred.static_fit(task.pod.spec).feasible)
    out: list[dict[str, Any]] = []
    for other in session.jobs:
        if other is job:
            continue
        same_queue = other.inp.queue == job.inp.queue
        if same_queue and "preempt" in actions and other.priority < job.priority:
            action = "preempt"
        elif not same_queue and "reclaim" in actions:
            action = "reclaim"
        else:
            continue
        surplus = other.ready_num() - other.min_available if other.gang else len(other.tasks)
        victims = [
            t
            for t in other.tasks
            if t.status == RUNNING and t.node in usable and _preemptable(t) and _conformant(t)
        ]
        for task in victims[: max(surplus, 0)]:
            assert task.node is not None
            out.append(
                {
                    "pod": task.key,
                    "node": world.nodes[task.node].name,
                    "leaf": world.tree.node_leaf[task.node],
                    "job": other.key,
                    "priority": other.priority,
                    "queue": other.inp.queue,
                    "action": action,
                }
            )
    out.sort(key=lambda c: (c["action"], c["priority"], natural_key(c["pod"])))
    return out


def eviction_warning(session: Session, job: Job, candidates: list[dict[str, Any]]) -> str | None:
    """The warning of a pending ``job`` when preempt or reclaim is configured (None otherwise)."""
    actions = configured(session)
    if not actions:
        return None
    names = " and ".join(actions)
    usable = usable_actions(session, job)
    if not usable:
        why = (
            "its PodGroup is still Pending (not enqueued), which Execute skips (job.IsPending())"
            if not job.admitted
            else 'it has a network topology: "jobs containing networkTopology do not support preemption"'
        )
        files = ", ".join(f"{a}/{a}.go" for a in actions)
        return (
            f"{names} configured but not simulated; it would not act for this job: {why} (Volcano v1.15.1 "
            f"pkg/scheduler/actions/{files} Execute)"
        )
    head = (
        f"{names} configured but not simulated (Volcano v1.15.1 pkg/scheduler/actions/"
        + ", ".join(f"{a}/{a}.go" for a in actions)
        + ")"
    )
    rules = []
    if "preempt" in usable:
        queue = job.inp.queue
        rules.append(f"preempt: pods of lower-priority jobs of queue {queue} (this job: {job.priority})")
    if "preempt" in actions and "preempt" not in usable:
        rules.append("not preempt: this job has a network topology, which preemption does not support")
    if "reclaim" in usable:
        rules.append("reclaim: pods of other queues above their deserved share")
    if not candidates:
        return (
            f"{head}: no running pod on the nodes this job may use can be evicted for it "
            f"({'; '.join(rules)}; only pods beyond their job's minAvailable): no change to this outcome"
        )
    shown = ", ".join(
        f"{c['pod']} on {c['node']} ({c['action']}, {c['leaf'] or 'no leaf'}, priority {c['priority']})"
        for c in candidates[:MAX_NAMED]
    )
    more = f" and {len(candidates) - MAX_NAMED} more" if len(candidates) > MAX_NAMED else ""
    return (
        f"{head}: they may evict running pods for this job and change the outcome ({'; '.join(rules)}; only "
        f"pods beyond their job's minAvailable); candidate victims: {shown}{more}"
    )
