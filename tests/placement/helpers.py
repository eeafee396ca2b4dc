"""Tiny builders for hand-made topologies (plain Kubernetes dicts)."""

from __future__ import annotations

from typing import Any

from hypertopo.placement import predict
from hypertopo.topology.labels import GPU_RESOURCE as GPU
from hypertopo.topology.objects import hypernode_object, node_object, node_resources
from hypertopo.topology.scheduler_conf import merge_conf

from .synthetic import volcano_job

DEFAULT_TIERS = [
    {"plugins": [{"name": "priority"}, {"name": "gang"}, {"name": "conformance"}]},
    {
        "plugins": [
            {"name": "drf"},
            {"name": "predicates"},
            {"name": "proportion"},
            {"name": "nodeorder"},
            {"name": "binpack"},
        ]
    },
]


def conf(nta: dict[str, Any] | None = None, *, enabled: bool = True) -> dict[str, Any]:
    """Volcano's default plugins plus network-topology-aware with ``nta`` arguments."""
    return merge_conf(None, nta_arguments=nta or {}, nta_enabled=enabled, default_tiers=DEFAULT_TIERS)


GPU_BINPACK = {"weight": 10, "hypernode.binpack.resources": GPU, f"hypernode.binpack.resources.{GPU}": 10}


def node(
    name: str,
    *,
    gpus: int = 8,
    cpu: str = "64",
    memory: str = "256Gi",
    pods: int = 110,
    labels: dict[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
    unschedulable: bool = False,
) -> dict[str, Any]:
    resources = node_resources(cpu=cpu, memory=memory, gpus=gpus, pods=pods)
    return node_object(name, labels, resources=resources, taints=taints or (), unschedulable=unschedulable)


def leaf(name: str, members: list[str], tier: int = 1, tier_name: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "tier": tier,
        "members": [{"type": "Node", "selector": {"exactMatch": {"name": m}}} for m in members],
    }
    if tier_name:
        spec["tierName"] = tier_name
    return {"kind": "HyperNode", "metadata": {"name": name}, "spec": spec}


def parent(name: str, children: list[str], tier: int = 2, tier_name: str | None = None) -> dict[str, Any]:
    return hypernode_object(name, tier, children=children, tier_name=tier_name)


def template(
    *, gpus: int = 1, cpu: str | None = None, selector: dict[str, str] | None = None, **spec_extra: Any
) -> dict[str, Any]:
    requests: dict[str, Any] = {}
    if gpus:
        requests[GPU] = gpus
    if cpu:
        requests["cpu"] = cpu
    spec: dict[str, Any] = {
        "containers": [
            {"name": "c", "image": "x", "resources": {"requests": requests, "limits": dict(requests)}}
        ]
    }
    if selector:
        spec["nodeSelector"] = selector
    spec.update(spec_extra)
    return {"spec": spec}


def task(name: str, replicas: int, tmpl: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"name": name, "replicas": replicas, "template": tmpl or template(), **extra}


def job(
    name: str,
    tasks: list[dict[str, Any]],
    *,
    min_available: int | None = None,
    topology: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return volcano_job(name, tasks, min_available=min_available, topology=topology)


def hard(tier: int) -> dict[str, Any]:
    return {"mode": "hard", "highestTierAllowed": tier}


def run(
    jobs: list[dict[str, Any]],
    nodes: list[dict[str, Any]],
    hypernodes: list[dict[str, Any]] | None = None,
    **kw: Any,
) -> dict[str, Any]:
    kw.setdefault("scheduler_conf", conf())
    kw.setdefault("baseline", False)
    return predict(jobs=jobs, nodes=nodes, hypernodes=hypernodes or [], **kw)


def by_name(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(j for j in result["jobs"] if j["name"] == name)


def nodes_of(job_result: dict[str, Any]) -> dict[str, str]:
    return {p["pod"]: p["node"] for p in job_result["placements"]}


def two_leaves(per_leaf: int = 2, gpus: int = 8) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """leaf-a (a0..), leaf-b (b0..) under spine (tier 2)."""
    nodes = [node(f"a{i}", gpus=gpus) for i in range(per_leaf)] + [
        node(f"b{i}", gpus=gpus) for i in range(per_leaf)
    ]
    hns = [
        leaf("leaf-a", [f"a{i}" for i in range(per_leaf)]),
        leaf("leaf-b", [f"b{i}" for i in range(per_leaf)]),
        parent("spine", ["leaf-a", "leaf-b"]),
    ]
    return nodes, hns
