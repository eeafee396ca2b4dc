"""Node simulator: API-only Node objects for the local control plane.

Each node is rendered by :func:`hypertopo.topology.objects.node_object`: the labels a fresh
kubelet registers plus any given ones, ``status.capacity`` = ``status.allocatable`` (by default
cpu, memory, pods and ``nvidia.com/gpu``; any map can be given, with or without GPUs), optional
taints and ``unschedulable``, and the status a kubelet would report (``Ready``, node info).
Inventory hosts get no topology or GPU-model labels: applying them is the job of our roles. No
kubelet runs, so bound pods stay ``Pending``; Volcano ignores node conditions and only needs
allocatable resources and no ``NoSchedule`` taints.

Nodes are created with their status in one POST (the Node REST strategy keeps status on
create), concurrently through a thread pool, so thousands of nodes take seconds. Existing nodes
are updated in place: their resources and the kubelet's labels are (re)set, every other label
(e.g. topology labels our roles applied) is kept, and taints / ``unschedulable`` are replaced
only when the spec sets them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hypertopo.cluster.rest import ApiError, Rest
from hypertopo.topology.labels import GPU_RESOURCE
from hypertopo.topology.objects import node_object, node_resources

DEFAULT_WORKERS = 16
#: The resources a simulated node has unless told otherwise; an update removes those a spec drops.
STANDARD_RESOURCES = ("cpu", "memory", "pods", GPU_RESOURCE)


class HostLike(Protocol):
    name: str
    gpu_count: int
    cpu: str
    memory: str
    pods: int


@dataclass(frozen=True)
class NodeSpec:
    """One simulated node.

    ``gpu=None`` gives a node without the GPU resource; ``resources`` replaces the whole
    allocatable (and capacity) map, ignoring ``cpu``/``memory``/``gpu``/``pods``. ``taints`` are
    Kubernetes taint objects (``{"key": ..., "value": ..., "effect": "NoSchedule"}``).
    """

    name: str
    cpu: str = "64"
    memory: str = "512Gi"
    gpu: int | None = 8
    pods: int = 110
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: Sequence[Mapping[str, Any]] = ()
    unschedulable: bool = False
    resources: Mapping[str, str] | None = None

    @classmethod
    def of(cls, item: HostLike | NodeSpec | Mapping[str, Any] | Sequence[Any]) -> NodeSpec:
        """From an inventory host, a NodeSpec, a Node object (labels, taints, ``unschedulable``,
        ``status.allocatable``), or a ``(name, cpu, memory, gpu, pods)`` tuple."""
        if isinstance(item, NodeSpec):
            return item
        if isinstance(item, Mapping):
            spec = item.get("spec") or {}
            return cls(
                str(item["metadata"]["name"]),
                labels=dict(item["metadata"].get("labels") or {}),
                taints=tuple(spec.get("taints") or ()),
                unschedulable=bool(spec.get("unschedulable")),
                resources=dict((item.get("status") or {}).get("allocatable") or {}),
            )
        if isinstance(item, list | tuple):
            name, cpu, memory, gpu, pods = item
            return cls(str(name), str(cpu), str(memory), int(gpu), int(pods))
        return cls(item.name, str(item.cpu), str(item.memory), int(item.gpu_count), int(item.pods))

    def allocatable(self) -> dict[str, str]:
        """The node's capacity and allocatable resources."""
        if self.resources is not None:
            return {k: str(v) for k, v in self.resources.items()}
        res = node_resources(cpu=self.cpu, memory=self.memory, gpus=self.gpu or 0, pods=self.pods)
        if self.gpu is None:
            del res[GPU_RESOURCE]
        return res

    def node(self) -> dict[str, Any]:
        """The Node object, with the simulated kubelet's status."""
        return node_object(
            self.name,
            self.labels,
            resources=self.allocatable(),
            taints=self.taints,
            unschedulable=self.unschedulable,
            status=simulated_status(),
        )


