"""Public entry point: :func:`predict`.

Inputs are plain dicts as returned by the Kubernetes API or read from YAML. Each
argument may be a list of objects, a ``kind: List``/``*List`` (``items``), a
``kubernetes.core.k8s_info`` result (``resources``) or a single object.

Jobs are placed in the given order within one simulated scheduling session, so
later jobs see earlier placements (in one session the gradient pre-filter keeps
using the HyperNode idle resources of the session start, as Volcano does). Pods
left pending are tried again in further sessions, as vc-scheduler opens one every
``--schedule-period`` (the allocated HyperNodes kept in memory, pipelined pods
pending again), until a session places nothing (at most ``MAX_SESSIONS``).

Known deviations from Volcano v1.15.1:

* queues: the ``enqueue`` action is simulated with the proportion plugin's check for
  queues without capability or guarantee (a new job is admitted while its
  minResources plus what the queue's jobs hold or reserve fit the cluster's
  allocatable); queue capability/guarantee, the capacity/overcommit plugins and the
  queue order are not; jobs are ordered by the priority, gang and drf job-order
  plugins, then by the given order (Volcano: creation time, then UID); a job counts as
  admitted when some pod is bound, a Volcano Job when its pods exist;
* where Volcano is random the engine is deterministic and reports it: equal scores
  go to the first HyperNode/node in natural name order (``ties``); equal-index pods
  of different tasks are taken in task order (Volcano: creation time, then UID; pods
  read from the cluster are taken in that exact order and are not replayed), and
  the session is replayed with other orders: a job whose outcome then changes gets a
  ``task-order`` tie listing the outcomes; likewise the other choices at HyperNode-level
  ties are followed (``choices`` ties); both within a replay budget that skips them on
  very large inputs (``choice_replays`` says how far the choices were followed; the two
  kinds of randomness are not combined);
  ``PredicateNodes`` sampling in HyperNodes of more than 100 nodes is emulated with
  a rotating start over the input order (a warning names where it cut nodes);
* not simulated: PodTopologySpread (explicit constraints and the default spreading
  of Deployment/StatefulSet pods), volume/CSI/DRA filters, NUMA and shared-device
  plugins, preemption/reclaim and their nominations, scheduling gates;
* a job with pods already running gets its allocated HyperNode recovered from
  their nodes, as after a scheduler restart (a long-running scheduler keeps the
  in-memory value, which can be a higher-tier HyperNode);
* HyperNode members naming missing HyperNodes are ignored (Volcano adds an empty
  tier-0 placeholder); with two parents or a cycle, jobs with a topology stay
  Pending as in Volcano and the others are scored on a best-effort tree;
* Deployment/StatefulSet pods are named ``<name>-<index>``; a node without
  ``pods`` allocatable gets kubelet's default 110.
"""

from __future__ import annotations

import gc
import itertools
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypertopo.placement.allocate import Allocator, Op
from hypertopo.placement.conf import SchedulerConf, parse_scheduler_conf
from hypertopo.placement.errors import PlacementInputError
from hypertopo.placement.index import NodeIndex, natural_key
from hypertopo.placement.jobs import JobIn, NetworkTopology, PodIn, parse_job, simple_affinity
from hypertopo.placement.model import (
    ALLOCATED,
    PENDING,
    PIPELINED,
    RELEASING,
    RUNNING,
    SUCCEEDED,
    Job,
    SubJob,
    Task,
    Topology,
    pod_index,
    subjob_for,
)
from hypertopo.placement.netcost import (
    NetworkModel,
    PairClassifier,
    ethernet_fraction,
    network_model_from,
    pair_summary,
    pd_role,
    role_network,
)
from hypertopo.placement.objects import HyperNodeObj, Node, PodObj, parse_hypernode, parse_node, parse_pod
from hypertopo.placement.predicates import Predicates
from hypertopo.placement.reasons import job_reasons
from hypertopo.placement.scores import Scorer
from hypertopo.placement.state import Cluster, PodOnNode
from hypertopo.placement.tree import VIRTUAL_ROOT, Tree

NTA_DISABLED = "network-topology-aware not enabled: constraints silently ignored"
CONF_KEY = "volcano-scheduler.conf"
DEFAULT_BASELINE_SAMPLES = 16
#: With ``baseline_samples=None`` the random-tie-break runs stop within about this many seconds.
BASELINE_BUDGET_S = 3.0


# --------------------------------------------------------------------------- input shapes


