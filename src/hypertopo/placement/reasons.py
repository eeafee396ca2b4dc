"""Why a job could not be placed: readable reasons from the engine's record of the attempt.

Each reason says which resource or GPU model is short in which HyperNode at which
tier, and which filter rejected how many nodes, e.g.::

    tier 1: no HyperNode has room for the gang: prefill-worker needs 64 pods on
    nodes matching gpu-type In [h100] (GPU model h100); ib-switch0 has 6 such nodes
    with room for 48, ib-switch1: 48, eth-switch2: 0 (0 nodes match), ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hypertopo.placement.model import PENDING, Job, Task
from hypertopo.placement.podspec import PodSpecInfo
from hypertopo.placement.quantity import format_resource
from hypertopo.placement.resources import fits
from hypertopo.placement.scheduler import Attempt, FitFailure, Scheduler
from hypertopo.topology.labels import natural_key

MAX_LISTED = 6


def gpu_model_of(spec: PodSpecInfo) -> str | None:
    """``h100 (gpu-type)`` from a node selector / required affinity on a GPU label."""
    for key, value in spec.node_selector.items():
        if "gpu" in key.lower():
            return f"{value} ({key})"
    for term in spec.required_terms or ():
        for req in term.expressions:
            if "gpu" in req.key.lower() and req.operator == "In":
                return f"{'|'.join(req.values)} ({req.key})"
    return None


def fmt_resources(res: Mapping[str, int]) -> str:
    return (
        ", ".join(f"{k}: {format_resource(k, v)}" for k, v in sorted(res.items()) if v and k != "pods")
        or "nothing"
    )


def room_for(sched: Scheduler, spec: PodSpecInfo, resreq: Mapping[str, int], hn: str) -> tuple[int, int]:
    """(matching nodes, pods of this template that still fit) in HyperNode ``hn``."""
    cluster = sched.cluster
    nodes = sched.pred.candidates(spec, hn)
    room = 0
    for i in nodes:
        free = cluster.future_idle(i)
        counts = [free.get(k, 0) // v for k, v in resreq.items() if v > 0]
        fit = min(counts) if counts else 0
        st = cluster.states[i]
        pods_left = sched.nodes[i].allocatable.get("pods", 0) - (len(st.pods) if st else 0)
        room += max(0, min(fit, pods_left))
    return len(nodes), room


def _listing(items: Sequence[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f", ... ({len(items) - MAX_LISTED} more)" if len(items) > MAX_LISTED else "")


def role_demand(job: Job) -> list[tuple[str, Task, int]]:
    """(role, a pending task of it, pods of the role the gang still needs)."""
    out = []
    by_role: dict[str, list[Task]] = {}
    for task in job.tasks:
        by_role.setdefault(task.role, []).append(task)
    missing_total = max(job.min_available - job.ready_num(), 0)
    for role, tasks in by_role.items():
        pending = [t for t in tasks if t.status == PENDING and not t.best_effort]
        if not pending:
            continue
        placed = sum(1 for t in tasks if t.status != PENDING)
        need = job.task_min.get(role)
        need = max(need - placed, 0) if need is not None and job.min_available >= job.task_min_total else None
        if need is None:
            need = min(len(pending), missing_total)
        if need:
            out.append((role, pending[0], need))
    return out


def job_reasons(sched: Scheduler, job: Job, attempt: Attempt | None) -> list[str]:
    reasons: list[str] = []
    tree = sched.tree
    if attempt is None:
        return ["the job was not attempted"]
    if attempt.no_gradient:
        reasons.append(attempt.no_gradient)
    topo = job.topology
    if topo is not None and topo.hard:
        reasons.append(
            f"network topology {topo.original.describe()} -> Volcano searches HyperNodes of tier <= "
            f"{topo.tier} "
            f"(tiers present: {', '.join(str(t) for t in tree.tiers)}; the virtual root is tier "
            f"{tree.max_tier})"
        )
    searched = {hn for grad in attempt.gradients for hn in grad}
    if topo is not None and topo.hard and topo.tier is not None:
        skipped = sorted(
            (hn for hn, info in tree.hypernodes.items() if info.tier <= topo.tier and hn not in searched),
            key=natural_key,
        )
        if skipped and job.min_resources:
            shorts = []
            for hn in skipped:
                idle = sched.cluster.hn_idle0[hn]
                lacking = [k for k, v in job.min_resources.items() if v > idle.get(k, 0) and k != "pods"]
                what = ", ".join(f"{k} {format_resource(k, idle.get(k, 0))} free" for k in lacking) or "pods"
                shorts.append(f"{hn} (tier {tree.tier(hn)}: {what})")
            reasons.append(
                f"idle-resource pre-filter: the PodGroup needs {fmt_resources(job.min_resources)} in one "
                "HyperNode; "
                f"too little idle in {_listing(shorts)}"
            )
    for grad in attempt.gradients:
        if not grad:
            continue
        tier = tree.tier(grad[0])
        parts = []
        for role, task, need in role_demand(job):
            spec = task.pod.spec
            found = []
            for hn in grad:
                matching, room = room_for(sched, spec, task.resreq, hn)
                found.append((room, matching, hn))
            found.sort(key=lambda x: (-x[0], -x[1], natural_key(x[2])))
            best = found[0][0] if found else 0
            rooms = [f"{hn}: room for {room} on {matching} matching nodes" for room, matching, hn in found]
            if best >= need:
                continue
            model = gpu_model_of(spec)
            label = f"role {role or job.inp.name}" + (f" (GPU model {model})" if model else "")
            fit = sched.pred.static_fit(spec)
            constraint = f" on nodes matching {fit.describe_affinity}" if fit.describe_affinity else ""
            parts.append(
                f"{label} needs {need} more pods of {fmt_resources(task.resreq)}{constraint}; "
                f"at most {best} fit in any tier-{tier} HyperNode ({_listing(rooms)})"
            )
        failed = [attempt.failures[hn] for hn in grad if hn in attempt.failures]
        failed.sort(key=lambda f: (-f.candidates, natural_key(f.hypernode)))
        if failed and parts:
            parts.append(_failure_detail(sched, failed[0]))
        if attempt.pipelined_only:
            parts.append(
                f"{_listing(attempt.pipelined_only)} only fit once releasing pods are gone (pipelined, not "
                "bound)"
            )
        if parts:
            reasons.append(f"tier {tier}: " + "; ".join(parts))
    if len(reasons) <= (1 if topo is not None and topo.hard else 0):
        reasons.append(_fallback(sched, job, attempt))
    return reasons


def _failure_detail(sched: Scheduler, failure: FitFailure) -> str:
    counts = dict(failure.dynamic)
    if failure.total > failure.candidates:
        for i in sched.tree.hypernodes[failure.hypernode].nodes:
            reason = sched.pred.static_reason(failure.task.pod.spec, i)
            if reason:
                counts[reason] = counts.get(reason, 0) + 1
    detail = ", ".join(f"{n} {r}" for r, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    where = "the cluster" if failure.hypernode == sched.tree.root else failure.hypernode
    return f"in {where} pod {failure.task.name} found no node among {failure.total}: {detail}"


def _fallback(sched: Scheduler, job: Job, attempt: Attempt) -> str:
    root = sched.tree.root
    parts = []
    failure = attempt.failures.get(root)
    if failure is not None:
        parts.append(_failure_detail(sched, failure))
    for role, task, need in role_demand(job):
        matching, room = room_for(sched, task.pod.spec, task.resreq, root)
        model = gpu_model_of(task.pod.spec)
        suffix = f" (GPU model {model})" if model else ""
        parts.append(
            f"role {role or job.inp.name}{suffix}: {need} more pods needed, room for {room} on {matching} "
            "matching nodes cluster-wide"
        )
    if not parts:
        return f"the gang (minAvailable {job.min_available}) could not be met"
    idle = sched.cluster.hn_idle0[root]
    if not fits(job.min_resources, idle):
        parts.append(
            f"cluster idle {fmt_resources(idle)} < PodGroup minResources {fmt_resources(job.min_resources)}"
        )
    return "; ".join(parts)
