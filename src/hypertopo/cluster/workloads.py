"""Objects to create in a local control plane: Volcano Jobs, bound pods, namespaces, and the REST
path of any object.

:func:`vcjob` writes fully specified Jobs (scheduler, queue, ``minAvailable`` per task and per
job, a placeholder container with requests = limits), so that Volcano's mutating webhook has
nothing to add and the Job reads back as it was sent. Every helper takes the Kubernetes fields
it does not name as pass-through mappings, so any spec can be expressed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypertopo.topology.labels import GPU_RESOURCE

VCJOB_API = "batch.volcano.sh/v1alpha1"
PLACEHOLDER_IMAGE = "registry.k8s.io/pause:3.10"  # never pulled: kwok only reports it running
TASK_LABEL = "hypertopo.test/task"

#: Kinds without a namespace (the ones a test of this project creates).
CLUSTER_SCOPED = frozenset(
    {
        "Node",
        "Namespace",
        "HyperNode",
        "Queue",
        "PriorityClass",
        "CustomResourceDefinition",
        "ClusterRole",
        "ClusterRoleBinding",
        "PersistentVolume",
        "StorageClass",
        "Numatopology",
    }
)
_IRREGULAR_PLURALS = {"Endpoints": "endpoints"}


def plural(kind: str) -> str:
    """The resource name of ``kind`` (``Pod`` -> ``pods``, ``PriorityClass`` -> ``priorityclasses``)."""
    if kind in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[kind]
    k = kind.lower()
    if k.endswith("s"):
        return k + "es"
    if k.endswith("y"):
        return k[:-1] + "ies"
    return k + "s"


def collection_path(api_version: str, kind: str, namespace: str | None = None) -> str:
    """The REST path of the collection of ``kind`` (in ``namespace`` unless cluster-scoped)."""
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    if kind in CLUSTER_SCOPED:
        return f"{base}/{plural(kind)}"
    if not namespace:
        raise ValueError(f"{kind} is namespaced: give a namespace")
    return f"{base}/namespaces/{namespace}/{plural(kind)}"


def object_path(obj: Mapping[str, Any]) -> str:
    """The REST path of one object (from its apiVersion, kind, name and namespace)."""
    meta = obj["metadata"]
    return f"{collection_path(obj['apiVersion'], obj['kind'], meta.get('namespace'))}/{meta['name']}"


def namespace_object(name: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if labels:
        meta["labels"] = dict(labels)
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def container(
    *, gpus: int = 0, cpu: str = "1", memory: str = "1Gi", requests: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A placeholder container whose requests (= limits) are ``requests``, or cpu, memory and GPUs."""
    if requests is None:
        res: dict[str, str] = {"cpu": cpu, "memory": memory}
        if gpus:
            res[GPU_RESOURCE] = str(gpus)
    else:
        res = {k: str(v) for k, v in requests.items()}
    return {"name": "main", "image": PLACEHOLDER_IMAGE, "resources": {"requests": res, "limits": dict(res)}}