def as_objects(value: Any, what: str) -> list[Any]:
    """Flatten lists, ``*List`` objects and ``k8s_info`` results into a list of objects."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        if isinstance(value.get("resources"), list) and "kind" not in value:
            return as_objects(value["resources"], what)
        kind = value.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and "items" in value:
            items = value.get("items")
            if not isinstance(items, list):
                raise PlacementInputError(f"{what}: {kind}.items must be a list")
            return as_objects(items, what)
        return [value]
    if type(value) is list and all(
        type(item) is dict and "resources" not in item and "items" not in item for item in value
    ):
        return value
    if isinstance(value, list | tuple):
        out: list[Any] = []
        for item in value:
            if (
                isinstance(item, Mapping)
                and (
                    ("resources" in item and "kind" not in item) or str(item.get("kind", "")).endswith("List")
                )
            ) or isinstance(item, list | tuple):
                out.extend(as_objects(item, what))
            else:
                out.append(item)
        return out
    raise PlacementInputError(
        f"{what}: expected a list of objects, a List or a k8s_info result, got {type(value).__name__}"
    )


def _check_kind(objs: Sequence[Any], kind: str, what: str) -> None:
    if all(type(obj) is dict and obj.get("kind", kind) == kind for obj in objs):
        return
    for i, obj in enumerate(objs):
        if isinstance(obj, Mapping) and obj.get("kind") not in (None, kind):
            name = (
                (obj.get("metadata") or {}).get("name") if isinstance(obj.get("metadata"), Mapping) else None
            )
            raise PlacementInputError(f"{what}[{i}] ({obj.get('kind')} {name or '?'}): kind: expected {kind}")


def coerce_scheduler_conf(value: Any) -> dict[str, Any] | None:
    """A scheduler conf from a mapping, YAML text, ConfigMap or ``k8s_info`` result (None: the default)."""
    from hypertopo.rollout.scheduler_config import SchedulerConfError, parse_conf

    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, Mapping) and isinstance(value.get("resources"), list) and "kind" not in value:
        if not value["resources"]:
            return None
        value = value["resources"][0]
    if isinstance(value, Mapping) and (value.get("kind") == "ConfigMap" or "data" in value):
        value = (value.get("data") or {}).get(CONF_KEY)
        if not isinstance(value, str):
            raise PlacementInputError(f"scheduler conf: ConfigMap has no data.{CONF_KEY}")
    if isinstance(value, str):
        try:
            parsed = parse_conf(value)
        except SchedulerConfError as exc:
            raise PlacementInputError(f"scheduler conf: {exc}") from None
        return parsed
    if isinstance(value, Mapping):
        return dict(value)
    raise PlacementInputError(
        f"scheduler conf: expected a mapping, YAML text or ConfigMap, got {type(value).__name__}"
    )


# --------------------------------------------------------------------------- the static world


@dataclass(slots=True)
class World:
    nodes: list[Node]
    index: NodeIndex
    tree: Tree
    pods: list[PodObj]
    conf: SchedulerConf
    network: NetworkModel
    hn_alloc: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def default_scheduler_conf() -> dict[str, Any]:
    """The project's scheduler configuration (the scheduler_config role's defaults)."""
    from hypertopo.rollout.scheduler_config import default_conf_from_role

    return default_conf_from_role()


def build_world(
    nodes: Any,
    hypernodes: Any,
    pods: Any,
    scheduler_conf: Mapping[str, Any] | None,
    network: Mapping[str, Any] | None,
    kv_model: Mapping[str, Any] | None,
) -> World:
    node_objs = as_objects(nodes, "nodes")
    _check_kind(node_objs, "Node", "nodes")
    parsed_nodes = [parse_node(obj, i) for i, obj in enumerate(node_objs)]
    seen: set[str] = set()
    for node in parsed_nodes:
        if node.name in seen:
            raise PlacementInputError(f"Node {node.name}: metadata.name: duplicate node name")
        seen.add(node.name)
    hn_objs = as_objects(hypernodes, "hypernodes")
    _check_kind(hn_objs, "HyperNode", "hypernodes")
    parsed_hns: list[HyperNodeObj] = [parse_hypernode(obj, i) for i, obj in enumerate(hn_objs)]
    pod_objs = as_objects(pods, "pods")
    _check_kind(pod_objs, "Pod", "pods")
    parsed_pods = [parse_pod(obj, i) for i, obj in enumerate(pod_objs)]
    index = NodeIndex(parsed_nodes)
    tree = Tree(parsed_hns, parsed_nodes, index)
    warnings = list(tree.warnings)
    if scheduler_conf is None:
        try:
            scheduler_conf = default_scheduler_conf()
        except (
            OSError,
            ImportError,
            KeyError,
            ValueError,
        ) as exc:  # pragma: no cover - role defaults missing
            raise PlacementInputError(f"scheduler conf: cannot read the project default ({exc})") from None
    conf = parse_scheduler_conf(scheduler_conf)
    warnings.extend(conf.warnings)
    if not conf.nta.enabled:
        warnings.append(NTA_DISABLED)
    model = network_model_from(network, kv_model)
    world = World(parsed_nodes, index, tree, parsed_pods, conf, model, warnings=warnings)
    world.hn_alloc = Cluster(parsed_nodes, tree).hn_alloc
    return world


# --------------------------------------------------------------------------- one simulated session


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
    if pod.phase == "Succeeded":
        return SUCCEEDED
    if pod.phase == "Failed":
        return "Failed"
    if pod.node_name:
        return RELEASING if pod.terminating else RUNNING
    return PENDING


@dataclass(slots=True)
class Session:
    world: World
    cluster: Cluster
    alloc: Allocator
    jobs: list[Job]
    skip: dict[str, str]
    warnings: list[str]
    sessions: int = 1


#: scheduling sessions simulated at most (each later one must place a pod, or the run stops)
MAX_SESSIONS = 16

#: replays of the session that look for other outcomes (:func:`task_order_ties`,
#: :func:`hypernode_choices`): at most ``MAX_REPLAYS`` each, and at most ``REPLAY_BUDGET``
#: divided by a replay's cost in nodes + predicate evaluations of the first session (so
#: every replay is skipped on very large inputs; the results do not depend on the machine)
MAX_REPLAYS = 64
REPLAY_BUDGET = 20_000
CHOICES_REASON = (
    "Volcano picks at random among HyperNodes with equal scores; other choices at this session's "
    "HyperNode-level ties give other placements"
)

TASK_ORDER_REASON = (
    "Volcano orders pods of different tasks with the same index by creation time (whole seconds), "
    "then by UID, i.e. at random; another order gives another placement"
)

#: a task order: (job position, pod index) -> task position -> rank among that index's pods
TaskOrder = Mapping[tuple[int, int], Mapping[int, int]]


def _role_rank(role_position: int, slot: tuple[int, int], order: TaskOrder | None) -> int:
    """Rank of a pod among the equal-index pods of its job's tasks (lower goes first): task
    order unless ``order`` says otherwise (creation time and UID decide in Volcano)."""
    if order is None:
        return role_position
    ranks = order.get(slot)
    return role_position if ranks is None else ranks.get(role_position, role_position)


def run_session(
    world: World,
    job_ins: Sequence[JobIn],
    rng: random.Random | None = None,
    task_order: TaskOrder | None = None,
    hn_script: Mapping[int, str] | None = None,
) -> Session:
    tree = world.tree
    conf = world.conf
    cluster = Cluster(world.nodes, tree, hn_alloc=world.hn_alloc)
    warnings: list[str] = []
    owned = {(p.namespace, p.name) for job in job_ins for p in job.pods}
    missing_nodes: list[str] = []
    for pod in world.pods:
        if (pod.namespace, pod.name) in owned or not pod.node_name:
            continue
        status = _existing_status(pod)
        if status not in (RUNNING, RELEASING):
            continue
        idx = world.index.by_name.get(pod.node_name)
        if idx is None:
            missing_nodes.append(f"{pod.namespace}/{pod.name} -> {pod.node_name}")
            continue
        cluster.place(
            idx,
            PodOnNode(f"{pod.namespace}/{pod.name}", pod.namespace, pod.labels, pod.spec),
            pod.spec.resreq,
            status,
        )
    top_tier = tree.max_tier
    jobs: list[Job] = []
    for position, inp in enumerate(job_ins):
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
        for policy in inp.subgroups:
            job.min_subjobs[f"{key}/{policy.name}"] = policy.min_groups
        sub_tier = topology.tier if topology is not None and topology.tier is not None else top_tier
        default_topo = _effective(inp.topology, tree, sub_tier)
        job.subjobs[key] = SubJob(key, key, job, 1 if inp.subgroups else inp.min_member, 0, default_topo)
        exact = _exact_slots(inp)
        for pod in inp.pods:
            task = Task(f"{pod.namespace}/{pod.name}", pod, job)
            index = pod_index(pod.name)
            prio = -pod.spec.priority if conf.priority_task_order else 0
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
                    if node_idx is None and task.status in (RUNNING, RELEASING):
                        missing_nodes.append(f"{task.key} -> {existing.node_name}")
                        task.status = PENDING
            job.add_task(task)
            if node_idx is not None and task.status in (RUNNING, RELEASING):
                cluster.place(node_idx, task.on_node, task.resreq, task.status)
                task.node = node_idx
                sj.node_counts[node_idx] = sj.node_counts.get(node_idx, 0) + 1
        for sj in job.subjobs.values():
            if sj.uid != key and sj.topology is not None:
                sj.topology = _effective(sj.topology.original, tree, sub_tier)
        jobs.append(job)
    if missing_nodes:
        warnings.append(
            f"pods bound to nodes that are not in the input (ignored): {', '.join(missing_nodes[:5])}"
        )
    _recover_allocated(jobs, tree)
    cluster.snapshot_session_open()
    predicates = Predicates(world.nodes, world.index, tree, cluster, conf.predicates)
    scorer = Scorer(conf, cluster, tree, world.nodes)
    alloc = Allocator(conf, tree, world.nodes, cluster, predicates, scorer, rng)
    alloc.hn_script = hn_script or {}
    alloc.record_decisions = len(world.nodes) < REPLAY_BUDGET  # else no replay is affordable
    skip: dict[str, str] = {}
    alloc.run(jobs, skip)
    placed = _allocated(jobs)
    sessions = 1
    # vc-scheduler opens a session every --schedule-period: pods left pending (a subjob
    # dropped from the worksheet, extra replicas, tasks that failed predicates) are tried
    # again with what the earlier sessions bound; stop once a session places nothing
    while placed and sessions < MAX_SESSIONS and _retry_pending(jobs, skip):
        _open_next_session(jobs, tree, cluster, alloc)
        alloc.run(jobs, skip)
        sessions += 1
        now = _allocated(jobs)
        if now == placed:
            break
        placed = now
    return Session(world, cluster, alloc, jobs, skip, warnings, sessions)


def _allocated(jobs: Sequence[Job]) -> int:
    return sum(job.counts.get(ALLOCATED, 0) for job in jobs)


def _retry_pending(jobs: Sequence[Job], skip: Mapping[str, str]) -> bool:
    """Whether a later session has anything to try (pending or pipelined pods of a placeable job)."""
    return any(
        job.key not in skip
        and job.counts.get(PENDING, 0) - job.pending_be() + job.counts.get(PIPELINED, 0) > 0
        for job in jobs
    )


def _open_next_session(jobs: Sequence[Job], tree: Tree, cluster: Cluster, alloc: Allocator) -> None:
    """The next scheduling session: pipelined pods are pending again, allocated ones stay
    (bound by now); ``removeInvalidAllocatedHyperNode`` then ``recoverAllocatedHyperNode``
    for the empty ones (the scheduler keeps the others in memory); fresh HyperNode idle
    resources for the gradient pre-filter."""
    for job in jobs:
        for task in job.tasks:
            if task.status == PIPELINED and task.node is not None:
                alloc.revert(Op(task, task.node, PIPELINED, None))
        job.reset_fit_errors()
        if not job.counts.get(ALLOCATED, 0) and not job.counts.get(RUNNING, 0):
            job.allocated_hn = None
        for sj in job.subjobs.values():
            if not sj.allocated_num():
                sj.allocated_hn = None
    _recover_allocated(jobs, tree, only_empty=True)
    cluster.snapshot_session_open()
    alloc.new_session()


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


def _recover_allocated(jobs: Sequence[Job], tree: Tree, *, only_empty: bool = False) -> None:
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


# --------------------------------------------------------------------------- results


def leaf_level_tie(job: Mapping[str, Any]) -> bool:
    """True when a reported tie could change a job result's per-leaf pod counts."""
    for tie in job.get("ties") or []:
        if tie.get("level") == "hypernode" or len(tie.get("leaves") or []) > 1:
            return True
        if tie.get("level") in ("task-order", "choices") and tie.get("leaf_counts_differ"):
            return True
    return False


