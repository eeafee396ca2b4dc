"""Read what a prediction needs from a live cluster, read only (GET and LIST requests).

The same objects ``playbooks/plan.yml -e plan_from_cluster=true`` lists with
``kubernetes.core.k8s_info``: every Node, HyperNode and Pod, the PriorityClasses (name, value and
globalDefault only: a job's priority, :func:`hypertopo.placement.world.parse_priority_classes`)
and the scheduler ConfigMap (``volcano-system/volcano-scheduler-configmap``); plus the workload
to explain, found by namespace and name among the namespace's Volcano Jobs, Deployments,
StatefulSets and PodGroups (:func:`hypertopo.placement.explain.pick_workload`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from hypertopo.cluster.rest import ApiError, Rest
from hypertopo.placement.explain import pick_workload, split_ref

SCHEDULER_CONFIGMAP = ("volcano-system", "volcano-scheduler-configmap")
PAGE = 500
PRIORITY_CLASSES = "/apis/scheduling.k8s.io/v1/priorityclasses"
#: (API path prefix, apiVersion, kind, plural) of the workloads explain accepts, in lookup order
WORKLOADS = (
    ("/apis/batch.volcano.sh/v1alpha1", "batch.volcano.sh/v1alpha1", "Job", "jobs"),
    ("/apis/apps/v1", "apps/v1", "Deployment", "deployments"),
    ("/apis/apps/v1", "apps/v1", "StatefulSet", "statefulsets"),
    ("/apis/scheduling.volcano.sh/v1beta1", "scheduling.volcano.sh/v1beta1", "PodGroup", "podgroups"),
)


def list_all(rest: Rest, path: str) -> list[dict[str, Any]]:
    """Every item of a LIST, page by page (``limit``/``continue``)."""
    items: list[dict[str, Any]] = []
    token = ""
    while True:
        sep = "&" if "?" in path else "?"
        url = f"{path}{sep}limit={PAGE}" + (f"&continue={quote(token)}" if token else "")
        body = rest.get(url) or {}
        items.extend(body.get("items") or [])
        token = (body.get("metadata") or {}).get("continue") or ""
        if not token:
            return items


def _with_kind(items: list[dict[str, Any]], api_version: str, kind: str) -> list[dict[str, Any]]:
    """LIST items carry no apiVersion/kind; the predictor reads them."""
    for item in items:
        item.setdefault("apiVersion", api_version)
        item.setdefault("kind", kind)
    return items


def priority_classes(rest: Rest) -> list[dict[str, Any]]:
    """The cluster's PriorityClasses (scheduling.k8s.io/v1, cluster-scoped), only the fields the
    engine reads: ``metadata.name``, ``value``, ``globalDefault``. An API server that does not
    serve the group (404) has none."""
    try:
        items = list_all(rest, PRIORITY_CLASSES)
    except ApiError as exc:
        if exc.status == 404:
            return []
        raise
    return [
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": (item.get("metadata") or {}).get("name")},
            "value": item.get("value"),
            "globalDefault": bool(item.get("globalDefault")),
        }
        for item in items
    ]


def read_world(rest: Rest, configmap: tuple[str, str] = SCHEDULER_CONFIGMAP) -> dict[str, Any]:
    """Nodes, HyperNodes, Pods, PriorityClasses and the scheduler ConfigMap (None when it does not
    exist)."""
    namespace, name = configmap
    return {
        "nodes": _with_kind(list_all(rest, "/api/v1/nodes"), "v1", "Node"),
        "hypernodes": _with_kind(
            list_all(rest, "/apis/topology.volcano.sh/v1alpha1/hypernodes"),
            "topology.volcano.sh/v1alpha1",
            "HyperNode",
        ),
        "pods": _with_kind(list_all(rest, "/api/v1/pods"), "v1", "Pod"),
        "priority_classes": priority_classes(rest),
        "scheduler_conf": rest.get_or_none(f"/api/v1/namespaces/{namespace}/configmaps/{name}"),
    }


def find_workload(rest: Rest, ref: str, pods: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
    """(the object to give the predictor, the ``NS/NAME`` to explain): the namespace's workloads
    listed, then :func:`hypertopo.placement.explain.pick_workload` (which ``playbooks/explain.yml``
    uses on its ``k8s_info`` results)."""
    namespace, _name = split_ref(ref)
    workloads: list[dict[str, Any]] = []
    for prefix, api_version, kind, plural in WORKLOADS:
        try:
            items = list_all(rest, f"{prefix}/namespaces/{namespace}/{plural}")
        except ApiError as exc:
            if exc.status == 404:  # the kind's API is not served (e.g. Volcano not installed)
                continue
            raise
        workloads.extend(_with_kind(items, api_version, kind))
    return pick_workload(workloads, pods, ref)
