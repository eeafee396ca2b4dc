"""The first session's view of the world (Volcano's cache snapshot and ``OpenSession``).

Pods already bound take their resources on their nodes; each job becomes a :class:`~.model.Job`
with one :class:`~.model.Task` per pod, in Volcano's task order (priority, pod index, then
task order for equal indices: creation time and UID in Volcano), and its network topology as
the session sees it (``highestTierName`` translated, soft turned into hard at the top tier).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hypertopo.placement.jobs import JobIn, NetworkTopology, PodIn
from hypertopo.placement.model import (
    ALLOCATED,
    PENDING,
    RELEASING,
    RUNNING,
    SUCCEEDED,
    UNKNOWN,
    Job,
    SubJob,
    Task,
    Topology,
    pod_index,
    subjob_for,
)
from hypertopo.placement.objects import PodObj
from hypertopo.placement.state import Cluster, PodOnNode
from hypertopo.placement.tree import Tree
from hypertopo.placement.world import World
from hypertopo.topology.labels import natural_key

#: Volcano statuses of bound pods that hold their node's resources (NodeInfo.AddTask)
_ON_NODE = (RUNNING, RELEASING, UNKNOWN)

#: a task order: (job position, pod index) -> task position -> rank among that index's pods
TaskOrder = Mapping[tuple[int, int], Mapping[int, int]]


def _effective(nt: NetworkTopology | None, tree: Tree, soft_tier: int) -> Topology | None:
    """``adjustNetworkTopologySpec``: translate highestTierName, then soft -> hard at ``soft_tier``."""
    if nt is None:
        return None
    tier = nt.tier
    if tier is None and nt.tier_name:
        tier = tree.tier_name_map.get(nt.tier_name)
    if nt.mode == "soft":
        return Topology(nt, "hard", soft_tier)
    return Topology(nt, nt.mode, tier)


def _existing_status(pod: PodObj) -> str | None:
    """Volcano v1.15.1 pkg/scheduler/api/helpers.go getTaskStatus: Succeeded and Failed by phase; a
    pod with a deletionTimestamp is Releasing (bound or not); a bound one Running (Bound); the rest
    Pending; phase Unknown is Unknown. Succeeded and Failed pods hold nothing on their node
    (cache/event_handlers.go addTask: ``isTerminated``); Succeeded counts for the gang, Failed does
    not (api/job_info.go ReadyTaskNum, ValidTaskNum); an Unknown pod holds its node's resources
    (NodeInfo.AddTask's default case) and counts for nothing."""
    if pod.phase == "Succeeded":
        return SUCCEEDED
    if pod.phase == "Failed":
        return "Failed"
    if pod.phase == "Unknown":
        return UNKNOWN
    if pod.terminating:
        return RELEASING
    if pod.node_name:
        return RUNNING
    return PENDING


def _role_rank(role_position: int, slot: tuple[int, int], order: TaskOrder | None) -> int:
    """Rank of a pod among the equal-index pods of its job's tasks (lower goes first): task
    order unless ``order`` says otherwise (creation time and UID decide in Volcano)."""
    if order is None:
        return role_position
    ranks = order.get(slot)
    return role_position if ranks is None else ranks.get(role_position, role_position)


def _known_order(pod: PodIn) -> tuple[str, str] | None:
    """``(creationTimestamp, uid)`` of a pod read from the cluster, which is how Volcano orders
    pods with the same index (``CompareTask``); None for a pod still to be created."""
    existing = pod.existing
    if existing is None or not existing.creation or existing.uid == f"{existing.namespace}/{existing.name}":
        return None
    return existing.creation, existing.uid


def exact_slots(job: JobIn) -> set[int | None]:
    """The pod indices of ``job`` whose pods all exist with a creation time and UID: their order
    is known (the rest is random in Volcano: creation time and UID are not chosen yet)."""
    known: dict[int | None, bool] = {}
    for pod in job.pods:
        index = pod_index(pod.name)
        known[index] = known.get(index, True) and _known_order(pod) is not None
    return {index for index, ok in known.items() if ok}


def job_priority(world: World, inp: JobIn) -> int | None:
    """The job's priority as Volcano's cache sets it (pkg/scheduler/cache/cache.go Snapshot,
    cloneJob: the value of the PriorityClass named by the PodGroup's spec.priorityClassName, else
    ``defaultPriority``: a globalDefault PriorityClass's value or 0). Without that PriorityClass in
    the input, the ``spec.priority`` of a given pod of that class (the Priority admission plugin
    resolved it); None when neither says (the default is used, and a warning says so)."""
    name = inp.priority_class
    if not name:
        return world.default_priority
    value = world.priority_classes.get(name)
    if value is not None:
        return value
    for pod in inp.pods:
        if pod.existing is not None and pod.existing.spec.priority_class_name == name:
            return pod.existing.spec.priority
    for other in world.pods:
        if other.spec.priority_class_name == name:
            return other.spec.priority
    return None


#: api/job_info.go TaskPriorityAnnotation
ANN_TASK_PRIORITY = "volcano.sh/task-priority"


def task_priority(world: World, inp: JobIn, pod: PodIn) -> int:
    """``TaskInfo.Priority`` (pkg/scheduler/api/job_info.go NewTaskInfo): the pod's spec.priority,
    or its ``volcano.sh/task-priority`` annotation. The Priority admission plugin sets spec.priority
    from the pod's priorityClassName (without one: a globalDefault class's value, else 0), and a
    Volcano Job's pod whose template names no class takes the job's (controllers/job/
    job_controller_util.go createJobPod): for pods still to be created, the engine does the same
    with the PriorityClasses given."""
    existing = pod.existing
    if existing is not None:
        raw = existing.annotations.get(ANN_TASK_PRIORITY)
        if raw is not None and raw.lstrip("-").isdigit():
            return int(raw)
        if existing.spec.priority:
            return existing.spec.priority
    name = pod.spec.priority_class_name or (inp.priority_class if inp.kind == "Job" else "")
    if name:
        value = world.priority_classes.get(name)
        return pod.spec.priority if value is None else value
    return pod.spec.priority or world.default_priority


def _admitted(inp: JobIn) -> bool:
    """Whether the job's PodGroup has already left phase Pending: some pod is bound, a Volcano
    Job has pods (its controller creates them once the PodGroup is Inqueue), or a PodGroup
    says so in ``status.phase``. New jobs go through the enqueue action first."""
    if any(p.existing is not None and p.existing.node_name for p in inp.pods):
        return True
    if inp.kind == "Job":
        return any(p.existing is not None for p in inp.pods)
    if inp.kind == "PodGroup":
        status = inp.raw.get("status")
        return isinstance(status, Mapping) and status.get("phase") in ("Inqueue", "Running", "Unknown")
    return False


def open_session(
    world: World, job_ins: Sequence[JobIn], task_order: TaskOrder | None = None
) -> tuple[Cluster, list[Job], list[str]]:
    """The first session's state: the cluster with the pods already bound, the jobs with their
    tasks in task order (``task_order`` overrides the order of equal-index pods of different
    tasks), their allocated HyperNodes recovered, and the warnings met on the way."""
    cluster = Cluster(world.nodes, world.tree, hn_alloc=world.hn_alloc)
    missing_nodes: list[str] = []  # "<pod> -> <node>" for pods bound to nodes not in the input
    _place_other_pods(world, job_ins, cluster, missing_nodes)
    jobs = [
        _job(world, position, inp, cluster, task_order, missing_nodes) for position, inp in enumerate(job_ins)
    ]
    warnings: list[str] = []
    if missing_nodes:
        more = f" and {len(missing_nodes) - 5} more" if len(missing_nodes) > 5 else ""
        warnings.append(
            f"{len(missing_nodes)} pod(s) bound to nodes that do not exist (deleted nodes whose pods are "
            "not yet garbage-collected) count as running where they are, holding nothing Volcano sees, and "
            f"are never placed again (as Volcano's cache keeps them): {', '.join(missing_nodes[:5])}{more}"
        )
    warnings.extend(not_ready_warnings(world, cluster))
    recover_allocated(jobs, world.tree)
    cluster.snapshot_session_open()
    return cluster, jobs, warnings


#: taints the node lifecycle controller puts on a NotReady node (TaintNodesByCondition and
#: taint-based eviction); Volcano's predicates read them through k8s TaintToleration
LIFECYCLE_TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")
#: NotReady nodes named one by one at most
MAX_NOT_READY_NAMED = 5


def not_ready_warnings(world: World, cluster: Cluster) -> list[str]:
    """One warning per node whose Ready condition is False or Unknown.

    Volcano v1.15.1 ignores node conditions: pkg/scheduler/api/node_info.go setNodeState sets
    every node with a Node object Ready ("ignore node conditions because of taint/toleration"), so
    cache.go Snapshot keeps it in the session. The pods bound there stay on it (event_handlers.go
    addTask, NodeInfo.AddTask): they hold its resources and count as running for their gangs;
    only its taints keep new pods off (predicates plugin: k8s TaintToleration filter). The engine
    does the same: a NotReady node is an ordinary node whose taints the predicates read."""
    out: list[str] = []
    flagged = [n for n in world.nodes if n.not_ready]
    for node in sorted(flagged, key=lambda n: natural_key(n.name))[:MAX_NOT_READY_NAMED]:
        state = cluster.states[node.index]
        pods = len(state.pods) if state is not None else 0
        lifecycle = [t for t in node.taints if t.key in LIFECYCLE_TAINTS and t.effect != "PreferNoSchedule"]
        if lifecycle:
            keeps = "its " + ", ".join(f"{t.key}:{t.effect}" for t in lifecycle) + " taint keeps new pods off"
        else:
            keeps = (
                "it has no node.kubernetes.io/not-ready or unreachable taint yet (the node lifecycle "
                "controller adds one), so new pods may still be placed there"
            )
        out.append(
            f"{node.name} is NotReady (Ready condition {node.not_ready}): Volcano v1.15.1 keeps it in the "
            "session (pkg/scheduler/api/node_info.go setNodeState ignores node conditions); its "
            f"{pods} pod(s) count as running and hold its resources; {keeps}"
        )
    if len(flagged) > MAX_NOT_READY_NAMED:
        out.append(f"{len(flagged) - MAX_NOT_READY_NAMED} more NotReady node(s), treated the same way")
    return out


def _place_other_pods(world: World, job_ins: Sequence[JobIn], cluster: Cluster, missing: list[str]) -> None:
    """Put the running and releasing pods that belong to none of ``job_ins`` on their nodes."""
    owned = {(p.namespace, p.name) for job in job_ins for p in job.pods}
    for pod in world.pods:
        if (pod.namespace, pod.name) in owned or not pod.node_name:
            continue
        status = _existing_status(pod)
        if status not in _ON_NODE:
            continue
        idx = world.index.by_name.get(pod.node_name)
        if idx is None:
            missing.append(f"{pod.namespace}/{pod.name} -> {pod.node_name}")
            continue
        cluster.place(
            idx,
            PodOnNode(f"{pod.namespace}/{pod.name}", pod.namespace, pod.labels, pod.spec),
            pod.spec.resreq,
            status,
        )


def _job(
    world: World,
    position: int,
    inp: JobIn,
    cluster: Cluster,
    task_order: TaskOrder | None,
    missing: list[str],
) -> Job:
    """The session's job for ``inp``: its subjobs, its tasks in order, its bound pods placed."""
    tree = world.tree
    conf = world.conf
    top_tier = tree.max_tier
    key = f"{inp.namespace}/{inp.podgroup}"
    topology = _effective(inp.topology, tree, top_tier)
    job = Job(
        inp=inp,
        position=position,
        key=key,
        min_available=inp.min_member,
        task_min=dict(inp.min_task_member),
        min_resources=inp.min_resources,
        topology=topology,
        gang=conf.gang,
        admitted=_admitted(inp),
    )
    priority = job_priority(world, inp)
    job.priority = world.default_priority if priority is None else priority
    for policy in inp.subgroups:
        job.min_subjobs[f"{key}/{policy.name}"] = policy.min_groups
    sub_tier = topology.tier if topology is not None and topology.tier is not None else top_tier
    default_topo = _effective(inp.topology, tree, sub_tier)
    job.subjobs[key] = SubJob(key, key, job, 1 if inp.subgroups else inp.min_member, 0, default_topo)
    exact = exact_slots(inp)
    for pod in inp.pods:
        task = Task(f"{pod.namespace}/{pod.name}", pod, job)
        task.priority = task_priority(world, inp, pod)
        index = pod_index(pod.name)
        prio = -task.priority if conf.priority_task_order else 0
        known = _known_order(pod) if index in exact else None
        task.order = (
            prio,
            index if index is not None else 1 << 30,
            (0, *known)
            if known is not None
            else (
                1,
                _role_rank(pod.role_position, (position, index if index is not None else -1), task_order),
            ),
            pod.name,
        )
        sj = subjob_for(job, pod)
        task.subjob = sj
        existing = pod.existing
        node_idx = None
        if existing is not None:
            task.status = _existing_status(existing) or PENDING
            if existing.node_name:
                node_idx = world.index.by_name.get(existing.node_name)
                if node_idx is None and task.status in _ON_NODE:
                    # Volcano v1.15.1 keeps a pod whose node has no Node object under a placeholder
                    # (pkg/scheduler/cache/event_handlers.go addTask: NewNodeInfo(nil), NotReady),
                    # which the snapshot leaves out (cache.go Snapshot: `if !value.Ready()`): the
                    # task stays Running in its job (the gang counts it), holds resources on no
                    # node Volcano sees, and is never placed again
                    missing.append(f"{task.key} -> {existing.node_name}")
        job.add_task(task)
        if node_idx is not None and task.status in _ON_NODE:
            cluster.place(node_idx, task.on_node, task.resreq, task.status)
            task.node = node_idx
            sj.count_on_node(node_idx, world.tree.node_hns[node_idx], 1)
    for sj in job.subjobs.values():
        if sj.uid != key and sj.topology is not None:
            sj.topology = _effective(sj.topology.original, tree, sub_tier)
    return job


def recover_allocated(jobs: Sequence[Job], tree: Tree, *, only_empty: bool = False) -> None:
    """``recoverAllocatedHyperNode``: for running subjobs, the lowest-tier HyperNode holding all their
    pods; the job's is the LCA of its subjobs'. ``only_empty``: keep the values already known (a
    running scheduler's memory); otherwise recover all (as after a scheduler restart)."""
    for job in jobs:
        if not job.contains_topology():
            continue
        updated = False
        for sj in job.subjobs.values():
            if not sj.with_topology or (only_empty and sj.allocated_hn):
                continue
            nodes = [t.node for t in sj.tasks if t.status in (RUNNING, ALLOCATED) and t.node is not None]
            if not nodes:
                continue
            holders = [
                hn
                for hn, info in tree.hypernodes.items()
                if all(info.node_set().__contains__(n) for n in nodes)
            ]
            if holders:
                sj.allocated_hn = min(holders, key=lambda h: (tree.tier(h), natural_key(h)))
                updated = True
        if only_empty and job.allocated_hn and not updated:
            continue
        lca = None
        for sj in job.subjobs.values():
            if sj.allocated_hn:
                lca = tree.lca(lca, sj.allocated_hn)
        job.allocated_hn = lca
