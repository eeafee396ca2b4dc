"""Read what a prediction needs from a live cluster, read only (GET and LIST requests).

The same objects ``playbooks/plan.yml -e plan_from_cluster=true`` lists with
``kubernetes.core.k8s_info``: every Node, HyperNode and Pod and the scheduler ConfigMap
(``volcano-system/volcano-scheduler-configmap``); plus the workload to explain, found by
namespace and name as a Volcano Job, a Deployment or StatefulSet, or a PodGroup. A Deployment or
StatefulSet whose pods exist is explained through the PodGroup Volcano's pg-controller made for
it (its pods carry ``scheduling.k8s.io/group-name``): their real names carry random suffixes,
so only the PodGroup ties them to their gang.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from hypertopo.cluster.rest import ApiError, Rest
from hypertopo.placement.objects import ANN_GROUP_NAME

SCHEDULER_CONFIGMAP = ("volcano-system", "volcano-scheduler-configmap")
PAGE = 500
#: (API path prefix, apiVersion, kind, plural) of the workloads explain accepts, in lookup order
WORKLOADS = (
    ("/apis/batch.volcano.sh/v1alpha1", "batch.volcano.sh/v1alpha1", "Job", "jobs"),
    ("/apis/apps/v1", "apps/v1", "Deployment", "deployments"),
    ("/apis/apps/v1", "apps/v1", "StatefulSet", "statefulsets"),
    ("/apis/scheduling.volcano.sh/v1beta1", "scheduling.volcano.sh/v1beta1", "PodGroup", "podgroups"),
)
#: workload names listed when the asked one does not exist, at most
MAX_LISTED = 20


class NotFoundError(LookupError):
    """The workload to explain does not exist (the message lists those that do, when few)."""


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


def read_world(rest: Rest, configmap: tuple[str, str] = SCHEDULER_CONFIGMAP) -> dict[str, Any]:
    """Nodes, HyperNodes, Pods and the scheduler ConfigMap (None when it does not exist)."""
    namespace, name = configmap
    return {
        "nodes": _with_kind(list_all(rest, "/api/v1/nodes"), "v1", "Node"),
        "hypernodes": _with_kind(
            list_all(rest, "/apis/topology.volcano.sh/v1alpha1/hypernodes"),
            "topology.volcano.sh/v1alpha1",
            "HyperNode",
        ),
        "pods": _with_kind(list_all(rest, "/api/v1/pods"), "v1", "Pod"),
        "scheduler_conf": rest.get_or_none(f"/api/v1/namespaces/{namespace}/configmaps/{name}"),
    }


def find_workload(
    rest: Rest, namespace: str, name: str, pods: list[dict[str, Any]]
) -> tuple[dict[str, Any], str]:
    """(the object to give the predictor, the ``NS/NAME`` to explain)."""
    for prefix, api_version, kind, plural in WORKLOADS:
        obj = rest.get_or_none(f"{prefix}/namespaces/{namespace}/{plural}/{name}")
        if obj is None:
            continue
        obj.setdefault("apiVersion", api_version)
        obj.setdefault("kind", kind)
        if kind in ("Deployment", "StatefulSet"):
            group = _podgroup_of(obj, pods)
            if group is not None:
                podgroup = rest.get_or_none(
                    f"/apis/scheduling.volcano.sh/v1beta1/namespaces/{namespace}/podgroups/{group}"
                )
                if podgroup is not None:
                    podgroup.setdefault("apiVersion", "scheduling.volcano.sh/v1beta1")
                    podgroup.setdefault("kind", "PodGroup")
                    return podgroup, f"{namespace}/{group}"
        return obj, f"{namespace}/{name}"
    raise NotFoundError(f"{namespace}/{name}: no such workload; {_existing(rest, namespace)}")


def _podgroup_of(obj: Mapping[str, Any], pods: list[dict[str, Any]]) -> str | None:
    """The PodGroup of a Deployment's/StatefulSet's pods (its selector's ``matchLabels``)."""
    meta = obj.get("metadata") or {}
    selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    if not selector:
        return None
    for pod in pods:
        pmeta = pod.get("metadata") or {}
        if pmeta.get("namespace") != meta.get("namespace"):
            continue
        labels = pmeta.get("labels") or {}
        if all(labels.get(k) == v for k, v in selector.items()):
            group = (pmeta.get("annotations") or {}).get(ANN_GROUP_NAME)
            if group:
                return str(group)
    return None


def _existing(rest: Rest, namespace: str) -> str:
    names: list[str] = []
    for prefix, _api, kind, plural in WORKLOADS:
        try:
            items = list_all(rest, f"{prefix}/namespaces/{namespace}/{plural}")
        except ApiError:
            continue
        names.extend(f"{kind} {(i.get('metadata') or {}).get('name')}" for i in items)
    if not names:
        return f"namespace {namespace} has no Volcano Job, Deployment, StatefulSet or PodGroup"
    shown = ", ".join(names[:MAX_LISTED])
    more = f" (and {len(names) - MAX_LISTED} more)" if len(names) > MAX_LISTED else ""
    return f"in {namespace}: {shown}{more}"
