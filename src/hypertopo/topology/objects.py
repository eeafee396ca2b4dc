"""Kubernetes objects of the cluster model: one renderer for Nodes and one for HyperNodes.

Every part that needs a Node or a HyperNode built from the inventory (the hypernodes role,
the predictor's inventory-only plan, the report's cost model, the local control plane's
simulated nodes, tests) uses these, so the object shape is defined once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypertopo.topology.labels import GPU_RESOURCE, LABEL_SWITCH, LABEL_SWITCH_TYPE, kubelet_labels

HYPERNODE_API = "topology.volcano.sh/v1alpha1"


def node_resources(*, cpu: str, memory: str, gpus: int, pods: int) -> dict[str, str]:
    """A node's allocatable resources (CPU, memory, pods and GPUs) as Kubernetes quantities."""
    return {"cpu": str(cpu), "memory": str(memory), "pods": str(pods), GPU_RESOURCE: str(gpus)}


def node_object(
    name: str,
    labels: Mapping[str, str] | None = None,
    *,
    resources: Mapping[str, str] | None = None,
    taints: Sequence[Mapping[str, Any]] = (),
    unschedulable: bool = False,
    status: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A Node named ``name`` with the kubelet's labels plus ``labels``.

    ``resources`` become capacity and allocatable (a node without it has no status resources:
    give ``status`` for a full status such as the simulated kubelet's conditions).
    """
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {**kubelet_labels(name), **dict(labels or {})}},
    }
    spec: dict[str, Any] = {}
    if taints:
        spec["taints"] = [dict(t) for t in taints]
    if unschedulable:
        spec["unschedulable"] = True
    obj["spec"] = spec
    full: dict[str, Any] = dict(status or {})
    if resources is not None:
        full["capacity"] = dict(resources)
        full["allocatable"] = dict(resources)
    if full:
        obj["status"] = full
    return obj


def model_node_objects(
    model: Mapping[str, Any], *, with_topology_labels: bool = True
) -> list[dict[str, Any]]:
    """Node objects (labels + allocatable) of every host of the plain model (``Topology.as_dict``)."""
    return [
        node_object(
            name,
            model["node_labels"][name] if with_topology_labels else None,
            resources=node_resources(
                cpu=host["cpu"], memory=host["memory"], gpus=host["gpu_count"], pods=host["pods"]
            ),
        )
        for name, host in model["hosts"].items()
    ]


def leaf_members(switch: str, switch_type: str) -> list[dict[str, Any]]:
    """A leaf HyperNode's members: the Nodes labelled with its switch name and type."""
    labels = {LABEL_SWITCH: switch, LABEL_SWITCH_TYPE: switch_type}
    return [{"type": "Node", "selector": {"labelMatch": {"matchLabels": labels}}}]


def hypernode_object(
    name: str,
    tier: int,
    *,
    leaf_type: str | None = None,
    children: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
    tier_name: str | None = None,
) -> dict[str, Any]:
    """One HyperNode: a leaf (``leaf_type`` set) selects its Nodes by our switch labels, a parent
    lists its ``children`` HyperNodes by ``exactMatch``, in the given order."""
    if leaf_type is not None:
        members = leaf_members(name, leaf_type)
    else:
        members = [{"type": "HyperNode", "selector": {"exactMatch": {"name": c}}} for c in children]
    meta: dict[str, Any] = {"name": name}
    if labels:
        meta["labels"] = dict(labels)
    spec: dict[str, Any] = {"tier": int(tier)}
    if tier_name:
        spec["tierName"] = tier_name
    spec["members"] = members
    return {"apiVersion": HYPERNODE_API, "kind": "HyperNode", "metadata": meta, "spec": spec}


def model_hypernode_objects(
    model: Mapping[str, Any],
    *,
    switch_types: Sequence[str] = ("ib", "ethernet"),
    labels: Mapping[str, str] | None = None,
    tier_names: Mapping[Any, str] | None = None,
) -> list[dict[str, Any]]:
    """One HyperNode per switch of ``switch_types``, by tier, IB before Ethernet (the seed's order).

    Parents list only the children that are included too.
    """
    selected = [s for s in model["switches"] if s["type"] in switch_types]
    ordered = sorted(
        [s for s in selected if s["type"] == "ib"] + [s for s in selected if s["type"] != "ib"],
        key=lambda s: int(s["tier"]),
    )
    names = [s["name"] for s in ordered]
    names_set = set(names)
    names_tier = tier_names or {}
    out = []
    for sw in ordered:
        tier = int(sw["tier"])
        tier_name = names_tier.get(tier, names_tier.get(str(tier), "")) or None
        children = [c for c in names if c in sw["children"] and c in names_set]
        out.append(
            hypernode_object(
                sw["name"],
                tier,
                leaf_type=sw["type"] if sw["leaf"] else None,
                children=children,
                labels=labels,
                tier_name=tier_name,
            )
        )
    return out