def _known_order(pod: PodIn) -> tuple[str, str] | None:
    """``(creationTimestamp, uid)`` of a pod read from the cluster, which is how Volcano orders
    pods with the same index (``CompareTask``); None for a pod still to be created."""
    existing = pod.existing
    if existing is None or not existing.creation or existing.uid == f"{existing.namespace}/{existing.name}":
        return None
    return existing.creation, existing.uid


def _exact_slots(job: JobIn) -> set[int | None]:
    """The pod indices of ``job`` whose pods all exist with a creation time and UID: their order
    is known (the rest is random in Volcano: creation time and UID are not chosen yet)."""
    known: dict[int | None, bool] = {}
    for pod in job.pods:
        index = pod_index(pod.name)
        known[index] = known.get(index, True) and _known_order(pod) is not None
    return {index for index, ok in known.items() if ok}


def _order_slots(job_ins: Sequence[JobIn]) -> dict[tuple[int, int], list[int]]:
    """(job position, pod index) -> task positions of the pending pods of a Volcano Job sharing
    that index, where there are at least two and their order is not known from the cluster
    (their relative order is random in Volcano)."""
    slots: dict[tuple[int, int], list[int]] = {}
    for position, job in enumerate(job_ins):
        if job.kind != "Job":
            continue
        exact = _exact_slots(job)
        for pod in job.pods:
            if pod.existing is not None and pod.existing.node_name:
                continue
            index = pod_index(pod.name)
            if index is not None and index not in exact:
                slots.setdefault((position, index), []).append(pod.role_position)
    return {slot: sorted(roles) for slot, roles in slots.items() if len(roles) > 1}


