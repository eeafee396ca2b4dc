"""Headroom: how far each job's tasks can grow, and how many more pods fit under each HyperNode.

:func:`headroom` answers two questions on the keyword inputs of :func:`~hypertopo.placement.predict`:

* per job and task (``jobs``): the largest replica count that still **places** — every pod of the
  job bound and its gang ready, under the job's own constraints (a hard tier, affinity, taints...),
  with the other jobs placed as the predictor places them. Found by re-predicting with the
  ``set_replicas`` change (:mod:`.changes`): the current count, then the upper bound (each node
  the task's pods may use filled by its allocatable), then doubling and a binary search. Each probe
  is the predictor's own run (``run_session`` and ``shape``, as :func:`~hypertopo.placement.predict`
  with ``task_order=False, choices=False``: the replays only look for other random outcomes) on a
  world built once. ``max`` and ``max + 1`` are always both predicted: ``max`` places and
  ``max + 1`` does not (``confirmed``; the search assumes that placing is monotone in the replica
  count, and a counter-example at the boundary would show as ``confirmed: false``).
  ``displaces`` lists the jobs placed today that no longer place at the maximum (they come
  later in scheduling order and lose their room). With ``replicas`` the
  given count is checked as well (``check``): does it place, where, and on which switch types
  ("can I scale decode to 20 and stay on InfiniBand?").
* per tier-1 and tier-2 HyperNode (``hypernodes``): how many more pods of each task's shape (its
  pod template's requests, node affinity/selector, tolerations) fit on the nodes under it after
  today's placement, per GPU model: per node the free resources divided by the requests, summed.
  Required pod (anti-)affinity and the job's tier bound are not applied there (the ``jobs``
  answer applies everything).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hypertopo.placement.changes import apply_changes, change, current_replicas
from hypertopo.placement.engine import gc_paused
from hypertopo.placement.errors import PlacementInputError
from hypertopo.placement.forked import run_all
from hypertopo.placement.inputs import as_objects
from hypertopo.placement.jobs import MAX_PODS, JobIn, PodBudget, parse_job
from hypertopo.placement.model import ALLOCATED, RELEASING, RUNNING, Job, Task
from hypertopo.placement.netcost import pd_role
from hypertopo.placement.result import job_feasible, shape
from hypertopo.placement.session import Session, pruned_reasons, run_session
from hypertopo.placement.ties import task_orders
from hypertopo.placement.tree import VIRTUAL_ROOT
from hypertopo.placement.world import World, build_world
from hypertopo.topology.labels import natural_key

#: The tiers whose HyperNodes get a capacity table.
TIERS = (1, 2)
#: task orders replayed per count, and counts stepped down at most, to find a maximum that places
#: in every order
MAX_ORDERS = 16
MAX_ORDER_STEPS = 16
_PLACED = (ALLOCATED, RUNNING, RELEASING)


def _ref(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace') or 'default'}/{meta.get('name')}"


def _run(world: World, objs: Sequence[Any], *, prune: bool = False) -> tuple[Session, list[JobIn]]:
    budget = PodBudget()
    job_ins = [parse_job(obj, i, world.pods, budget) for i, obj in enumerate(objs)]
    return run_session(world, job_ins, prune=prune), job_ins


def _job(session: Session, job_in: JobIn) -> Job:
    return next(job for job in session.jobs if job.inp is job_in)


def _held(task: Task) -> bool:
    """``task`` holds a place: allocated or bound to a node of the session, or bound to a node with
    no Node object, which Volcano's cache keeps as a Running task of its job on a placeholder
    NodeInfo left out of the snapshot (pkg/scheduler/cache/event_handlers.go addTask,
    cache.go Snapshot): the engine leaves such a task Running with no node (``snapshot._job``)."""
    if task.status not in _PLACED:
        return False
    if task.node is not None:
        return True
    existing = task.pod.existing
    return task.status != ALLOCATED and existing is not None and bool(existing.node_name)


def places(session: Session, job: Job) -> bool:
    """Every pod of ``job`` bound (none pending or pipelined) and its gang ready; pods on a deleted
    node count as bound (:func:`_held`)."""
    return job_feasible(session, job) and all(_held(t) for t in job.tasks)


def _targets(objs: Sequence[Any], job: str | None, task: str | None) -> list[tuple[int, str | None]]:
    """(job position, task name or None) of every job/task to search, or those named."""
    out: list[tuple[int, str | None]] = []
    if job is not None:
        from hypertopo.placement.changes import find_job

        k, _obj = find_job({"jobs": objs}, job)
        chosen = [k]
    else:
        chosen = list(range(len(objs)))
    for k in chosen:
        obj = objs[k]
        kind = obj.get("kind")
        if kind == "Job":
            names = [
                str(t.get("name") or f"default{i}") for i, t in enumerate(obj["spec"].get("tasks") or [])
            ]
            if task is not None:
                if task not in names:
                    raise PlacementInputError(
                        f"task: job {_ref(obj)} has no task {task!r} (tasks: {', '.join(names)})"
                    )
                names = [task]
            out.extend((k, name) for name in names)
        elif kind in ("Deployment", "StatefulSet"):
            if task is not None:
                raise PlacementInputError(f"task: {kind} {_ref(obj)} has no tasks")
            out.append((k, None))
        elif job is not None:
            raise PlacementInputError(
                f"job: a {kind}'s size is its pods: headroom takes Jobs and Deployments"
            )
    return out


def _bound(empty: Session, job_in: JobIn, task: str | None) -> int:
    """An upper bound of the replicas of ``task``: over the nodes its pods may use (node affinity,
    taints, unschedulable), each node's resources not held by running pods of other workloads
    (``empty``: a session without jobs) divided by one pod's requests, summed."""
    pods = [p for p in job_in.pods if task is None or p.role == task]
    if not pods:
        return 0
    spec = pods[0].spec
    need = {res: amount for res, amount in spec.resreq.items() if amount > 0}
    if not need:  # no requests: no resource bounds the count
        return 2**31 - 1
    own: dict[str, dict[str, int]] = {}  # the task's pods already running hold room it may reuse
    for pod in pods:
        if pod.existing is not None and pod.existing.node_name:
            held = own.setdefault(pod.existing.node_name, {})
            for res, amount in pod.existing.spec.resreq.items():
                held[res] = held.get(res, 0) + amount
    total = 0
    nodes = empty.world.nodes
    for i in empty.sched.pred.static_fit(spec).feasible:
        idle = empty.cluster.future_idle(i)
        back = own.get(nodes[i].name, {})
        # an overcommitted node (running pods requesting more than it has) holds no pod, and takes
        # none away from the others
        total += max(
            min(((idle.get(res, 0) + back.get(res, 0)) // amount for res, amount in need.items()), default=0),
            0,
        )
    return max(min(total, 2**31 - 1), 0)


def _summary(result: Mapping[str, Any], ref: str, world: World) -> dict[str, Any]:
    job = next(j for j in result["jobs"] if f"{j['namespace']}/{j['name']}" == ref)
    label = world.network.switch_type_label
    types = sorted(
        {
            world.nodes[world.index.by_name[p["node"]]].labels.get(label, "?")
            for p in job["placements"]
            if p["node"] in world.index.by_name
        }
    )
    return {
        "places": bool(job["feasible"]) and not job["pending"] and not job.get("pipelined"),
        "hypernode": job["hypernode"],
        "tier": job["tier"],
        "pods_per_leaf": dict(job["leaves"]),
        "switch_types": types,
        "placed": len(job["placements"]),
        "pending": len(job["pending"]) + len(job.get("pipelined") or []),
        "reasons": list(job["reasons"])[:3],
    }


def _resized(inputs: Mapping[str, Any], ref: str, task: str | None, replicas: int) -> dict[str, Any]:
    return apply_changes(inputs, [change("set_replicas", job=ref, task=task, replicas=replicas)])


def _feasible_jobs(result: Mapping[str, Any]) -> set[str]:
    return {f"{j['namespace']}/{j['name']}" for j in result["jobs"] if j["feasible"]}


def _search(
    world: World,
    objs: list[Any],
    k: int,
    task: str | None,
    base: tuple[Session, list[JobIn], Mapping[str, Any], Session],
    up_to: int | None,
) -> dict[str, Any]:
    _session, job_ins, shaped, empty = base
    ref = _ref(objs[k])
    now = current_replicas({"jobs": objs}, ref, task)
    results: dict[int, dict[str, Any]] = {}

    def probe(replicas: int, *, reported: bool = False) -> dict[str, Any]:
        """The prediction (no replays) with ``replicas``: the same sessions as ``predict``. The
        search's probes skip hopeless dry runs (:mod:`.prune`: the same placements); a probe whose
        job stays unplaced after a skipped run is predicted again in full before its reasons are
        ``reported``."""
        got = results.get(replicas)
        if got is None or (reported and got["_partial_reasons"]):
            resized = _resized({"jobs": objs}, ref, task, replicas)["jobs"]
            if resized == objs:  # today's count: the prediction already made
                shaped_run, partial = shaped, False
            else:
                run, ins = _run(world, resized, prune=not reported)
                shaped_run = shape(run)
                # the reasons of an unplaced job (only those) come from its attempt
                partial = pruned_reasons(run, _job(run, ins[k]))
            feasible = _feasible_jobs(shaped_run)
            got = results[replicas] = _summary(shaped_run, ref, world) | {
                "_feasible": feasible,
                "_partial_reasons": ref not in feasible and partial,
            }
        return got

    step = _partition_size(objs[k], task)  # a partitioned task grows by whole partitions

    def ok(units: int) -> bool:
        return units == 0 or probe(units * step)["places"]

    others = sum(len(j.pods) for j in job_ins) - sum(
        1 for p in job_ins[k].pods if task is None or p.role == task
    )
    by_resources = _bound(empty, job_ins[k], task)
    # the predictor's own pod budget caps the search too (a cap, not a proof that more cannot place)
    bound = min(by_resources, max(MAX_PODS - others, 0)) // step  # in units of `step` replicas from here on
    limited = up_to is not None and up_to // step < bound
    if up_to is not None:
        bound = min(bound, max(up_to // step, 0))
    lo, hi = 0, bound + 1  # ok(lo); hi: the first count known not to place (bound + 1: by the bound)
    start = min(max(now // step, 1), bound)
    if start > 0 and ok(start):
        lo = start
        if bound > start and ok(bound):
            lo = bound
        while hi - lo > 1 and lo * 2 < bound:  # grow while it is cheaper than halving from the bound
            if not ok(lo * 2):
                hi = lo * 2
                break
            lo *= 2
    elif start > 0:
        hi = start
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    limited = limited and lo == bound  # the search stopped at up_to: the maximum is at least lo
    # Volcano orders equal-index pods of different tasks at random: the maximum must place in every
    # order, and the counts above it that place only in some are reported as such
    some_orders = lo
    every_order: bool | None = True
    while lo > 0 and not _every_order(world, objs, k, task, lo * step, ref):
        if some_orders - lo >= MAX_ORDER_STEPS:
            every_order = None  # not found within the steps: lo places in the engine's order only
            break
        lo -= 1
    if limited:
        above = None
    elif some_orders > lo:  # lo + 1 places in some task orders only (and the engine's own one)
        above = probe((lo + 1) * step, reported=True) | {"places": False}
    elif (
        lo == bound and (lo + 1) * step > by_resources
    ):  # one more step needs more than every usable node has free: proven, not simulated
        above = _over_bound((lo + 1) * step, bound * step)
    else:
        above = probe((lo + 1) * step, reported=True)  # the confirmation: predicted, never assumed
    at_max = probe(lo * step, reported=True) if lo > 0 else None
    displaced = sorted(_feasible_jobs(shaped) - at_max["_feasible"], key=natural_key) if at_max else []
    base_job = next(j for j in shaped["jobs"] if f"{j['namespace']}/{j['name']}" == ref)
    return {
        "job": ref,
        "kind": objs[k].get("kind"),
        "task": task,
        "role": pd_role(world.network.roles, task or "", objs[k]["metadata"]["name"]),
        "constraint": base_job["mode"],
        "replicas": now,
        "max_replicas": lo * step,
        # up to this count the job places in some of Volcano's random task orders only
        "places_in_some_orders_up_to": some_orders * step if some_orders > lo else None,
        "every_order": every_order,
        "step": step,
        "bound": bound * step,
        "limited": limited,
        "confirmed": None if above is None else (at_max is None or at_max["places"]) and not above["places"],
        "at_max": _public(at_max),
        "above_max": _public(above),
        "displaces": displaced,
        "probes": len(results),
    }


def _every_order(
    world: World, objs: Sequence[Any], k: int, task: str | None, replicas: int, ref: str
) -> bool:
    """Whether the job of ``objs[k]`` with ``replicas`` places in every other order of equal-index
    pods of different tasks (:func:`~hypertopo.placement.ties.task_orders`; the engine's own order
    is the search's). Jobs of one task have no such orders."""
    resized = _resized({"jobs": objs}, ref, task, replicas)["jobs"]
    budget = PodBudget()
    job_ins = [parse_job(obj, i, world.pods, budget) for i, obj in enumerate(resized)]
    for order in task_orders(job_ins, MAX_ORDERS):
        run = run_session(world, job_ins, task_order=order, prune=True)
        if not places(run, _job(run, job_ins[k])):
            return False
    return True


def _over_bound(replicas: int, bound: int) -> dict[str, Any]:
    """The answer for a count above the resource bound (see :func:`_bound`): it cannot place."""
    reason = (
        f"{replicas} pods need more than the {bound} that the free resources of every node they may "
        "use can hold"
    )
    return {
        "places": False,
        "hypernode": None,
        "tier": None,
        "pods_per_leaf": {},
        "switch_types": [],
        "placed": 0,
        "pending": replicas,
        "reasons": [reason],
        "_feasible": set(),
    }


def _partition_size(obj: Mapping[str, Any], task: str | None) -> int:
    """The ``partitionSize`` of a Volcano Job task with a ``partitionPolicy`` (its replicas are
    whole partitions: the admission webhook wants ``totalPartitions x partitionSize``), else 1."""
    for item in (obj.get("spec") or {}).get("tasks") or () if obj.get("kind") == "Job" else ():
        if isinstance(item, Mapping) and item.get("name") == task:
            part = item.get("partitionPolicy")
            if isinstance(part, Mapping):
                return max(int(part.get("partitionSize") or 1), 1)
    return 1


def _public(summary: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if summary is None else {k: v for k, v in summary.items() if not k.startswith("_")}


def _capacity(world: World, session: Session, job_ins: Sequence[JobIn], tiers: Sequence[int]) -> list[Any]:
    """Per HyperNode of ``tiers``: how many more pods of each task's shape fit, per GPU model."""
    pred, cluster, tree = session.sched.pred, session.cluster, world.tree
    gpu_label = world.network.gpu_type_label
    shapes = []
    for job_in in job_ins:
        seen: set[str] = set()
        for pod in job_in.pods:
            if pod.role in seen:
                continue
            seen.add(pod.role)
            role = pd_role(world.network.roles, pod.role, job_in.name)
            shapes.append((f"{job_in.namespace}/{job_in.name}", pod.role or None, role, pod.spec))
    out = []
    names = [name for name, hn in tree.hypernodes.items() if name != VIRTUAL_ROOT and hn.tier in tiers]
    for name in sorted(names, key=lambda n: (tree.hypernodes[n].tier, natural_key(n))):
        rows = []
        for ref, task, role, spec in shapes:
            need = {res: amount for res, amount in spec.resreq.items() if amount > 0}
            by_model: dict[str, int] = {}
            for i in pred.candidates(spec, name):
                idle = cluster.future_idle(i)
                fit = min((idle.get(res, 0) // amount for res, amount in need.items()), default=0)
                if fit > 0:
                    model = world.nodes[i].labels.get(gpu_label, "-")
                    by_model[model] = by_model.get(model, 0) + fit
            rows.append(
                {
                    "job": ref,
                    "task": task,
                    "role": role,
                    "fit": sum(by_model.values()),
                    "by_gpu_model": dict(sorted(by_model.items())),
                }
            )
        out.append({"hypernode": name, "tier": tree.hypernodes[name].tier, "shapes": rows})
    return out


def _check(world: World, objs: list[Any], target: tuple[int, str | None], replicas: int) -> dict[str, Any]:
    """The prediction with ``replicas`` of the target's job (and task): "can I scale to N?"."""
    k, name = target
    ref = _ref(objs[k])
    resized = _resized({"jobs": objs}, ref, name, replicas)["jobs"]
    run, _ins = _run(world, resized)
    return {"job": ref, "task": name, "replicas": replicas, **_summary(shape(run), ref, world)}


def headroom(
    inputs: Mapping[str, Any],
    *,
    job: str | None = None,
    task: str | None = None,
    replicas: int | None = None,
    up_to: int | None = None,
    tiers: Sequence[int] = TIERS,
    workers: int = 1,
) -> dict[str, Any]:
    """``{"jobs": [...], "hypernodes": [...], "check": {...} | None}`` (see the module docs).

    ``job`` (``NAMESPACE/NAME``) and ``task`` limit the search; ``replicas`` (with ``job``)
    checks that count too; ``up_to`` caps the search (a job that places ``up_to`` pods gets
    ``max_replicas: up_to, limited: true, confirmed: null``: at least that many). Raises
    :class:`PlacementInputError` for bad input or an unknown job. With ``workers`` above 1 the
    searches of different jobs and tasks, and the check, run at once in forked processes
    (:func:`.forked.run_all`: the same answers, where forking is safe)."""
    if replicas is not None and job is None:
        raise PlacementInputError("replicas: give the job (and task) whose count to check")
    objs = list(as_objects(inputs.get("jobs"), "jobs"))
    keys = ("nodes", "hypernodes", "pods", "scheduler_conf", "network", "kv_model", "priority_classes")
    with gc_paused():
        world = build_world(*(inputs.get(key) for key in keys))
        targets = _targets(objs, job, task)
        session, job_ins = _run(world, objs)
        base = (session, job_ins, shape(session), run_session(world, []))
        work: list[Callable[[], Any]] = [
            functools.partial(_search, world, objs, k, name, base, up_to) for k, name in targets
        ]
        if replicas is not None:
            work.append(functools.partial(_check, world, objs, targets[0], replicas))
        answers = run_all(work, workers)
        jobs = answers[: len(targets)]
        check = answers[len(targets)] if replicas is not None else None
        return {"jobs": jobs, "hypernodes": _capacity(world, session, job_ins, tiers), "check": check}
