"""Node simulator: API-only Node objects for the local control plane.

Each node is rendered by :func:`hypertopo.topology.objects.node_object`: the labels a fresh
kubelet registers plus any given ones, ``status.capacity`` = ``status.allocatable`` (by default
cpu, memory, pods and ``nvidia.com/gpu``; any map can be given, with or without GPUs), optional
taints and ``unschedulable``. Inventory hosts get no topology or GPU-model labels: applying them
is the job of our roles.

A node is registered as a kubelet registers it; the rest is the cluster's doing, as in a real
one: kube-apiserver's TaintNodesByCondition admission adds the ``node.kubernetes.io/not-ready``
taint, kwok (the simulated kubelet, :mod:`hypertopo.cluster.kwok`) reports the node ``Ready``,
keeps its Lease renewed and runs the pods bound to it, and kube-controller-manager's node
lifecycle controller removes the taint. :func:`apply_nodes` returns once every new node is
``Ready`` and untainted, i.e. schedulable.

Nodes are created with their resources in one POST (the Node REST strategy keeps status on
create), concurrently through a thread pool, so thousands of nodes take seconds. Existing nodes
are updated in place: their resources and the kubelet's labels are (re)set, every other label
(e.g. topology labels our roles applied) is kept, and taints / ``unschedulable`` are replaced
only when the spec sets them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hypertopo.cluster.processes import ClusterError
from hypertopo.cluster.rest import ApiError, Rest
from hypertopo.topology.labels import GPU_RESOURCE
from hypertopo.topology.objects import node_object, node_resources

DEFAULT_WORKERS = 16
#: Taints the node lifecycle controller keeps on a node until it is Ready (and heartbeating).
NOT_READY_TAINTS = frozenset({"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"})
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
        """The Node object as a kubelet registers it (status: resources only)."""
        return node_object(
            self.name,
            self.labels,
            resources=self.allocatable(),
            taints=self.taints,
            unschedulable=self.unschedulable,
        )


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


def apply_nodes(
    rest: Rest,
    hosts: Iterable[NodeLike],
    *,
    workers: int = DEFAULT_WORKERS,
    wait: bool = True,
    timeout: float = 300.0,
) -> ApplyResult:
    """Create or update one Node per host, concurrently, and (``wait``) wait until every new one is
    schedulable (:func:`wait_nodes_ready`). ``rest`` should have a pool at least ``workers`` large
    (see :func:`apply_nodes_kubeconfig`)."""
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
    if wait and res.created:
        wait_nodes_ready(rest, names, timeout=timeout)
    res.seconds = time.monotonic() - t0
    return res


def not_ready(node: Mapping[str, Any]) -> str | None:
    """Why a Node is not schedulable yet (not ``Ready``, or still tainted not-ready/unreachable),
    or None."""
    conds = (node.get("status") or {}).get("conditions") or []
    if not any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
        return "not Ready"
    taints = {t.get("key") for t in (node.get("spec") or {}).get("taints") or ()}
    left = sorted(taints & NOT_READY_TAINTS)
    return f"tainted {', '.join(left)}" if left else None


def wait_nodes_ready(rest: Rest, names: Iterable[str], *, timeout: float = 300.0) -> float:
    """Wait until every named Node is ``Ready`` and free of the not-ready/unreachable taints (kwok
    reports it, kube-controller-manager untaints it); returns the seconds waited. The timeout is
    generous: on a quiet 2-core machine 256 nodes take seconds, on a loaded one kwok's
    heartbeats fall minutes behind (measured: over 120 s at load average 10)."""
    pending = set(names)
    # a list of thousands of nodes costs the apiserver and us real CPU: poll less often then
    interval = min(2.0, max(0.25, len(pending) / 2000))
    t0 = time.monotonic()
    while True:
        nodes = rest.get("/api/v1/nodes?resourceVersion=0")["items"]
        why = {n["metadata"]["name"]: not_ready(n) for n in nodes if n["metadata"]["name"] in pending}
        pending = {name for name in pending if name not in why or why[name]}
        if not pending:
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            shown = ", ".join(f"{n} ({why.get(n) or 'missing'})" for n in sorted(pending)[:5])
            raise ClusterError(
                f"{len(pending)} node(s) not schedulable after {timeout:.0f} s: {shown} "
                "(kwok reports nodes Ready, kube-controller-manager removes the not-ready taint)"
            )
        time.sleep(interval)


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
    kubeconfig: Path | str, hosts: Iterable[NodeLike], *, workers: int = DEFAULT_WORKERS, wait: bool = True
) -> ApplyResult:
    """:func:`apply_nodes` with a client of its own built from ``kubeconfig``."""
    rest = Rest.from_kubeconfig(kubeconfig, pool_size=workers)
    try:
        return apply_nodes(rest, hosts, workers=workers, wait=wait)
    finally:
        rest.close()


#: File in the control plane's state folder: the node names the last inventory applied by the CLI.
INVENTORY_RECORD = "inventory-nodes.json"


def sync_inventory_nodes(
    kubeconfig: Path | str, inventory: Path | str, record: Path, *, workers: int = DEFAULT_WORKERS
) -> tuple[ApplyResult, list[str]]:
    """The inventory's simulated nodes, and no other inventory's: create/update one Node per host,
    then delete the nodes the previously applied inventory (``record``) had and this one has not.
    Nodes created any other way (tests, the library) are never deleted. Returns (applied, deleted)."""
    hosts = hosts_from_inventory(inventory)
    previous: list[str] = json.loads(record.read_text()) if record.is_file() else []
    rest = Rest.from_kubeconfig(kubeconfig, pool_size=workers)
    try:
        applied = apply_nodes(rest, hosts, workers=workers)
        gone = sorted(set(previous) - set(applied.names))
        delete_nodes(rest, gone, workers=workers)
    finally:
        rest.close()
    tmp = record.with_suffix(".tmp")
    tmp.write_text(json.dumps(applied.names))
    tmp.replace(record)
    return applied, gone