def simulated_status() -> dict[str, Any]:
    """What a kubelet would report besides resources: ``Ready`` and the node info."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "KubeletReady",
                "message": "simulated by hypertopo (API-only node)",
                "lastHeartbeatTime": now,
                "lastTransitionTime": now,
            }
        ],
        "nodeInfo": {
            "architecture": "amd64",
            "operatingSystem": "linux",
            "kubeletVersion": "v0.0.0-simulated",
            "kubeProxyVersion": "",
            "containerRuntimeVersion": "none://simulated",
            "kernelVersion": "",
            "osImage": "simulated",
            "machineID": "",
            "systemUUID": "",
            "bootID": "",
        },
    }


def _merge_patch(rest: Rest, path: str, body: Mapping[str, Any]) -> None:
    rest.request("PATCH", path, body, content_type="application/merge-patch+json", raw=True)


def _apply_one(rest: Rest, spec: NodeSpec) -> str:
    """Create the node, or update an existing one; returns 'created' or 'updated'."""
    node = spec.node()
    try:
        rest.request("POST", "/api/v1/nodes", node, raw=True)
        return "created"
    except ApiError as exc:
        if exc.status != 409:
            raise
    path = f"/api/v1/nodes/{spec.name}"
    meta: dict[str, Any] = {"metadata": {"labels": node["metadata"]["labels"]}}
    if spec.taints or spec.unschedulable:
        meta["spec"] = {"taints": node["spec"].get("taints"), "unschedulable": spec.unschedulable or None}
    _merge_patch(rest, path, meta)
    res: dict[str, str | None] = {k: None for k in STANDARD_RESOURCES}
    res.update(spec.allocatable())
    _merge_patch(rest, path + "/status", {"status": {"capacity": res, "allocatable": res}})
    return "updated"


@dataclass
class ApplyResult:
    created: int = 0
    updated: int = 0
    seconds: float = 0.0
    names: list[str] = field(default_factory=list)


NodeLike = HostLike | NodeSpec | Mapping[str, Any] | Sequence[Any]


def apply_nodes(rest: Rest, hosts: Iterable[NodeLike], *, workers: int = DEFAULT_WORKERS) -> ApplyResult:
    """Create or update one Node per host, concurrently. ``rest`` should have a
    pool at least ``workers`` large (see :func:`apply_nodes_kubeconfig`)."""
    specs = [NodeSpec.of(h) for h in hosts]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        dup = {n for n in names if names.count(n) > 1}
        raise ValueError(f"duplicate node names: {', '.join(sorted(dup))}")
    t0 = time.monotonic()
    res = ApplyResult(names=names)
    if not specs:
        return res
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(specs)))) as pool:
        for outcome in pool.map(lambda s: _apply_one(rest, s), specs):
            if outcome == "created":
                res.created += 1
            else:
                res.updated += 1
    res.seconds = time.monotonic() - t0
    return res


def delete_nodes(rest: Rest, names: Iterable[str], *, workers: int = DEFAULT_WORKERS) -> int:
    """Delete Nodes by name (missing ones are fine); returns how many were asked for."""
    names = list(names)
    if not names:
        return 0
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(names)))) as pool:
        list(pool.map(lambda n: rest.delete(f"/api/v1/nodes/{n}", grace_period_seconds=0), names))
    return len(names)


def hosts_from_inventory(inventory: Path | str) -> list[NodeSpec]:
    """One NodeSpec per inventory host (``hypertopo.topology.load_topology``)."""
    from hypertopo.topology import load_topology

    topo = load_topology(str(inventory))
    return [NodeSpec.of(h) for h in topo.hosts.values()]


def apply_nodes_kubeconfig(
    kubeconfig: Path | str, hosts: Iterable[NodeLike], *, workers: int = DEFAULT_WORKERS
) -> ApplyResult:
    """:func:`apply_nodes` with a client of its own built from ``kubeconfig``."""
    rest = Rest.from_kubeconfig(kubeconfig, pool_size=workers)
    try:
        return apply_nodes(rest, hosts, workers=workers)
    finally:
        rest.close()
