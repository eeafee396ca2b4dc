"""Turn the objects to place into PodGroups and pods, the way Volcano's controllers do.

* ``batch.volcano.sh/v1alpha1`` Job: the job mutating webhook's defaults (task
  ``name``, ``minAvailable``, job ``minAvailable`` = sum of task minimums), the job
  controller's PodGroup (``minMember``, ``minTaskMember``, ``minResources`` from
  the first ``minAvailable`` pods' written requests, ``networkTopology``, one
  ``subGroupPolicy`` per task with a ``partitionPolicy``) and pods
  ``<job>-<task>-<index>`` with the ``volcano.sh/*`` labels (``partition-id =
  index / partitionSize``) (``pkg/controllers/job``).
* ``apps/v1`` Deployment / StatefulSet: the pg-controller's PodGroup: ``minMember``
  from the owner annotation ``scheduling.volcano.sh/group-min-member`` (default 1),
  ``networkTopology`` from the pod-template annotations
  ``volcano.sh/network-topology-mode`` / ``volcano.sh/network-topology-highest-tier``
  (``pkg/controllers/podgroup``). Pods are named ``<owner>-<index>`` here (the
  real names carry random suffixes).
* ``scheduling.volcano.sh/v1beta1`` PodGroup: as written; its pods are the given
  Pods annotated ``scheduling.k8s.io/group-name: <podgroup>`` in its namespace.

What the API server would refuse is an input error, not a prediction: for a Job the CRD's
int32 fields and minimums and the job admission webhook's rules (after its mutating
defaults), ``pkg/webhooks/admission/jobs/validate/admit_job.go`` ``validateJobCreate`` and
``validatePartitionPolicy``: task ``minAvailable`` <= ``replicas``, job ``minAvailable`` <=
the tasks' total replicas, ``minAvailable`` = ``minPartitions x partitionSize`` when both are
set, unique task names, ``highestTierAllowed`` and ``highestTierName`` not both set; for a
Deployment/StatefulSet a negative ``replicas``. The jobs of one prediction create at most
``MAX_PODS`` pods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypertopo.placement.errors import PlacementInputError
from hypertopo.placement.fields import (
    INT32_MAX,
    as_int,
    as_list,
    as_mapping,
    as_str,
    resources_from,
    string_map,
    where_of,
)
from hypertopo.placement.objects import ANN_GROUP_NAME, PodObj
from hypertopo.placement.podspec import PodSpecInfo, parse_pod_spec
from hypertopo.placement.resources import Resources, add_into
from hypertopo.placement.selectors import LabelSelector, parse_label_selector

ANN_TOPO_MODE = "volcano.sh/network-topology-mode"
ANN_TOPO_TIER = "volcano.sh/network-topology-highest-tier"
ANN_MIN_MEMBER = "scheduling.volcano.sh/group-min-member"
ANN_QUEUE = "scheduling.volcano.sh/queue-name"
LABEL_TASK_SPEC = "volcano.sh/task-spec"
LABEL_JOB_NAME = "volcano.sh/job-name"
LABEL_PARTITION = "volcano.sh/partition-id"
VOLCANO = "volcano"

#: The most pods the jobs of one prediction may create (their replicas summed): the
#: Kubernetes limit for a whole cluster; it bounds the memory and time of absurd replica counts.
MAX_PODS = 150_000


class PodBudget:
    """The pods the jobs of one prediction may still create (``MAX_PODS`` in all)."""

    def __init__(self, limit: int = MAX_PODS) -> None:
        self.limit = limit
        self.left = limit

    def take(self, count: int, where: str, path: str) -> None:
        if count > self.left:
            raise PlacementInputError(
                f"{where}: {path}: {count:,} pods would bring the jobs to more than the {self.limit:,} pods "
                "one prediction places (Kubernetes' limit for a whole cluster)"
            )
        self.left -= count


def _count(value: Any, where: str, path: str, *, default: int, minimum: int = 0) -> int:
    """An int32 count of a Volcano or apps object (the CRD/API minimum and int32 maximum)."""
    number = as_int(value, where, path, default=default, minimum=minimum, maximum=INT32_MAX)
    assert number is not None
    return number


@dataclass(frozen=True, slots=True)
class NetworkTopology:
    mode: str  # hard | soft
    tier: int | None
    tier_name: str = ""

    def describe(self) -> str:
        bound = f"highestTierAllowed {self.tier}" if self.tier is not None else ""
        if not bound and self.tier_name:
            bound = f"highestTierName {self.tier_name}"
        return f"{self.mode}" + (f", {bound}" if bound else "")


@dataclass(frozen=True, slots=True)
class SubGroupPolicy:
    name: str
    size: int
    min_groups: int
    selector: LabelSelector | None
    match_keys: tuple[str, ...]
    topology: NetworkTopology | None


@dataclass(slots=True)
class PodIn:
    """One pod of a job: to be created (pending) or already existing."""

    name: str
    namespace: str
    role: str
    labels: dict[str, str]
    spec: PodSpecInfo
    role_position: int
    existing: PodObj | None = None


@dataclass(slots=True)
class JobIn:
    kind: str
    name: str
    namespace: str
    podgroup: str
    min_member: int
    min_task_member: dict[str, int]
    min_resources: Resources
    topology: NetworkTopology | None
    subgroups: list[SubGroupPolicy]
    pods: list[PodIn]
    roles: list[str]
    where: str
    raw: Mapping[str, Any]
    warnings: list[str] = field(default_factory=list)
    scheduled_by_volcano: bool = True
    queue: str = "default"
    #: the PodGroup's spec.priorityClassName (a Volcano Job's spec.priorityClassName, a Deployment's
    #: pod template's); the job's priority is that PriorityClass's value (cache.go Snapshot)
    priority_class: str = ""


def _topology(value: Any, where: str, path: str) -> NetworkTopology | None:
    if value is None:
        return None
    raw = as_mapping(value, where, path)
    mode = as_str(raw.get("mode"), where, f"{path}.mode", default="hard") or "hard"
    if mode not in ("hard", "soft"):
        raise PlacementInputError(f"{where}: {path}.mode: must be hard or soft, got {mode!r}")
    tier = as_int(raw.get("highestTierAllowed"), where, f"{path}.highestTierAllowed")
    if tier is not None and tier < 0:
        raise PlacementInputError(f"{where}: {path}.highestTierAllowed: must be >= 0")
    name = as_str(raw.get("highestTierName"), where, f"{path}.highestTierName")
    return NetworkTopology(mode, tier, name)


def _meta(obj: Mapping[str, Any], kind: str, index: int) -> tuple[str, str, str, Mapping[str, Any]]:
    meta_raw = obj.get("metadata")
    where = where_of(kind, meta_raw, index)
    meta = as_mapping(meta_raw, where, "metadata", required=True)
    name = as_str(meta.get("name"), where, "metadata.name", required=True)
    namespace = as_str(meta.get("namespace"), where, "metadata.namespace", default="default") or "default"
    return name, namespace, where, meta


def _existing_index(pods: Sequence[PodObj]) -> dict[tuple[str, str], PodObj]:
    return {(p.namespace, p.name): p for p in pods}


# --------------------------------------------------------------------------- Volcano Job


def volcano_job(
    obj: Mapping[str, Any], index: int, pods: Sequence[PodObj], budget: PodBudget | None = None
) -> JobIn:
    budget = budget or PodBudget()
    name, namespace, where, meta = _meta(obj, "Job", index)
    spec = as_mapping(obj.get("spec"), where, "spec", required=True)
    tasks = as_list(spec.get("tasks"), where, "spec.tasks")
    if not tasks:
        raise PlacementInputError(f"{where}: spec.tasks: at least one task is required")
    topology = _topology(spec.get("networkTopology"), where, "spec.networkTopology")
    if topology is not None and topology.tier is not None and topology.tier_name:
        raise PlacementInputError(
            f"{where}: spec.networkTopology: highestTierAllowed and highestTierName must not both be set "
            "(the admission webhook rejects it)"
        )
    warnings: list[str] = []
    scheduler = as_str(spec.get("schedulerName"), where, "spec.schedulerName") or VOLCANO
    queue = as_str(spec.get("queue"), where, "spec.queue", default="default") or "default"
    uid = as_str(meta.get("uid"), where, "metadata.uid") or "<uid>"
    podgroup = f"{name}-{uid}"
    existing = _existing_index(pods)
    out_pods: list[PodIn] = []
    roles: list[str] = []
    min_task: dict[str, int] = {}
    subgroups: list[SubGroupPolicy] = []
    per_task: list[tuple[str, int, int | None, PodSpecInfo]] = []
    total_min = 0
    foreign_scheduler = False
    for t, raw_task in enumerate(tasks):
        tpath = f"spec.tasks[{t}]"
        task = as_mapping(raw_task, where, tpath)
        tname = as_str(task.get("name"), where, f"{tpath}.name") or f"default{t}"
        if tname in roles:
            raise PlacementInputError(f"{where}: {tpath}.name: duplicate task name {tname!r}")
        replicas = _count(task.get("replicas"), where, f"{tpath}.replicas", default=0)
        budget.take(replicas, where, f"{tpath}.replicas")
        template = as_mapping(task.get("template"), where, f"{tpath}.template", required=True)
        tmeta = as_mapping(template.get("metadata"), where, f"{tpath}.template.metadata")
        pspec_raw = dict(as_mapping(template.get("spec"), where, f"{tpath}.template.spec", required=True))
        pspec_raw.setdefault("schedulerName", scheduler)
        pspec = parse_pod_spec(pspec_raw, where, f"{tpath}.template.spec", namespace=namespace)
        if pspec.scheduler_name != VOLCANO:
            foreign_scheduler = True
            warnings.append(
                f"task {tname}: schedulerName {pspec.scheduler_name!r} is not volcano: Volcano never places "
                "its pods"
            )
        partition = task.get("partitionPolicy")
        psize = None
        mpath = f"{tpath}.minAvailable"
        task_min = as_int(task.get("minAvailable"), where, mpath, minimum=0, maximum=INT32_MAX)
        if partition is not None:
            ppath = f"{tpath}.partitionPolicy"
            part = as_mapping(partition, where, ppath)
            total = as_int(part.get("totalPartitions"), where, f"{ppath}.totalPartitions", required=True) or 0
            psize = as_int(part.get("partitionSize"), where, f"{ppath}.partitionSize", required=True) or 0
            pmin = _count(part.get("minPartitions"), where, f"{ppath}.minPartitions", default=0)
            if total < 1 or psize < 1:
                raise PlacementInputError(f"{where}: {ppath}: totalPartitions and partitionSize must be >= 1")
            if total * psize != replicas:
                raise PlacementInputError(
                    f"{where}: {ppath}: replicas ({replicas}) must equal totalPartitions x partitionSize "
                    f"({total} x {psize}); the admission webhook rejects the job"
                )
            if task_min is not None and pmin > 0 and pmin * psize != task_min:
                raise PlacementInputError(
                    f"{where}: {tpath}.minAvailable: {task_min} must equal minPartitions x partitionSize "
                    f"({pmin} x {psize}); the admission webhook rejects the job"
                )
            ptopo = _topology(part.get("networkTopology"), where, f"{ppath}.networkTopology")
            subgroups.append(
                SubGroupPolicy(
                    tname,
                    psize,
                    pmin,
                    LabelSelector(
                        parse_label_selector(
                            {"matchLabels": {LABEL_TASK_SPEC: tname}}, where, ppath
                        ).requirements
                    ),
                    (LABEL_PARTITION,),
                    ptopo,
                )
            )
            if task_min is None:
                task_min = pmin * psize if pmin > 0 else replicas
        if task_min is None:
            task_min = replicas
        if task_min > replicas:
            raise PlacementInputError(
                f"{where}: {tpath}.minAvailable: {task_min} is greater than replicas ({replicas}); the "
                "admission webhook rejects the job"
            )
        min_task[tname] = task_min
        total_min += task_min
        roles.append(tname)
        per_task.append((tname, replicas, psize, pspec))
        labels_base = string_map(tmeta.get("labels"), where, f"{tpath}.template.metadata.labels")
        for i in range(replicas):
            pod_name = f"{name}-{tname}-{i}"
            labels = dict(labels_base)
            labels.update(
                {
                    "volcano.sh/task-index": str(i),
                    LABEL_JOB_NAME: name,
                    LABEL_TASK_SPEC: tname,
                    "volcano.sh/job-namespace": namespace,
                    "volcano.sh/queue-name": queue,
                }
            )
            if psize:
                labels[LABEL_PARTITION] = str(i // psize)
            found = existing.get((namespace, pod_name))
            out_pods.append(PodIn(pod_name, namespace, tname, labels, pspec, t, found))
    min_available = _count(spec.get("minAvailable"), where, "spec.minAvailable", default=0)
    total_replicas = sum(replicas for _name, replicas, _psize, _spec in per_task)
    if min_available > total_replicas:
        raise PlacementInputError(
            f"{where}: spec.minAvailable: {min_available} is greater than the tasks' total replicas "
            f"({total_replicas}); the admission webhook rejects the job"
        )
    if min_available == 0:
        min_available = total_min
    min_resources = _volcano_min_resources(per_task, min_task, min_available)
    return JobIn(
        kind="Job",
        name=name,
        namespace=namespace,
        podgroup=podgroup,
        min_member=min_available,
        min_task_member=min_task,
        min_resources=min_resources,
        topology=topology,
        subgroups=subgroups,
        pods=out_pods,
        roles=roles,
        where=where,
        raw=obj,
        warnings=warnings,
        scheduled_by_volcano=not foreign_scheduler,
        queue=queue,
        priority_class=as_str(spec.get("priorityClassName"), where, "spec.priorityClassName"),
    )


def _volcano_min_resources(
    per_task: Sequence[tuple[str, int, int | None, PodSpecInfo]],
    min_task: Mapping[str, int],
    min_available: int,
) -> Resources:
    """``calcPGMinResources`` (all task priority classes equal: spec order)."""
    out: Resources = {}
    total_min = sum(min_task.values())

    def add(spec: PodSpecInfo, count: int) -> None:
        if count <= 0:
            return
        one = dict(spec.template_requests)
        one["pods"] = 1
        add_into(out, {key: val * count for key, val in one.items()})

    if min_available < total_min:
        count = min_available
        for _name, replicas, _psize, spec in per_task:
            if count <= replicas:
                add(spec, count)
                break
            add(spec, replicas)
            count -= replicas
        return out
    pods = 0
    for name, _replicas, _psize, spec in per_task:
        valid = min(min_task[name], min_available - pods)
        add(spec, valid)
        pods += valid
        if pods >= min_available:
            return out
    left = min_available - pods
    for name, replicas, _psize, spec in per_task:
        extra = replicas - min_task[name]
        if extra <= 0:
            continue
        take = min(left, extra)
        add(spec, take)
        left -= take
        if left <= 0:
            break
    return out


# --------------------------------------------------------------------------- Deployment / StatefulSet


def workload(
    obj: Mapping[str, Any], index: int, kind: str, pods: Sequence[PodObj], budget: PodBudget | None = None
) -> JobIn:
    budget = budget or PodBudget()
    name, namespace, where, meta = _meta(obj, kind, index)
    spec = as_mapping(obj.get("spec"), where, "spec", required=True)
    replicas = _count(spec.get("replicas"), where, "spec.replicas", default=1)
    budget.take(replicas, where, "spec.replicas")
    template = as_mapping(spec.get("template"), where, "spec.template", required=True)
    tmeta = as_mapping(template.get("metadata"), where, "spec.template.metadata")
    annotations = string_map(tmeta.get("annotations"), where, "spec.template.metadata.annotations")
    labels = string_map(tmeta.get("labels"), where, "spec.template.metadata.labels")
    pspec = parse_pod_spec(template.get("spec"), where, "spec.template.spec", namespace=namespace)
    warnings: list[str] = []
    owner_ann = string_map(meta.get("annotations"), where, "metadata.annotations")
    min_member = 1
    raw_min = owner_ann.get(ANN_MIN_MEMBER)
    if raw_min is not None:
        try:
            parsed = int(raw_min)
        except ValueError:
            parsed = -1
        if parsed < 0:
            warnings.append(
                f"annotation {ANN_MIN_MEMBER}={raw_min!r} is not a non-negative integer: minMember stays 1"
            )
        else:
            min_member = parsed
    topology = None
    if ANN_TOPO_MODE in annotations or ANN_TOPO_TIER in annotations:
        mode = annotations.get(ANN_TOPO_MODE, "hard").lower()
        if mode not in ("hard", "soft"):
            warnings.append(
                f"annotation {ANN_TOPO_MODE}={annotations[ANN_TOPO_MODE]!r} is invalid: Volcano uses hard"
            )
            mode = "hard"
        tier = None
        if ANN_TOPO_TIER in annotations:
            try:
                tier = int(annotations[ANN_TOPO_TIER])
            except ValueError:
                warnings.append(
                    f"annotation {ANN_TOPO_TIER}={annotations[ANN_TOPO_TIER]!r} is not an integer: ignored"
                )
        topology = NetworkTopology(mode, tier)
    warnings.append(
        f"{kind} pods get the PodTopologySpread plugin's default spreading by node and zone, which the "
        "engine "
        "does not simulate: node choice inside a HyperNode may differ (HyperNode choice does not)"
    )
    if pspec.scheduler_name != VOLCANO:
        warnings.append(
            f"pod template schedulerName is {pspec.scheduler_name or 'default-scheduler'!r}, not volcano: "
            "the "
            "pg-controller ignores these pods and Volcano never places them"
        )
    min_resources: Resources = (
        {key: val * min_member for key, val in pspec.resreq.items()} if min_member > 0 else {}
    )
    existing = _existing_index(pods)
    out_pods = []
    for i in range(replicas):
        pod_name = f"{name}-{i}"
        out_pods.append(
            PodIn(pod_name, namespace, "", dict(labels), pspec, 0, existing.get((namespace, pod_name)))
        )
    return JobIn(
        kind=kind,
        name=name,
        namespace=namespace,
        podgroup=f"podgroup-{as_str(meta.get('uid'), where, 'metadata.uid') or name}",
        min_member=min_member,
        min_task_member={},
        min_resources=min_resources,
        topology=topology,
        subgroups=[],
        pods=out_pods,
        roles=[""],
        where=where,
        raw=obj,
        warnings=warnings,
        scheduled_by_volcano=pspec.scheduler_name == VOLCANO,
        queue=annotations.get(ANN_QUEUE) or "default",
        priority_class=pspec.priority_class_name,
    )


# --------------------------------------------------------------------------- PodGroup


def podgroup(obj: Mapping[str, Any], index: int, pods: Sequence[PodObj]) -> JobIn:
    name, namespace, where, _meta_map = _meta(obj, "PodGroup", index)
    spec = as_mapping(obj.get("spec"), where, "spec")
    min_member = _count(spec.get("minMember"), where, "spec.minMember", default=1)
    min_task: dict[str, int] = {}
    for role, val in as_mapping(spec.get("minTaskMember"), where, "spec.minTaskMember").items():
        min_task[str(role)] = as_int(val, where, f"spec.minTaskMember.{role}", required=True) or 0
    min_resources = resources_from(spec.get("minResources"), where, "spec.minResources")
    topology = _topology(spec.get("networkTopology"), where, "spec.networkTopology")
    subgroups = []
    for i, raw in enumerate(as_list(spec.get("subGroupPolicy"), where, "spec.subGroupPolicy")):
        path = f"spec.subGroupPolicy[{i}]"
        item = as_mapping(raw, where, path)
        sel_raw = item.get("labelSelector")
        subgroups.append(
            SubGroupPolicy(
                as_str(item.get("name"), where, f"{path}.name", required=True),
                as_int(item.get("subGroupSize"), where, f"{path}.subGroupSize", default=1) or 1,
                as_int(item.get("minSubGroups"), where, f"{path}.minSubGroups", default=0) or 0,
                None if sel_raw is None else parse_label_selector(sel_raw, where, f"{path}.labelSelector"),
                tuple(
                    as_str(k, where, f"{path}.matchLabelKeys")
                    for k in as_list(item.get("matchLabelKeys"), where, f"{path}.matchLabelKeys")
                ),
                _topology(item.get("networkTopology"), where, f"{path}.networkTopology"),
            )
        )
    members = [p for p in pods if p.namespace == namespace and p.annotations.get(ANN_GROUP_NAME) == name]
    roles: list[str] = []
    out_pods = []
    for pod in members:
        role = pod.annotations.get(LABEL_TASK_SPEC) or pod.labels.get(LABEL_TASK_SPEC, "")
        if role not in roles:
            roles.append(role)
        out_pods.append(PodIn(pod.name, namespace, role, pod.labels, pod.spec, roles.index(role), pod))
    warnings = []
    if not members:
        warnings.append(
            f"no Pod is annotated {ANN_GROUP_NAME}: {name} in namespace {namespace}: nothing to place"
        )
    return JobIn(
        kind="PodGroup",
        name=name,
        namespace=namespace,
        podgroup=name,
        min_member=min_member,
        min_task_member=min_task,
        min_resources=min_resources,
        topology=topology,
        subgroups=subgroups,
        pods=out_pods,
        roles=roles or [""],
        where=where,
        raw=obj,
        warnings=warnings,
        queue=as_str(spec.get("queue"), where, "spec.queue", default="default") or "default",
        priority_class=as_str(spec.get("priorityClassName"), where, "spec.priorityClassName"),
    )


# --------------------------------------------------------------------------- dispatch


def parse_job(obj: Any, index: int, pods: Sequence[PodObj], budget: PodBudget | None = None) -> JobIn:
    """One object to place; ``budget`` is shared by the jobs of one prediction (``MAX_PODS``)."""
    if not isinstance(obj, Mapping):
        raise PlacementInputError(f"job #{index}: must be a mapping, got {type(obj).__name__}")
    kind = obj.get("kind")
    api = str(obj.get("apiVersion") or "")
    group = api.split("/")[0] if "/" in api else ""
    if kind == "Job" and group == "batch.volcano.sh":
        return volcano_job(obj, index, pods, budget)
    if kind in ("Deployment", "StatefulSet") and group in ("apps", ""):
        return workload(obj, index, kind, pods, budget)
    if kind == "PodGroup" and group in ("scheduling.volcano.sh", ""):
        return podgroup(obj, index, pods)
    where = where_of(
        str(kind or "object"),
        obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else None,
        index,
    )
    raise PlacementInputError(
        f"{where}: kind: unsupported kind {kind!r} (apiVersion {api!r}); expected a "
        "batch.volcano.sh/v1alpha1 Job, "
        "an apps/v1 Deployment or StatefulSet, or a scheduling.volcano.sh/v1beta1 PodGroup"
    )
