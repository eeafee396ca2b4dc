"""Per tier and candidate HyperNode: what a pending gang needs against what is free, and why nodes
are excluded (the diagnosis half of ``explain``, :mod:`.explain`).

Everything is read from the engine's own state after its simulated sessions (so "free" is what is
left once every other job of the input has been placed as predicted) and decided by the
engine's own filters: the stable predicates (:meth:`.plugins.predicates.Predicates.static_fit`,
``static_reason``: node affinity and selector, taints, unschedulable) and the per-node ones
(``dynamic_reason``: resources, pod count, host ports, pod affinity). The demand per role is the
one the engine's reasons use (:func:`.reasons.role_demand`). A required-affinity exclusion is
refined to the first requirement the node fails (``gpu-type In [h100]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hypertopo.placement.model import Job, Task
from hypertopo.placement.plugins.predicates import R_AFFINITY
from hypertopo.placement.quantity import format_resource
from hypertopo.placement.reasons import gpu_model_of, role_demand
from hypertopo.placement.resources import fits
from hypertopo.placement.scheduler import Scheduler
from hypertopo.topology.labels import GPU_RESOURCE, natural_key

GPU_UNIT = 1000  # Volcano keeps scalar resources in thousandths


@dataclass(frozen=True, slots=True)
class Demand:
    """A role of the gang: a pending task of it (its template) and the pods still needed."""

    role: str  # the task's name (the job's name for a Deployment's or PodGroup's pods)
    task: Task
    pods: int
    model: str | None  # the GPU model its required affinity asks for (``h100``), if any

    @property
    def replicas(self) -> int:
        """The pods of this role in the job."""
        return sum(1 for t in self.task.job.tasks if t.role == self.task.role)

    @property
    def gpus(self) -> int:
        return self.pods * self.task.resreq.get(GPU_RESOURCE, 0) // GPU_UNIT

    def need(self) -> dict[str, Any]:
        req = self.task.resreq
        out: dict[str, Any] = {"pods": self.pods, "gpus": self.gpus, "gpu_model": self.model}
        for key in ("cpu", "memory"):
            out[key] = format_resource(key, self.pods * req.get(key, 0))
        return out


@dataclass(frozen=True, slots=True)
class Partitions:
    """A task's ``partitionPolicy`` with a hard tier: ``count`` partitions of ``size`` pods still
    needed, each within one HyperNode of tier <= ``tier``."""

    count: int
    size: int
    tier: int


def partitions_of(job: Job, demand: Demand) -> Partitions | None:
    for policy in job.inp.subgroups:
        topo = policy.topology
        if policy.name != demand.role or topo is None or topo.mode != "hard" or topo.tier is None:
            continue
        size = max(policy.size, 1)
        return Partitions(-(-demand.pods // size), size, topo.tier)
    return None


def partition_domains(tree: Any, hypernode: str, tier: int) -> list[str]:
    """The largest HyperNodes of tier <= ``tier`` within ``hypernode`` (itself when it qualifies)."""
    out = []
    stack = [hypernode]
    while stack:
        name = stack.pop()
        if tree.tier(name) <= tier:
            out.append(name)
        else:
            stack.extend(tree.hypernodes[name].children)
    return out


@dataclass(slots=True)
class RoleFit:
    """One role over the nodes of one HyperNode."""

    room: int = 0  # pods of the role's template that still fit
    nodes: int = 0  # nodes passing every filter for one pod
    gpus: int = 0  # free GPUs on those nodes
    excluded: dict[str, int] = field(default_factory=dict)


def demands(job: Job, gpu_label: str) -> list[Demand]:
    out = []
    for role, task, pods in role_demand(job):
        model = _model_value(task, gpu_label)
        out.append(Demand(role or job.inp.name, task, pods, model))
    return out


def _model_value(task: Task, gpu_label: str) -> str | None:
    spec = task.pod.spec
    if gpu_label in spec.node_selector:
        return spec.node_selector[gpu_label]
    for term in spec.required_terms or ():
        for req in term.expressions:
            if req.key == gpu_label and req.operator == "In":
                return "|".join(req.values)
    described = gpu_model_of(spec)
    return described.split(" ", 1)[0] if described else None


def affinity_detail(task: Task, labels: Mapping[str, str]) -> str:
    """The first node-selector entry or required-affinity requirement ``labels`` fail."""
    spec = task.pod.spec
    for key, value in spec.node_selector.items():
        if labels.get(key) != value:
            return f"nodeSelector {key}={value}"
    terms = spec.required_terms or ()
    if len(terms) == 1:
        for req in terms[0].expressions:
            if not req.matches(labels):
                return f"required affinity {req.describe()}"
    return R_AFFINITY


class NodeFits:
    """Per role and node: pods that fit, or why none does (computed once, summed per HyperNode)."""

    def __init__(self, sched: Scheduler, job: Job, roles: list[Demand]) -> None:
        self.sched = sched
        self.job = job
        self.roles = roles
        self._per_role: list[list[tuple[int, int, str | None]]] = [self._compute(d) for d in roles]

    def _compute(self, demand: Demand) -> list[tuple[int, int, str | None]]:
        sched = self.sched
        pred = sched.pred
        cluster = sched.cluster
        task = demand.task
        spec = task.pod.spec
        resreq = task.resreq
        fit = pred.static_fit(spec)
        ctx = pred.affinity_context(spec, task.pod.namespace, task.pod.labels)
        out: list[tuple[int, int, str | None]] = []
        for node in sched.nodes:
            i = node.index
            if i not in fit.feasible_set:
                reason = pred.static_reason(spec, i) or R_AFFINITY
                if reason == R_AFFINITY:
                    reason = affinity_detail(task, node.labels)
                out.append((0, 0, reason))
                continue
            dynamic = pred.dynamic_reason(spec, resreq, i, ctx)
            if dynamic is not None:
                out.append((0, 0, dynamic))
                continue
            free = cluster.future_idle(i)
            counts = [free.get(k, 0) // v for k, v in resreq.items() if v > 0 and k != "pods"]
            state = cluster.states[i]
            slots = node.allocatable.get("pods", 0) - (len(state.pods) if state else 0)
            room = max(0, min([*counts, slots]) if counts else slots)
            out.append((room, free.get(GPU_RESOURCE, 0) // GPU_UNIT, None))
        return out

    def role_fit(self, k: int, hypernode: str) -> RoleFit:
        per_node = self._per_role[k]
        fit = RoleFit()
        for i in self.sched.tree.hypernodes[hypernode].nodes:
            room, gpus, reason = per_node[i]
            if reason is not None:
                fit.excluded[reason] = fit.excluded.get(reason, 0) + 1
                continue
            fit.room += room
            fit.nodes += 1
            fit.gpus += gpus
        return fit


def free_in(sched: Scheduler, hypernode: str, gpu_label: str) -> dict[str, Any]:
    """Free resources on every node of ``hypernode``: GPUs by model (the nodes' ``gpu_label``),
    CPU, memory and pod slots."""
    cluster = sched.cluster
    gpus: dict[str, int] = {}
    cpu = memory = slots = 0
    for i in sched.tree.hypernodes[hypernode].nodes:
        node = sched.nodes[i]
        free = cluster.future_idle(i)
        gpu = free.get(GPU_RESOURCE, 0) // GPU_UNIT
        if gpu:
            model = node.labels.get(gpu_label, "(unlabelled)")
            gpus[model] = gpus.get(model, 0) + gpu
        cpu += free.get("cpu", 0)
        memory += free.get("memory", 0)
        state = cluster.states[i]
        slots += node.allocatable.get("pods", 0) - (len(state.pods) if state else 0)
    return {
        "gpus": dict(sorted(gpus.items())),
        "cpu": format_resource("cpu", cpu),
        "memory": format_resource("memory", memory),
        "pods": slots,
    }


def allowed_tier(sched: Scheduler, job: Job) -> int:
    """The highest tier the job may be placed in: its hard tier (soft is hard at the top since
    Volcano 1.14.3), else the virtual root's."""
    topo = job.topology
    if topo is not None and topo.hard and topo.tier is not None:
        return min(topo.tier, sched.tree.max_tier)
    return sched.tree.max_tier


def candidate(sched: Scheduler, job: Job, fits_: NodeFits, hypernode: str, gpu_label: str) -> dict[str, Any]:
    """One HyperNode: need, free, eligible, short and the exclusions per reason."""
    tree = sched.tree
    need_tasks: dict[str, Any] = {}
    free_tasks: dict[str, Any] = {}
    short_tasks: dict[str, Any] = {}
    excluded: dict[str, int] = {}
    gpus_need: dict[str, int] = {}
    several = len(fits_.roles) > 1
    for k, demand in enumerate(fits_.roles):
        fit = fits_.role_fit(k, hypernode)
        need_tasks[demand.role] = demand.need()
        if demand.model and demand.gpus:
            gpus_need[demand.model] = gpus_need.get(demand.model, 0) + demand.gpus
        free_tasks[demand.role] = {"pods": fit.room, "nodes": fit.nodes, "gpus": fit.gpus}
        parts = partitions_of(job, demand)
        missing_parts = 0
        if parts is not None:
            domains = partition_domains(tree, hypernode, parts.tier)
            room = sum(fits_.role_fit(k, d).room // parts.size for d in domains)
            need_tasks[demand.role]["partitions"] = {
                "count": parts.count,
                "size": parts.size,
                "tier": parts.tier,
            }
            free_tasks[demand.role]["partitions"] = room
            missing_parts = max(parts.count - room, 0)
        if fit.room < demand.pods or missing_parts:
            missing = max(demand.pods - fit.room, 0)
            per_pod = demand.task.resreq.get(GPU_RESOURCE, 0) // GPU_UNIT
            short_tasks[demand.role] = {"pods": missing, "gpus": missing * per_pod, "gpu_model": demand.model}
            if missing_parts:
                short_tasks[demand.role]["partitions"] = missing_parts
        for reason, count in fit.excluded.items():
            key = f"{demand.role}: {reason}" if several else reason
            excluded[key] = excluded.get(key, 0) + count
    short: dict[str, Any] = {}
    if short_tasks:
        short["tasks"] = short_tasks
        by_model: dict[str, int] = {}
        for item in short_tasks.values():
            if item["gpus"]:
                model = item["gpu_model"] or "any"
                by_model[model] = by_model.get(model, 0) + item["gpus"]
        if by_model:
            short["gpus"] = by_model
    prefilter = fits(job.min_resources, sched.cluster.hn_idle0.get(hypernode, {})) or fits(
        job.min_resources, sched.cluster.hn_future0.get(hypernode, {})
    )
    if not prefilter and job.topology is not None and job.topology.hard:
        short["min_resources"] = "the PodGroup's minResources exceed the idle resources at session open"
    return {
        "hypernode": hypernode,
        "tier": tree.tier(hypernode),
        "eligible": not short,
        "need": {"gpus": gpus_need, "tasks": need_tasks},
        "free": {**free_in(sched, hypernode, gpu_label), "tasks": free_tasks},
        "short": short,
        "excluded": dict(sorted(excluded.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def diagnose(sched: Scheduler, job: Job, gpu_label: str) -> list[dict[str, Any]]:
    """``[{"tier", "candidates": [...]}]`` for every tier up to the job's allowed one."""
    roles = demands(job, gpu_label)
    if not roles:
        return []
    fits_ = NodeFits(sched, job, roles)
    tree = sched.tree
    top = allowed_tier(sched, job)
    out = []
    for tier in tree.tiers:
        if tier > top:
            break
        names = sorted((n for n, hn in tree.hypernodes.items() if hn.tier == tier), key=natural_key)
        rows = [candidate(sched, job, fits_, name, gpu_label) for name in names]
        rows.sort(key=lambda r: (not r["eligible"], _shortfall(r), natural_key(r["hypernode"])))
        out.append({"tier": tier, "candidates": rows})
    return out


def _shortfall(row: Mapping[str, Any]) -> int:
    return sum(item["pods"] for item in row["short"].get("tasks", {}).values())