@dataclass(frozen=True)
class Task:
    """One task of a Volcano Job: ``replicas`` pods, each asking for ``gpus`` GPUs, ``cpu`` and
    ``memory`` (or exactly ``requests``).

    ``partition_policy`` is the task's ``partitionPolicy`` (``totalPartitions``,
    ``partitionSize``, ``minPartitions``, ...); ``tolerations``, ``node_selector`` and
    ``affinity`` go into its pod template, ``pod_spec`` is merged over that template's spec.
    """

    name: str
    replicas: int
    gpus: int = 0
    cpu: str = "1"
    memory: str = "1Gi"
    min_available: int | None = None
    requests: Mapping[str, str] | None = None
    partition_policy: Mapping[str, Any] | None = None
    tolerations: Sequence[Mapping[str, Any]] = ()
    node_selector: Mapping[str, str] | None = None
    affinity: Mapping[str, Any] | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    pod_spec: Mapping[str, Any] = field(default_factory=dict)

    def task(
        self,
        *,
        node_selector: Mapping[str, str] | None = None,
        tolerations: Sequence[Mapping[str, Any]] = (),
        priority_class_name: str | None = None,
    ) -> dict[str, Any]:
        """The task entry of a Job spec; the job-wide settings are added to the pod template."""
        pod_spec: dict[str, Any] = {
            "schedulerName": "volcano",
            "restartPolicy": "OnFailure",
            "terminationGracePeriodSeconds": 0,
            "containers": [
                container(gpus=self.gpus, cpu=self.cpu, memory=self.memory, requests=self.requests)
            ],
        }
        selector = {**(node_selector or {}), **(self.node_selector or {})}
        if selector:
            pod_spec["nodeSelector"] = selector
        all_tolerations = [dict(t) for t in (*tolerations, *self.tolerations)]
        if all_tolerations:
            pod_spec["tolerations"] = all_tolerations
        if self.affinity:
            pod_spec["affinity"] = dict(self.affinity)
        if priority_class_name:
            pod_spec["priorityClassName"] = priority_class_name
        pod_spec.update(self.pod_spec)
        task: dict[str, Any] = {
            "name": self.name,
            "replicas": self.replicas,
            "minAvailable": self.replicas if self.min_available is None else self.min_available,
            "maxRetry": 3,
            "template": {"metadata": {"labels": {TASK_LABEL: self.name, **self.labels}}, "spec": pod_spec},
        }
        if self.partition_policy:
            task["partitionPolicy"] = dict(self.partition_policy)
        return task


def vcjob(
    name: str,
    namespace: str,
    tasks: Sequence[Task],
    *,
    network_topology: Mapping[str, Any] | None = None,
    node_selector: Mapping[str, str] | None = None,
    tolerations: Sequence[Mapping[str, Any]] = (),
    queue: str = "default",
    min_available: int | None = None,
    priority_class_name: str | None = None,
    spec: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A fully specified Volcano Job.

    ``min_available`` defaults to the sum of the tasks'; ``network_topology`` is the job's
    ``networkTopology`` (``mode``, ``highestTierAllowed``); ``node_selector``, ``tolerations``
    and ``priority_class_name`` apply to every task's pods; ``spec`` is merged over the
    generated Job spec (any other field, or a replacement).
    """
    task_objs = [
        t.task(node_selector=node_selector, tolerations=tolerations, priority_class_name=priority_class_name)
        for t in tasks
    ]
    job_spec: dict[str, Any] = {
        "schedulerName": "volcano",
        "queue": queue,
        "maxRetry": 3,
        "minAvailable": (
            min_available if min_available is not None else sum(int(t["minAvailable"]) for t in task_objs)
        ),
        "tasks": task_objs,
    }
    if network_topology:
        job_spec["networkTopology"] = dict(network_topology)
    if priority_class_name:
        job_spec["priorityClassName"] = priority_class_name
    job_spec.update(spec or {})
    return {
        "apiVersion": VCJOB_API,
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace},
        "spec": job_spec,
    }


def bound_pod(
    name: str,
    namespace: str,
    node: str,
    *,
    gpus: int = 0,
    cpu: str = "1",
    memory: str = "1Gi",
    requests: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    spec: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A pod already bound to ``node`` (``spec.nodeName``), holding its requests there.

    ``spec`` is merged over the generated pod spec.
    """
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = dict(labels)
    pod_spec: dict[str, Any] = {
        "schedulerName": "default-scheduler",
        "nodeName": node,
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": 0,
        "containers": [container(gpus=gpus, cpu=cpu, memory=memory, requests=requests)],
    }
    pod_spec.update(spec or {})
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod_spec}


def pod_running(pod: Mapping[str, Any]) -> bool:
    """True if the pod is ``Running`` with condition ``Ready=True`` and is not being deleted."""
    status = pod.get("status") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or ()
    )
    return status.get("phase") == "Running" and ready and not pod["metadata"].get("deletionTimestamp")
