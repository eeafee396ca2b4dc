"""Node simulator: API-only Node objects for the local control plane.

Each host becomes a Node with ``status.capacity``/``status.allocatable``
(cpu, memory, pods, ``nvidia.com/gpu``), a ``Ready`` condition and only the
labels a fresh kubelet would register (hostname, os, arch and their beta
twins). Topology and GPU-model labels are deliberately absent: applying them is
the job of our roles. No kubelet runs, so bound pods stay ``Pending``; Volcano
ignores node conditions and only needs allocatable resources and no
``NoSchedule`` taints.

Nodes are created with their status in one POST (the Node REST strategy keeps
status on create), concurrently through a thread pool, so thousands of nodes
take seconds. Existing nodes are updated in place: their resources and the
fresh-cluster labels are (re)set, every other label (e.g. topology labels our
roles applied) is kept.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hypertopo.cluster.rest import ApiError, Rest

GPU_RESOURCE = "nvidia.com/gpu"
DEFAULT_WORKERS = 16


class HostLike(Protocol):
    name: str
    gpu_count: int
    cpu: str
    memory: str
    pods: int


@dataclass(frozen=True)
class NodeSpec:
    """One simulated node."""

    name: str
    cpu: str = "64"
    memory: str = "512Gi"
    gpu: int = 8
    pods: int = 110
    labels: dict[str, str] = field(default_factory=dict)  # extra labels (tests only)

    @classmethod
    def of(cls, item: HostLike | NodeSpec | Sequence[Any]) -> NodeSpec:
        """From an inventory host, a NodeSpec, or a ``(name, cpu, memory, gpu, pods)`` tuple."""
        if isinstance(item, NodeSpec):
            return item
        if isinstance(item, list | tuple):
            name, cpu, memory, gpu, pods = item
            return cls(str(name), str(cpu), str(memory), int(gpu), int(pods))
        return cls(item.name, str(item.cpu), str(item.memory), int(item.gpu_count), int(item.pods))


def fresh_labels(name: str) -> dict[str, str]:
    """The labels a kubelet registers on a new node (and nothing else)."""
    return {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
    }


def _resources(spec: NodeSpec) -> dict[str, str]:
    return {
        "cpu": spec.cpu,
        "memory": spec.memory,
        "pods": str(spec.pods),
        GPU_RESOURCE: str(spec.gpu),
    }


def _status(spec: NodeSpec) -> dict[str, Any]:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    res = _resources(spec)
    return {
        "capacity": res,
        "allocatable": res,
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


def node_object(spec: NodeSpec) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": spec.name, "labels": {**fresh_labels(spec.name), **spec.labels}},
        "spec": {},
        "status": _status(spec),
    }


def _apply_one(rest: Rest, spec: NodeSpec) -> str:
    """Create the node, or update an existing one; returns 'created' or 'updated'."""
    try:
        rest.request("POST", "/api/v1/nodes", node_object(spec), raw=True)
        return "created"
    except ApiError as exc:
        if exc.status != 409:
            raise
    path = f"/api/v1/nodes/{spec.name}"
    rest.request(
        "PATCH",
        path,
        {"metadata": {"labels": {**fresh_labels(spec.name), **spec.labels}}},
        content_type="application/merge-patch+json",
        raw=True,
    )
    status = _status(spec)
    rest.request(
        "PATCH",
        path + "/status",
        {"status": {"capacity": status["capacity"], "allocatable": status["allocatable"]}},
        content_type="application/merge-patch+json",
        raw=True,
    )
    return "updated"


@dataclass
class ApplyResult:
    created: int = 0
    updated: int = 0
    seconds: float = 0.0
    names: list[str] = field(default_factory=list)


def apply_nodes(
    rest: Rest,
    hosts: Iterable[HostLike | NodeSpec | Sequence[Any]],
    *,
    workers: int = DEFAULT_WORKERS,
) -> ApplyResult:
    """Create or update one Node per host, concurrently. ``rest`` should have a
    pool at least ``workers`` large (see :func:`apply_nodes_kubeconfig`)."""
    specs = [NodeSpec.of(h) for h in hosts]
    names = [s.name for s in specs]
    dup = {n for n in names if names.count(n) > 1} if len(set(names)) != len(names) else set()
    if dup:
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
    kubeconfig: Path | str,
    hosts: Iterable[HostLike | NodeSpec | Sequence[Any]],
    *,
    workers: int = DEFAULT_WORKERS,
) -> ApplyResult:
    rest = Rest.from_kubeconfig(kubeconfig, pool_size=workers)
    try:
        return apply_nodes(rest, hosts, workers=workers)
    finally:
        rest.close()