def task_orders(job_ins: Sequence[JobIn], limit: int) -> list[dict[tuple[int, int], dict[int, int]]]:
    """Task orders other than the engine's own: all of them if there are at most ``limit``,
    else the reverse order and seeded shuffles (``limit`` in all)."""
    slots = _order_slots(job_ins)
    if not slots or limit <= 0:
        return []
    keys = sorted(slots)
    perms = [list(itertools.permutations(slots[k])) for k in keys]
    total = 1
    for p in perms:
        total *= len(p)
    if total - 1 <= limit:
        chosen = list(itertools.product(*perms))[1:]  # the first is the engine's own order
    else:
        rng = random.Random(0)
        chosen = [tuple(tuple(reversed(slots[k])) for k in keys)]
        seen = {chosen[0], tuple(tuple(slots[k]) for k in keys)}
        while len(chosen) < limit:
            combo = tuple(p[rng.randrange(len(p))] for p in perms)
            if combo not in seen:
                seen.add(combo)
                chosen.append(combo)
    return [
        {key: {role: rank for rank, role in enumerate(perm)} for key, perm in zip(keys, combo, strict=True)}
        for combo in chosen
    ]


def _outcome(session: Session, job: Job) -> dict[str, Any]:
    """Feasibility, lowest common HyperNode and pods per leaf of ``job`` after ``session``."""
    tree = session.world.tree
    feasible = job.key not in session.skip and job.admitted and job.job_ready()
    nodes = [t.node for t in job.tasks if t.node is not None and t.status in (ALLOCATED, RUNNING, RELEASING)]
    if not feasible:
        return {"feasible": False, "hypernode": None, "tier": None, "leaves": {}}
    leaves: dict[str, int] = {}
    for i in nodes:
        leaf = tree.node_leaf[i] or VIRTUAL_ROOT
        leaves[leaf] = leaves.get(leaf, 0) + 1
    hn = tree.lca_of_nodes(nodes) if nodes else None
    return {
        "feasible": True,
        "hypernode": hn,
        "tier": tree.tier(hn) if hn else None,
        "leaves": dict(sorted(leaves.items(), key=lambda kv: natural_key(kv[0]))),
    }


def task_order_ties(
    world: World,
    job_ins: Sequence[JobIn],
    session: Session,
    results: list[dict[str, Any]],
    limit: int | None = None,
) -> None:
    """Report the random order of equal-index pods of different tasks where it matters.

    The session is replayed with other task orders (:func:`task_orders`, at most ``limit``,
    default :func:`replay_limit`); every job whose feasibility, HyperNode or pods per leaf
    then differ gets a ``task-order`` tie listing the distinct outcomes (the engine's own
    first) and their HyperNodes as candidates."""
    if limit is None:
        limit = replay_limit(world, session)
    orders = task_orders(job_ins, limit)
    if not orders:
        return
    outcomes = _own_outcomes(session)
    for order in orders:
        _add_outcomes(outcomes, run_session(world, job_ins, task_order=order))
    _record_outcomes(results, outcomes, "task-order", TASK_ORDER_REASON)


def _own_outcomes(session: Session) -> list[list[dict[str, Any]]]:
    """Per job of ``session``, the list of its distinct outcomes, starting with its own."""
    return [[_outcome(session, job)] for job in session.jobs]


