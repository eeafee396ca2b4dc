"""Kubernetes Node labels (a saved ``kubectl get nodes -o json`` or the live cluster) -> fabric facts.

Topology label keys are given top-down (Volcano label-discovery style): the last key names the
node's leaf, the key before it the leaf's parent, and so on. Presets: EKS
``topology.k8s.aws/network-node-layer-1..3`` (layer-1 is the top of AWS's hierarchy, layer-3 the
layer nodes connect to) and GKE ``cloud.google.com/gce-topology-block/subblock/host``. Every node
with ``nvidia.com/gpu.product`` gets its GPU model (:mod:`hypertopo.importer.gpumap`).
"""

from __future__ import annotations

from typing import Any

from hypertopo.importer.facts import Fabric, SourceError, Where, first_lines, read_json
from hypertopo.importer.gpumap import GPU_PRODUCT_LABEL, own_model_name, product_model
from hypertopo.topology.labels import GPU_RESOURCE

PRESETS: dict[str, tuple[str, ...]] = {
    "eks": tuple(f"topology.k8s.aws/network-node-layer-{n}" for n in (1, 2, 3)),
    "gke": tuple(f"cloud.google.com/gce-topology-{k}" for k in ("block", "subblock", "host")),
}
MAPPING_HELP = "--gpu-map FILE (YAML product: model)"


def read_nodes_file(path: str, kind: str = "Node") -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The ``kind`` objects of a saved ``kubectl get <kind>s -o json`` (a List or one object), and lines."""
    doc, text = read_json(path, f"save `kubectl get {kind.lower()}s -o json`")
    items = doc.get("items") if isinstance(doc, dict) and "items" in doc else [doc]
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and i.get("kind", kind) == kind and isinstance(i.get("metadata"), dict)
        for i in items
    ):
        raise SourceError([f"{path}: not a {kind} list. Fix: save `kubectl get {kind.lower()}s -o json`"])
    return items, first_lines(text)


def labels_fabric(
    nodes: list[dict[str, Any]],
    *,
    file: str,
    lines: dict[str, int],
    keys: tuple[str, ...],
    switch_type: str,
    gpu_map: dict[str, str],
) -> Fabric:
    fabric = Fabric(sources=[f"{file} (node labels{': ' + ', '.join(keys) if keys else ''})"])
    problems: list[str] = []
    parent: dict[str, tuple[str, Where]] = {}
    for node in nodes:
        name = str(node["metadata"].get("name", ""))
        labels = node["metadata"].get("labels") or {}
        where = Where(file, lines.get(name, 0))
        _gpu(fabric, node, name, labels, where, gpu_map, problems)
        if not keys:
            continue
        chain = [labels.get(k) for k in keys]
        if not any(chain):
            fabric.warnings.append(f"{where}: node {name} has none of the topology labels; left out")
            continue
        if not all(chain):
            missing = [k for k, v in zip(keys, chain, strict=True) if not v]
            problems.append(
                f"{where}: node {name} lacks {', '.join(missing)}. Fix: label it, or give "
                "only the keys every node has (--label-keys)"
            )
            continue
        values = [str(v) for v in chain]
        for value in values:
            fabric.add_switch(value, switch_type, where, problems)
        fabric.attach.setdefault(name, []).append((values[-1], where))
        for child, up in zip(values[1:], values[:-1], strict=True):
            known = parent.get(child)
            if known is None:
                parent[child] = (up, where)
                fabric.links.append((child, up, where))
            elif known[0] != up:
                problems.append(
                    f"{where}: {child} is under {up} here but under {known[0]} at {known[1]} "
                    "(a label value must name one switch). Fix: correct the node's labels"
                )
    if problems:
        raise SourceError(problems)
    return fabric


def _gpu(
    fabric: Fabric,
    node: dict[str, Any],
    name: str,
    labels: dict[str, Any],
    where: Where,
    gpu_map: dict[str, str],
    problems: list[str],
) -> None:
    product = labels.get(GPU_PRODUCT_LABEL)
    if not product:
        return
    model = product_model(str(product), gpu_map)
    if model is None:
        model = own_model_name(str(product))
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        if not all(k in allocatable for k in ("cpu", "memory", GPU_RESOURCE)):
            problems.append(
                f"{where}: node {name}: GPU product {product!r} is not a known model and the "
                f"node has no allocatable cpu, memory and {GPU_RESOURCE} to describe it. "
                f"Fix: map it onto a known model with {MAPPING_HELP}"
            )
            return
        if model not in fabric.new_models:
            fabric.warnings.append(
                f"{where}: GPU product {product!r} is not a known model; kept as model "
                f"'{model}' (group_vars/all.yml: check gpudirect_rdma) or map it with "
                f"{MAPPING_HELP}"
            )
        spec = {
            "label": model,
            "gpudirect_rdma": False,
            "gpu_count": int(allocatable[GPU_RESOURCE]),
            "description": f"{product} (imported from node labels)",
        }
        fabric.new_models[model] = (
            spec,
            {"cpu": str(allocatable["cpu"]), "memory": str(allocatable["memory"])},
        )
    fabric.gpus[name] = (model, where)
