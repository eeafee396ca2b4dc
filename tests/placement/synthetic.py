"""Synthetic clusters and jobs (plain Kubernetes dicts) for tests, examples and benchmarks.

* :func:`seed_cluster`: the seed article's 256 nodes, 7 switches and labels;
* :func:`seed_pd_jobs`: its two PD Jobs (soft, highestTierAllowed 2, minAvailable 12);
* :func:`generated_cluster`: a 3-tier tree of any size, 64 nodes per leaf.
"""

from __future__ import annotations

from typing import Any

from hypertopo.placement.jobs import LABEL_JOB_NAME
from hypertopo.topology.gpus import BUILTIN_GPU_MODELS
from hypertopo.topology.labels import (
    GPU_RESOURCE,
    LABEL_GPU_TYPE,
    LABEL_HOSTNAME,
    LABEL_SWITCH,
    LABEL_SWITCH_TYPE,
)
from hypertopo.topology.objects import hypernode_object, node_object, node_resources

#: Allocatable CPU/memory per GPU model (the package's GPU model catalogue).
MODEL_RESOURCES = {name: (str(m.cpu), str(m.memory)) for name, m in BUILTIN_GPU_MODELS.items()}

SEED_H100 = (0, 1, 5, 10, 15, 20, 64, 65, 70, 75, 80, 85)
SEED_RTX4090 = (2, 3, 6, 11, 16, 21, 66, 67, 71, 76, 81, 86)
SEED_LEAVES = (
    ("ib-switch0", "ib"),
    ("ib-switch1", "ib"),
    ("eth-switch2", "ethernet"),
    ("eth-switch3", "ethernet"),
)


def gpu_node(name: str, model: str, switch: str, switch_type: str, gpus: int = 8) -> dict[str, Any]:
    """A GPU node under leaf ``switch``, labelled as the node_labels role labels it."""
    cpu, memory = MODEL_RESOURCES.get(model, ("128", "1Ti"))
    labels = {LABEL_SWITCH: switch, LABEL_SWITCH_TYPE: switch_type, LABEL_GPU_TYPE: model}
    return node_object(name, labels, resources=node_resources(cpu=cpu, memory=memory, gpus=gpus, pods=110))


def leaf_hypernode(name: str, switch_type: str, tier: int = 1) -> dict[str, Any]:
    """A leaf HyperNode selecting its nodes by our switch labels."""
    return hypernode_object(name, tier, leaf_type=switch_type)


def parent_hypernode(name: str, tier: int, children: list[str]) -> dict[str, Any]:
    """A HyperNode over ``children`` (exactMatch members)."""
    return hypernode_object(name, tier, children=children)


def seed_gpu_model(i: int) -> str:
    """GPU model of seed node ``i``: the article's H100/RTX 4090 nodes, the same pattern
    repeated under the Ethernet leaves, and A100/RTX 5090 elsewhere."""
    base = i % 128
    if base in SEED_H100:
        return "h100"
    if base in SEED_RTX4090:
        return "rtx4090"
    return "a100" if i % 2 == 0 else "rtx5090"


