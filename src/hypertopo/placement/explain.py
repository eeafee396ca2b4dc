"""``explain``: why a job is Pending, and the smallest changes that make it fit.

:func:`explain` runs the engine's sessions on the inputs (the keyword arguments of
:func:`hypertopo.placement.predict`), finds the job named ``NAMESPACE/NAME`` (a Volcano Job,
Deployment, StatefulSet or PodGroup) and returns::

    {"job", "kind", "podgroup", "status", "feasible", "constraint", "hypernode", "placements",
     "reasons", "tiers": [{"tier", "candidates": [{"hypernode", "tier", "eligible", "need",
     "free", "short", "excluded": {reason: count}}]}],
     "suggestions": [{"text", "change", "predicted_feasible", "hypernode", "size"}],
     "no_single_change": bool}

``status``: ``running`` (every pod of the job is bound: its placement is shown, nothing to
explain), ``placeable`` (the engine predicts Volcano places it), ``not_scheduled_by_volcano``
(its ``schedulerName`` is not volcano: nothing Volcano does explains it), ``infeasible`` (the diagnosis
per tier, :mod:`.diagnose`, and the suggestions, :mod:`.suggest`, each re-predicted with
:func:`~hypertopo.placement.predict` on the changed inputs before it is offered).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypertopo.placement.diagnose import diagnose
from hypertopo.placement.engine import gc_paused, simulate
from hypertopo.placement.errors import PlacementInputError
from hypertopo.placement.jobs import JobIn
from hypertopo.placement.model import Job
from hypertopo.placement.objects import ANN_GROUP_NAME
from hypertopo.placement.result import shape
from hypertopo.placement.session import Session
from hypertopo.placement.world import reuse_parsed_pods

#: jobs listed by name in the error for an unknown job, at most
MAX_LISTED_JOBS = 20


class JobNotFoundError(PlacementInputError):
    """The job to explain is not among the inputs (an input error: exit 2)."""


def split_ref(ref: str) -> tuple[str, str]:
    """``NS/NAME`` -> (NS, NAME); a bare ``NAME`` is in namespace ``default``."""
    text = ref.strip()
    namespace, _, name = text.rpartition("/")
    if not name or "/" in namespace:
        raise PlacementInputError(f"job {ref!r}: expected NAMESPACE/NAME")
    return namespace or "default", name


def find_job(job_ins: Sequence[JobIn], ref: str) -> int:
    """Position of the job ``ref`` among ``job_ins`` (by name, or by PodGroup name)."""
    namespace, name = split_ref(ref)
    for pos, job in enumerate(job_ins):
        if job.namespace == namespace and name in (job.name, job.podgroup):
            return pos
    known = [f"{j.namespace}/{j.name} ({j.kind})" for j in job_ins]
    if not known:
        listing = "there are no jobs in the input"
    elif len(known) <= MAX_LISTED_JOBS:
        listing = "jobs: " + ", ".join(known)
    else:
        listing = f"{len(known)} jobs, e.g. " + ", ".join(known[:MAX_LISTED_JOBS])
    raise JobNotFoundError(f"job {namespace}/{name} not found; {listing}")


#: the workload kinds :func:`pick_workload` looks for, in this order
WORKLOAD_KINDS = ("Job", "Deployment", "StatefulSet", "PodGroup")


def _meta(obj: Any) -> Mapping[str, Any]:
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    return meta if isinstance(meta, Mapping) else {}


def pick_workload(workloads: Sequence[Any], pods: Sequence[Any], ref: str) -> tuple[dict[str, Any], str]:
    """The object to explain among a live cluster's ``workloads`` (Volcano Jobs, Deployments,
    StatefulSets and PodGroups, as listed from the API server) and the ``NS/NAME`` to explain.

    A Deployment or StatefulSet whose pods exist is explained through the PodGroup Volcano's
    pg-controller made for it (its pods' ``scheduling.k8s.io/group-name``): the real pod names
    carry random suffixes, so only the PodGroup ties them to their gang. Raises
    :class:`JobNotFoundError` listing the workloads of the namespace."""
    namespace, name = split_ref(ref)
    mine = [w for w in workloads if (_meta(w).get("namespace") or "default") == namespace]
    for kind in WORKLOAD_KINDS:
        for obj in mine:
            if obj.get("kind") != kind or _meta(obj).get("name") != name:
                continue
            if kind in ("Deployment", "StatefulSet"):
                group = _podgroup_of(obj, pods)
                podgroup = next(
                    (w for w in mine if w.get("kind") == "PodGroup" and _meta(w).get("name") == group), None
                )
                if podgroup is not None:
                    return dict(podgroup), f"{namespace}/{group}"
            return dict(obj), f"{namespace}/{name}"
    known = [f"{w.get('kind')} {_meta(w).get('name')}" for w in mine if w.get("kind") in WORKLOAD_KINDS]
    if not known:
        listing = f"namespace {namespace} has no Volcano Job, Deployment, StatefulSet or PodGroup"
    else:
        more = f" (and {len(known) - MAX_LISTED_JOBS} more)" if len(known) > MAX_LISTED_JOBS else ""
        listing = f"in {namespace}: {', '.join(known[:MAX_LISTED_JOBS])}{more}"
    raise JobNotFoundError(f"job {namespace}/{name} not found; {listing}")


def _podgroup_of(obj: Mapping[str, Any], pods: Sequence[Any]) -> str | None:
    """The PodGroup of a Deployment's/StatefulSet's pods (those its ``matchLabels`` select)."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    if not selector:
        return None
    namespace = _meta(obj).get("namespace")
    for pod in pods:
        meta = _meta(pod)
        labels = meta.get("labels") or {}
        if meta.get("namespace") == namespace and all(labels.get(k) == v for k, v in selector.items()):
            group = (meta.get("annotations") or {}).get(ANN_GROUP_NAME)
            if group:
                return str(group)
    return None


def _running(job: Job) -> bool:
    pods = [t.pod for t in job.tasks]
    return bool(pods) and all(p.existing is not None and p.existing.node_name for p in pods)


def explain(inputs: Mapping[str, Any], ref: str, *, suggest: bool = True, workers: int = 1) -> dict[str, Any]:
    """Explain job ``ref`` (``NAMESPACE/NAME``) over ``inputs`` (see the module docs); ``workers``
    > 1 predicts the suggestions in that many forked processes (the same result, sooner)."""
    with gc_paused(), reuse_parsed_pods():
        session, job_ins, _ = simulate(**inputs)
        position = find_job(job_ins, ref)
        return _explain(session, position, inputs, suggest, workers)


def _explain(
    session: Session, position: int, inputs: Mapping[str, Any], suggest: bool, workers: int
) -> dict[str, Any]:
    job = session.jobs[position]
    shaped = shape(session)["jobs"][position]
    if not job.inp.scheduled_by_volcano:
        status = "not_scheduled_by_volcano"
    elif _running(job):
        status = "running"
    else:
        status = "placeable" if shaped["feasible"] else "infeasible"
    out: dict[str, Any] = {
        "job": f"{job.inp.namespace}/{job.inp.name}",
        "kind": job.inp.kind,
        "podgroup": job.inp.podgroup,
        "status": status,
        "feasible": bool(shaped["feasible"]),
        "constraint": shaped["constraint"],
        "hypernode": shaped["hypernode"],
        "tier": shaped["tier"],
        "placements": {p["pod"]: p["node"] for p in shaped["placements"]},
        "reasons": list(shaped["reasons"]),
        "warnings": list(shaped["warnings"]),
        "tiers": [],
        "suggestions": [],
        "no_single_change": False,
    }
    if status != "infeasible":
        return out
    for extra in (session.skip.get(job.key), session.sched.unadmitted.get(job.key)):
        if extra and extra not in out["reasons"]:
            out["reasons"].insert(0, extra)
    gpu_label = session.world.network.gpu_type_label
    out["tiers"] = diagnose(session.sched, job, gpu_label)
    if suggest:
        from hypertopo.placement.suggest import suggestions  # the what-if changes

        offered = suggestions(session, job, out["tiers"], inputs, workers)
        out["suggestions"] = offered
        out["no_single_change"] = not any(s["predicted_feasible"] for s in offered)
    return out