def _add_outcomes(outcomes: list[list[dict[str, Any]]], replay: Session) -> None:
    """Add each job's outcome in ``replay`` to its list when it is a new one."""
    for seen, job in zip(outcomes, replay.jobs, strict=True):
        outcome = _outcome(replay, job)
        if outcome not in seen:
            seen.append(outcome)


def _record_outcomes(
    results: list[dict[str, Any]],
    outcomes: list[list[dict[str, Any]]],
    level: str,
    reason: str,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Add a ``level`` tie to every job whose distinct ``outcomes`` (its own first) differ."""
    for seen, result in zip(outcomes, results, strict=True):
        if len(seen) < 2:
            continue
        candidates = sorted({o["hypernode"] for o in seen if o["hypernode"]}, key=natural_key)
        leaf_counts = [o["leaves"] for o in seen if o["feasible"]]
        result["ties"].append(
            {
                "level": level,
                "pod": None,
                "chosen": seen[0]["hypernode"],
                "candidates": candidates,
                "count": len(candidates),
                "outcomes": seen,
                "leaf_counts_differ": len({tuple(sorted(c.items())) for c in leaf_counts}) > 1,
                "feasibility_differs": len({o["feasible"] for o in seen}) > 1,
                "reason": reason,
                **(extra or {}),
            }
        )
        result["leaf_level_tie"] = leaf_level_tie(result)


def hypernode_choices(
    world: World,
    job_ins: Sequence[JobIn],
    session: Session,
    results: list[dict[str, Any]],
    limit: int | None = None,
) -> None:
    """Follow the other choices of the session's HyperNode-level ties (Volcano picks at random).

    Every tie is a decision point; the session is replayed with each decision forced, in
    turn, to one candidate per other job HyperNode it can lead to, breadth first, later
    decisions of each replay explored the same way, at most ``limit`` replays (default
    :func:`replay_limit`). Every job whose feasibility, HyperNode or pods per leaf then
    differ gets a ``choices`` tie listing the distinct outcomes (its own first); every
    result gets ``choice_replays``: ``{"replays", "complete"}`` (complete: every decision
    met was followed)."""
    if limit is None:
        limit = replay_limit(world, session)
    if not session.alloc.hn_decisions:
        # no tie at all, or (on inputs too large for any replay) ties that were not recorded
        for result in results:
            result["choice_replays"] = {"replays": 0, "complete": not session.alloc.hn_tie_count}
        return
    outcomes = _own_outcomes(session)
    frontier: list[tuple[dict[int, str], list[list[str]]]] = [({}, session.alloc.hn_decisions)]
    replays = 0
    while frontier and replays < limit:
        script, decisions = frontier.pop(0)
        first = max(script) + 1 if script else 0
        for k in range(first, len(decisions)):
            for candidate in decisions[k]:
                if replays >= limit:
                    break
                forced = {**script, k: candidate}
                alt = run_session(world, job_ins, hn_script=forced)
                replays += 1
                _add_outcomes(outcomes, alt)
                frontier.append((forced, alt.alloc.hn_decisions))
    complete = not frontier or (
        replays < limit
        and all(
            not decisions[k] for script, decisions in frontier for k in range(max(script) + 1, len(decisions))
        )
    )
    for result in results:
        result["choice_replays"] = {"replays": replays, "complete": complete}
    _record_outcomes(results, outcomes, "choices", CHOICES_REASON, {"replays": replays})


def replay_limit(world: World, session: Session) -> int:
    """How many replays :data:`REPLAY_BUDGET` affords (at most :data:`MAX_REPLAYS`): a replay
    costs about the nodes times the pods to place (in sixteens) plus the nodes of every
    HyperNode dry-run in the first session."""
    pods = sum(1 for job in session.jobs for t in job.tasks if t.status != RUNNING and t.node is None) + sum(
        job.counts.get(ALLOCATED, 0) for job in session.jobs
    )
    cost = len(world.nodes) * max(1, -(-pods // 16)) + session.alloc.work
    return min(MAX_REPLAYS, REPLAY_BUDGET // max(cost, 1))


def _job_warnings(session: Session, job: Job) -> list[str]:
    world = session.world
    tree = world.tree
    out = list(job.inp.warnings)
    nt = job.inp.topology
    if nt is not None:
        if not world.conf.nta.enabled:
            out.append(f"{NTA_DISABLED}: this job's networkTopology ({nt.describe()}) has no effect")
        if nt.mode == "soft":
            bound = f" (highestTierAllowed {nt.tier})" if nt.tier is not None else ""
            out.append(
                f"networkTopology mode soft{bound} does not bound the tier in Volcano >= 1.14.3: the "
                "scheduler converts "
                f"soft to hard with highestTierAllowed = {tree.max_tier} (the virtual cluster root), so the "
                "gang lands "
                "in the lowest tier that can hold it, possibly the whole cluster; use mode: hard to enforce "
                "a tier"
            )
        elif nt.tier is None and not nt.tier_name:
            out.append(
                "networkTopology mode hard without highestTierAllowed/highestTierName is unconstrained: "
                "Volcano's "
                "IsHardTopologyMode is false without a tier, so only the node score prefers nearby nodes"
            )
        if nt.tier is None and nt.tier_name and nt.tier_name not in tree.tier_name_map:
            out.append(
                f"highestTierName {nt.tier_name!r} matches no HyperNode spec.tierName: Volcano leaves it "
                "untranslated "
                "and the constraint has no effect"
            )
    for policy in job.inp.subgroups:
        pnt = policy.topology
        if pnt is not None and pnt.mode == "hard" and pnt.tier is None and not pnt.tier_name:
            out.append(f"partition {policy.name}: networkTopology hard without a tier is unconstrained")
    roles_empty: dict[str, int] = {}
    spread: set[str] = set()
    for task in job.tasks:
        if task.best_effort:
            roles_empty[task.role or job.inp.name] = roles_empty.get(task.role or job.inp.name, 0) + 1
        if task.pod.spec.spread_constraints:
            spread.add(task.role or job.inp.name)
    for role, count in roles_empty.items():
        out.append(
            f"{count} pods of {role} have no resource requests: Volcano treats them as BestEffort, the "
            "allocate action "
            "skips them and backfill places them on any node, ignoring the network topology"
        )
    for role in sorted(spread):
        out.append(f"{role}: topologySpreadConstraints are not simulated by the engine")
    return out


def _placements(session: Session, job: Job) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    nodes = session.world.nodes
    tree = session.world.tree
    placed: list[dict[str, Any]] = []
    pending: list[str] = []
    pipelined: list[str] = []
    for task in sorted(job.tasks, key=lambda t: (t.pod.role_position, pod_index(t.name) or 0, t.name)):
        if task.status in (ALLOCATED, RUNNING, RELEASING) and task.node is not None:
            placed.append(
                {
                    "pod": task.name,
                    "task": task.role,
                    "node": nodes[task.node].name,
                    "leaf": tree.node_leaf[task.node],
                    "existing": task.status != ALLOCATED,
                }
            )
        elif task.status == PIPELINED:
            pipelined.append(task.name)
        elif task.status == PENDING:
            pending.append(task.name)
    return placed, pending, pipelined


def _mode_text(job: Job) -> str | None:
    topo = job.topology
    if topo is None:
        return None
    original = topo.original
    if original.mode == "soft":
        return f"soft -> hard, highestTierAllowed {topo.tier} (virtual root)"
    if topo.tier is None:
        return "hard without a tier (unconstrained)"
    return f"hard, highestTierAllowed {topo.tier}"


def _roles_of(job: Job, model: NetworkModel) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {"prefill": [], "decode": []}
    for task in job.tasks:
        if task.node is None or task.status not in (ALLOCATED, RUNNING, RELEASING):
            continue
        role = pd_role(model, task.role, job.inp.name)
        if role:
            out[role].append(task.node)
    return out


def _job_result(session: Session, job: Job, classifier: PairClassifier) -> dict[str, Any]:
    alloc = session.alloc
    tree = session.world.tree
    placed, pending, pipelined = _placements(session, job)
    skip = session.skip.get(job.key) or alloc.unadmitted.get(job.key)
    feasible = skip is None and job.job_ready()
    result: dict[str, Any] = {
        "kind": job.inp.kind,
        "name": job.inp.name,
        "namespace": job.inp.namespace,
        "podgroup": job.inp.podgroup,
        "feasible": feasible,
        "hard": job.topology is not None
        and job.topology.original.mode == "hard"
        and job.topology.tier is not None,
        "mode": _mode_text(job),
        "hypernode": None,
        "tier": None,
        "volcano_hypernode": job.allocated_hn,
        "placements": placed if feasible else [p for p in placed if p["existing"]],
        "pending": pending
        if feasible
        else sorted(pending + [p["pod"] for p in placed if not p["existing"]] + pipelined),
        "leaves": {},
        "ties": [],
        "reasons": [],
        "warnings": _job_warnings(session, job),
        "network": None,
    }
    if pipelined and feasible:
        result["pipelined"] = pipelined
    if feasible:
        nodes = [
            t.node for t in job.tasks if t.node is not None and t.status in (ALLOCATED, RUNNING, RELEASING)
        ]
        if nodes:
            hn = tree.lca_of_nodes(nodes)
            result["hypernode"] = hn
            result["tier"] = tree.tier(hn) if hn else None
        leaves: dict[str, int] = {}
        for p in placed:
            leaf = p["leaf"] or VIRTUAL_ROOT
            leaves[leaf] = leaves.get(leaf, 0) + 1
        result["leaves"] = dict(sorted(leaves.items(), key=lambda kv: natural_key(kv[0])))
        ties = list(alloc.hn_ties.get(job.key, []))
        ties.extend(
            {k: v for k, v in t.tie.items() if not k.startswith("_")}
            for t in job.tasks
            if t.tie is not None and t.status == ALLOCATED
        )
        result["ties"] = ties
        result["leaf_level_tie"] = leaf_level_tie(result)
        roles = _roles_of(job, classifier.model)
        result["network"] = role_network(classifier, roles["prefill"], roles["decode"])
        sampled = sorted(alloc.sampling_notes.get(job.key, ()), key=natural_key)
        if sampled:
            result["warnings"].append(
                "Volcano scores only a sample of the feasible nodes (--minimum-feasible-nodes 100, adaptive "
                f"--percentage-nodes-to-find) in {', '.join(sampled[:5])}: the engine emulates the rotating "
                "sample over the input order, Volcano's differs from run to run, so node choices there are "
                "not certain"
            )
    else:
        result["reasons"] = [skip] if skip else job_reasons(alloc, job, alloc.attempts.get(job.key))
    return result


def _pd_warnings(
    session: Session, results: list[dict[str, Any]], classifier: PairClassifier
) -> tuple[list[str], dict[str, Any] | None]:
    model = classifier.model
    tree = session.world.tree
    warnings: list[str] = []
    by_role: dict[str, list[tuple[Job, list[int]]]] = {"prefill": [], "decode": []}
    all_roles: dict[str, list[int]] = {"prefill": [], "decode": []}
    for job in session.jobs:
        roles = _roles_of(job, model)
        declared = {pd_role(model, role, job.inp.name) for role in job.inp.roles} - {None}
        for role in ("prefill", "decode"):
            all_roles[role].extend(roles[role])
            if role in declared:
                by_role[role].append((job, roles[role]))
    network = None
    if all_roles["prefill"] and all_roles["decode"]:
        network = {
            "prefill_decode": pair_summary(classifier, all_roles["prefill"], all_roles["decode"], kv=True),
            "prefill_pods": len(all_roles["prefill"]),
            "decode_pods": len(all_roles["decode"]),
            "kv_model": model.kv.as_dict(),
        }
    separate = [(p, d) for p, _pn in by_role["prefill"] for d, _dn in by_role["decode"] if p is not d]
    for pjob, djob in separate:
        if any(pd_role(model, r, pjob.inp.name) == "decode" for r in pjob.inp.roles):
            continue
        pnodes = [t.node for t in pjob.tasks if t.node is not None and t.status in (ALLOCATED, RUNNING)]
        dnodes = [t.node for t in djob.tasks if t.node is not None and t.status in (ALLOCATED, RUNNING)]
        where = ""
        if pnodes and dnodes:
            ph, dh = tree.lca_of_nodes(pnodes), tree.lca_of_nodes(dnodes)
            both = tree.lca(ph, dh)
            where = (
                f"; here prefill landed under {ph} (tier {tree.tier(ph) if ph else '?'}) and decode under "
                f"{dh} "
                f"(tier {tree.tier(dh) if dh else '?'}), together under {both} (tier "
                f"{tree.tier(both) if both else '?'})"
            )
            if both and tree.tier(both) > max(tree.tier(ph), tree.tier(dh)):
                where += " - the two roles ended up further apart than each job's own placement"
        warnings.append(
            f"PD roles in two separate Jobs ({pjob.inp.name}: prefill, {djob.inp.name}: decode): each Job's "
            "network "
            "topology applies to that Job alone and Volcano does not co-locate the two; put both roles in "
            "one Job "
            f"with two tasks and mode: hard to keep them within a tier{where}"
        )
    decode_nodes = all_roles["decode"]
    bad = sorted(
        {
            session.world.nodes[i].labels.get(model.gpu_type_label, "")
            for i in decode_nodes
            if not classifier.gpudirect(i)
        }
    )
    if not bad:
        for job in session.jobs:
            for task in job.tasks:
                if pd_role(model, task.role, job.inp.name) != "decode":
                    continue
                for term in task.pod.spec.required_terms or ():
                    for req in term.expressions:
                        if req.key == model.gpu_type_label and req.operator == "In":
                            bad.extend(v for v in req.values if v.lower() in model.no_gpudirect)
                value = task.pod.spec.node_selector.get(model.gpu_type_label)
                if value and value.lower() in model.no_gpudirect:
                    bad.append(value)
        bad = sorted(set(bad))
    if bad:
        extra = (
            model.kv.bytes_per_request * 8 / (model.host_copy_gbps * 1e9) * 1000
            + model.host_copy_latency_us / 1000
        )
        warnings.append(
            f"decode on GPUs without GPUDirect RDMA ({', '.join(bad)}): GeForce cards cannot receive the KV "
            "cache by "
            f"RDMA, so it is staged through host memory (modelled as one extra host copy, +{extra:.1f} ms "
            "per "
            f"{model.kv.prompt_tokens}-token request at {model.host_copy_gbps:g} Gbit/s)"
        )
    return warnings, network


def shape(session: Session) -> dict[str, Any]:
    classifier = PairClassifier(session.world.tree, session.world.nodes, session.world.network)
    results = [_job_result(session, job, classifier) for job in session.jobs]
    pd, network = _pd_warnings(session, results, classifier)
    warnings = list(session.world.warnings) + session.warnings + pd
    if classifier.unlabelled:
        names = sorted(classifier.unlabelled, key=natural_key)
        warnings.append(
            f"nodes without a {session.world.network.switch_type_label} label count as Ethernet in the "
            "network cost: "
            f"{', '.join(names[:5])}" + (f" (and {len(names) - 5} more)" if len(names) > 5 else "")
        )
    for result in results:
        if any("PD roles in two separate Jobs" in w and result["name"] in w for w in pd):
            result["warnings"].extend(
                w for w in pd if "PD roles in two separate Jobs" in w and result["name"] in w
            )
        if result["network"] and any(w.startswith("decode on GPUs without GPUDirect") for w in pd):
            result["warnings"].extend(w for w in pd if w.startswith("decode on GPUs without GPUDirect"))
    return {"jobs": results, "warnings": _dedupe(warnings), "network": network}


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


# --------------------------------------------------------------------------- baseline


def _expected(world: World, job_ins: Sequence[JobIn], samples: int, seed: int) -> dict[str, Any]:
    """Averages over ``samples`` runs that break every tie uniformly at random (seeded)."""
    classifier = PairClassifier(world.tree, world.nodes, world.network)
    eth: list[float] = []
    kv_mean: list[float] = []
    kv_worst: list[float] = []
    classes: dict[str, float] = {}
    feasible = 0
    for k in range(samples):
        session = run_session(world, job_ins, random.Random(seed + k))
        placed: list[int] = []
        prefill: list[int] = []
        decode: list[int] = []
        ok = True
        for job in session.jobs:
            ok = ok and job.key not in session.skip and job.job_ready()
            roles = _roles_of(job, world.network)
            prefill.extend(roles["prefill"])
            decode.extend(roles["decode"])
            placed.extend(
                t.node for t in job.tasks if t.node is not None and t.status in (ALLOCATED, RUNNING)
            )
        feasible += ok
        eth.append(ethernet_fraction(classifier, placed))
        if prefill and decode:
            summary = pair_summary(classifier, prefill, decode, kv=True)
            if summary:
                kv_mean.append(summary["kv_transfer_ms"]["mean"])
                kv_worst.append(summary["kv_transfer_ms"]["worst"])
                for cls, count in summary["classes"].items():
                    classes[cls] = classes.get(cls, 0.0) + count / summary["pairs"]
    out: dict[str, Any] = {
        "method": f"{samples} runs breaking every tie uniformly at random "
        f"(seeds {seed}..{seed + samples - 1})",
        "samples": samples,
        "all_jobs_feasible_fraction": round(feasible / samples, 4) if samples else None,
        "ethernet_pod_fraction": round(sum(eth) / len(eth), 4) if eth else None,
    }
    if kv_mean:
        out["prefill_decode_kv_transfer_ms"] = {
            "mean": round(sum(kv_mean) / len(kv_mean), 4),
            "worst": round(max(kv_worst), 4),
        }
        out["prefill_decode_classes"] = {c: round(v / len(kv_mean), 4) for c, v in sorted(classes.items())}
    return out


def _ethernet_share(session: Session) -> float:
    classifier = PairClassifier(session.world.tree, session.world.nodes, session.world.network)
    placed = [
        t.node
        for job in session.jobs
        for t in job.tasks
        if t.node is not None and t.status in (ALLOCATED, RUNNING)
    ]
    return round(ethernet_fraction(classifier, placed), 4)


# --------------------------------------------------------------------------- public API


def predict(
    jobs: Any,
    nodes: Any,
    hypernodes: Any = None,
    pods: Any = None,
    scheduler_conf: Mapping[str, Any] | None = None,
    network: Mapping[str, Any] | None = None,
    kv_model: Mapping[str, Any] | None = None,
    *,
    baseline: bool = True,
    baseline_samples: int | None = None,
    seed: int = 0,
    task_order: bool = True,
    choices: bool = True,
) -> dict[str, Any]:
    """Predict where Volcano v1.15.1 places ``jobs``; see the module docs for the result shape.

    ``scheduler_conf`` None means the project's default configuration (network-
    topology-aware enabled with the scheduler_config role's arguments).
    ``task_order`` False skips the replays that look for ``task-order`` ties, ``choices``
    False those that follow other choices at HyperNode-level ties (``choices`` ties).
    Raises :class:`PlacementInputError` for malformed input.
    """
    was_enabled = gc.isenabled()
    gc.disable()  # the engine allocates many long-lived objects and no garbage cycles worth collecting
    try:
        return _predict(
            jobs,
            nodes,
            hypernodes,
            pods,
            scheduler_conf,
            network,
            kv_model,
            baseline,
            baseline_samples,
            seed,
            task_order,
            choices,
        )
    finally:
        if was_enabled:
            gc.enable()


def _predict(
    jobs: Any,
    nodes: Any,
    hypernodes: Any,
    pods: Any,
    scheduler_conf: Mapping[str, Any] | None,
    network: Mapping[str, Any] | None,
    kv_model: Mapping[str, Any] | None,
    baseline: bool,
    baseline_samples: int | None,
    seed: int,
    task_order: bool = True,
    choices: bool = True,
) -> dict[str, Any]:
    world = build_world(nodes, hypernodes, pods, scheduler_conf, network, kv_model)
    job_objs = as_objects(jobs, "jobs")
    job_ins = [parse_job(obj, i, world.pods) for i, obj in enumerate(job_objs)]
    _check_unique(job_ins)
    session = run_session(world, job_ins)
    result = shape(session)
    task_order_ties(world, job_ins, session, result["jobs"], None if task_order else 0)
    if choices:
        hypernode_choices(world, job_ins, session, result["jobs"])
    result["ethernet_pod_fraction"] = _ethernet_share(session)
    result["tie_break"] = (
        "deterministic: among equal scores the first HyperNode/node in natural name order (Volcano picks at "
        "random)"
    )
    if baseline:
        base_ins = [parse_job(simple_affinity(obj), i, world.pods) for i, obj in enumerate(job_objs)]
        started = time.perf_counter()
        base_session = run_session(world, base_ins)
        one_run = time.perf_counter() - started
        samples = baseline_samples
        if samples is None:
            samples = min(DEFAULT_BASELINE_SAMPLES, int(BASELINE_BUDGET_S / max(one_run, 1e-6)))
        base = shape(base_session)
        base["description"] = (
            "simple affinity: the same jobs without networkTopology/partition topology and without "
            "topology.kubernetes.io/switch(-type) affinity (GPU-model affinity only); deterministic tie-break"
        )
        base["ethernet_pod_fraction"] = _ethernet_share(base_session)
        base["expected"] = _expected(world, base_ins, samples, seed) if samples > 0 else None
        if samples <= 0:
            base["expected_skipped"] = (
                f"one baseline run took {one_run:.1f} s: random tie-break runs skipped (pass "
                "baseline_samples to force)"
            )
        result["baseline"] = base
    return result


def _check_unique(job_ins: Sequence[JobIn]) -> None:
    seen: dict[str, str] = {}
    for job in job_ins:
        key = f"{job.namespace}/{job.podgroup}"
        if key in seen:
            raise PlacementInputError(f"{job.where}: metadata.name: same PodGroup {key} as {seen[key]}")
        seen[key] = job.where