def seed_cluster() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(nodes, hypernodes) of the seed: node0..node255, 64 per leaf, 8 GPUs each."""
    nodes = []
    for i in range(256):
        switch, switch_type = SEED_LEAVES[i // 64]
        nodes.append(gpu_node(f"node{i}", seed_gpu_model(i), switch, switch_type))
    hypernodes = [leaf_hypernode(name, kind) for name, kind in SEED_LEAVES]
    hypernodes.append(parent_hypernode("ib-switch4", 2, ["ib-switch0", "ib-switch1"]))
    hypernodes.append(parent_hypernode("eth-switch5", 2, ["eth-switch2", "eth-switch3"]))
    hypernodes.append(parent_hypernode("eth-switch6", 3, ["ib-switch4", "eth-switch5"]))
    return nodes, hypernodes


def pod_template(
    gpu_models: list[str],
    *,
    switch_types: list[str] | None = None,
    gpus: int = 1,
    anti_affinity_job: str | None = None,
    labels: dict[str, str] | None = None,
    container: str = "worker",
    cpu: str | None = None,
    memory: str | None = None,
) -> dict[str, Any]:
    expressions = [{"key": LABEL_GPU_TYPE, "operator": "In", "values": gpu_models}]
    if switch_types:
        expressions.append({"key": LABEL_SWITCH_TYPE, "operator": "In", "values": switch_types})
    resources: dict[str, Any] = {GPU_RESOURCE: gpus}
    if cpu:
        resources["cpu"] = cpu
    if memory:
        resources["memory"] = memory
    spec: dict[str, Any] = {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": expressions}]
                }
            }
        },
        "containers": [
            {
                "name": container,
                "image": "vllm/vllm:latest",
                "resources": {"limits": dict(resources), "requests": dict(resources)},
            }
        ],
        "restartPolicy": "OnFailure",
    }
    if anti_affinity_job:
        spec["affinity"]["podAntiAffinity"] = {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "labelSelector": {
                            "matchExpressions": [
                                {
                                    "key": LABEL_JOB_NAME,
                                    "operator": "In",
                                    "values": [anti_affinity_job],
                                }
                            ]
                        },
                        "topologyKey": LABEL_HOSTNAME,
                    },
                }
            ]
        }
    return {"metadata": {"labels": dict(labels or {})}, "spec": spec}


def volcano_job(
    name: str,
    tasks: list[dict[str, Any]],
    *,
    min_available: int | None = None,
    topology: dict[str, Any] | None = None,
    namespace: str = "default",
) -> dict[str, Any]:
    spec: dict[str, Any] = {"schedulerName": "volcano", "queue": "default", "tasks": tasks}
    if min_available is not None:
        spec["minAvailable"] = min_available
    if topology is not None:
        spec["networkTopology"] = topology
    return {
        "apiVersion": "batch.volcano.sh/v1alpha1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def task(name: str, replicas: int, template: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "replicas": replicas, "template": template, **extra}


def seed_pd_jobs() -> list[dict[str, Any]]:
    """The seed's pd-prefill-service and pd-decode-service Jobs (article sections 4.2/4.3)."""
    out = []
    for name, role, model in (
        ("pd-prefill-service", "prefill-worker", "h100"),
        ("pd-decode-service", "decode-worker", "rtx4090"),
    ):
        template = pod_template(
            [model], switch_types=["ib"], anti_affinity_job=name, container=role.replace("worker", "service")
        )
        out.append(
            volcano_job(
                name,
                [task(role, 12, template)],
                min_available=12,
                topology={"mode": "soft", "highestTierAllowed": 2},
            )
        )
    return out


def generated_cluster(
    total_nodes: int, per_leaf: int = 64, leaves_per_spine: int = 16
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A 3-tier tree: leaves of ``per_leaf`` nodes, spines of ``leaves_per_spine`` leaves, one core.

    Half the spines are InfiniBand, half Ethernet; every leaf has the seed's mix of
    GPU models (H100 and RTX 4090 on the seed's positions, A100/RTX 5090 elsewhere).
    """
    leaves = max(1, total_nodes // per_leaf)
    spines = max(2, leaves // leaves_per_spine)
    nodes: list[dict[str, Any]] = []
    hypernodes: list[dict[str, Any]] = []
    spine_children: dict[int, list[str]] = {}
    for leaf in range(leaves):
        spine = leaf * spines // leaves
        kind = "ib" if spine < spines / 2 else "ethernet"
        leaf_name = f"leaf{leaf}"
        hypernodes.append(leaf_hypernode(leaf_name, kind))
        spine_children.setdefault(spine, []).append(leaf_name)
        for j in range(per_leaf):
            i = leaf * per_leaf + j
            nodes.append(gpu_node(f"node{i}", seed_gpu_model(j + (64 if leaf % 2 else 0)), leaf_name, kind))
    for spine, children in spine_children.items():
        hypernodes.append(parent_hypernode(f"spine{spine}", 2, children))
    hypernodes.append(parent_hypernode("core", 3, [f"spine{s}" for s in sorted(spine_children)]))
    return nodes, hypernodes


def running_pods(count: int, nodes: int) -> list[dict[str, Any]]:
    """``count`` Running pods of one GPU, 4 CPUs and 16 GiB (namespace ``batch``), bound to every
    fourth node of :func:`generated_cluster` (``node0``, ``node4``, ... round the ``nodes``)."""
    requests = {GPU_RESOURCE: "1", "cpu": "4", "memory": "16Gi"}
    return [
        {
            "metadata": {"name": f"batch-{k}", "namespace": "batch", "labels": {"app": "batch"}},
            "spec": {
                "nodeName": f"node{(k * 4) % nodes}",
                "containers": [{"name": "c", "resources": {"requests": requests, "limits": requests}}],
            },
            "status": {"phase": "Running"},
        }
        for k in range(count)
    ]
