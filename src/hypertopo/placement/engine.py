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
  plugins, preemption/reclaim and their nominations (when the configuration lists preempt or
  reclaim, a pending job warns and lists its candidate victims: :mod:`.evictions`), scheduling
  gates;
* a job with pods already running gets its allocated HyperNode recovered from
  their nodes, as after a scheduler restart (a long-running scheduler keeps the
  in-memory value, which can be a higher-tier HyperNode);
* live cluster states follow Volcano's cache (``docs/live-states.md``): a node whose Ready
  condition is False/Unknown stays in the session, its pods running there, only its taints
  keeping new pods off (``setNodeState`` ignores node conditions; a warning names it); pods
  bound to a node with no Node object count as running for their gang and hold nothing;
* HyperNode members naming missing HyperNodes are ignored (Volcano adds an empty
  tier-0 placeholder); with two parents or a cycle, jobs with a topology stay
  Pending as in Volcano and the others are scored on a best-effort tree;
* Deployment/StatefulSet pods are named ``<name>-<index>``; a node without
  ``pods`` allocatable gets kubelet's default 110.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from hypertopo.placement.baseline import MAX_BASELINE_SAMPLES
from hypertopo.placement.baseline import baseline as run_baseline
from hypertopo.placement.errors import PlacementInputError
from hypertopo.placement.inputs import as_objects
from hypertopo.placement.jobs import JobIn, PodBudget, parse_job
from hypertopo.placement.result import ethernet_share, shape
from hypertopo.placement.session import Session, run_session
from hypertopo.placement.ties import hypernode_choices, job_outcomes, task_order_ties
from hypertopo.placement.world import World, build_world
from hypertopo.topology.labels import natural_key


def predict(
    jobs: Any,
    nodes: Any,
    hypernodes: Any = None,
    pods: Any = None,
    scheduler_conf: Mapping[str, Any] | None = None,
    network: Mapping[str, Any] | None = None,
    kv_model: Mapping[str, Any] | None = None,
    priority_classes: Any = None,
    *,
    baseline: bool = True,
    baseline_samples: int | None = None,
    seed: int = 0,
    task_order: bool = True,
    choices: bool = True,
) -> dict[str, Any]:
    """Predict where Volcano v1.15.1 places ``jobs``; see the module docs for the result shape.

    ``scheduler_conf`` None means the project's default configuration (network-
    topology-aware enabled with the scheduler_config role's arguments). ``priority_classes``:
    the cluster's PriorityClass objects (a job's priority is the value of its PodGroup's
    ``priorityClassName``; without them, the ``spec.priority`` of a pod of that class).
    ``task_order`` False skips the replays that look for ``task-order`` ties, ``choices``
    False those that follow other choices at HyperNode-level ties (``choices`` ties).
    Raises :class:`PlacementInputError` for malformed input.
    """
    if baseline_samples is not None and baseline_samples > MAX_BASELINE_SAMPLES:
        raise PlacementInputError(
            f"baseline_samples: at most {MAX_BASELINE_SAMPLES} random tie-break runs, got {baseline_samples}"
        )
    with gc_paused():  # many long-lived objects and no garbage cycles worth collecting
        session, job_ins, job_objs = simulate(
            jobs, nodes, hypernodes, pods, scheduler_conf, network, kv_model, priority_classes
        )
        world = session.world
        result = shape(session)
        task_order_ties(world, job_ins, session, result["jobs"], None if task_order else 0)
        if choices:
            hypernode_choices(world, job_ins, session, result["jobs"])
        job_outcomes(session, result["jobs"])
        result["ethernet_pod_fraction"] = ethernet_share(session)
        result["tie_break"] = (
            "deterministic: among equal scores the first HyperNode/node in natural name order (Volcano picks "
            "at random)"
        )
        if baseline:
            by_name = _by_name(
                world, nodes, hypernodes, pods, scheduler_conf, network, kv_model, priority_classes
            )
            result["baseline"] = run_baseline(by_name, job_objs, baseline_samples, seed)
        return result


def simulate(
    jobs: Any,
    nodes: Any,
    hypernodes: Any = None,
    pods: Any = None,
    scheduler_conf: Mapping[str, Any] | None = None,
    network: Mapping[str, Any] | None = None,
    kv_model: Mapping[str, Any] | None = None,
    priority_classes: Any = None,
) -> tuple[Session, list[JobIn], list[Any]]:
    """The simulated sessions of :func:`predict` (no result shaping, replays or baseline): the
    session (world, scheduler state, jobs), the parsed jobs and the job objects. For callers that
    read the scheduler's state after the run (``explain``)."""
    world = build_world(nodes, hypernodes, pods, scheduler_conf, network, kv_model, priority_classes)
    job_objs = as_objects(jobs, "jobs")
    budget = PodBudget()
    job_ins = [parse_job(obj, i, world.pods, budget) for i, obj in enumerate(job_objs)]
    _check_unique(job_ins)
    return run_session(world, job_ins), job_ins, job_objs


def _by_name(world: World, nodes: Any, *inputs: Any) -> World:
    """``world`` with its nodes in natural name order (the baseline's random runs then do not
    depend on the order the nodes were given in: inventory or API server); ``inputs`` are the
    other arguments of :func:`build_world`."""
    names = [node.name for node in world.nodes]
    if names == sorted(names, key=natural_key):
        return world
    position = {name: k for k, name in enumerate(sorted(names, key=natural_key))}
    objs = sorted(as_objects(nodes, "nodes"), key=lambda obj: position[str(obj["metadata"]["name"])])
    return build_world(objs, *inputs)


@contextmanager
def gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_unique(job_ins: Sequence[JobIn]) -> None:
    seen: dict[str, str] = {}
    for job in job_ins:
        key = f"{job.namespace}/{job.podgroup}"
        if key in seen:
            raise PlacementInputError(f"{job.where}: metadata.name: same PodGroup {key} as {seen[key]}")
        seen[key] = job.where
