"""Drift between an inventory and the cluster (Nodes, HyperNodes) or the fabric.

One comparison for ``hypertopo-import drift`` and the ``hypertopo_drift`` filter
(``playbooks/drift.yml``). It reads the model (``Topology.as_dict``), renders our labels and
HyperNodes with the project's own code (``node_labels``, ``model_hypernode_objects``) and lists
what differs, one item per fact:

* ``node-missing`` an inventory host with no Node; ``node-unknown`` a Node outside the inventory
  that has GPUs or our marker label;
* ``label`` one of our labels with another value (or none) on the Node;
* ``gpu-model`` ``nvidia.com/gpu.product`` names another model than the inventory's;
* ``hypernode-missing`` / ``hypernode-differs`` / ``hypernode-extra`` our HyperNodes (owner labels)
  against the rendered ones;
* ``hypernode-foreign`` a HyperNode not ours that groups, within its tier, nodes the inventory
  puts under different switches of that tier;
* ``fabric-*`` the inventory against a fabric file (host on another leaf, switch under another
  parent, host or switch on one side only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypertopo.importer.build import Imported
from hypertopo.importer.gpumap import GPU_PRODUCT_LABEL, product_model
from hypertopo.rollout.hypernodes import OWNER_LABELS, is_owned, leaf_members, parents_of
from hypertopo.topology.labels import GPU_RESOURCE, LABEL_MANAGED, natural_key
from hypertopo.topology.objects import model_hypernode_objects

KINDS = (
    "node-missing",
    "node-unknown",
    "label",
    "gpu-model",
    "hypernode-missing",
    "hypernode-differs",
    "hypernode-extra",
    "hypernode-foreign",
    "fabric-leaf",
    "fabric-parent",
    "fabric-host-missing",
    "fabric-host-unknown",
    "fabric-switch-unknown",
)

Item = dict[str, str]


def _item(kind: str, name: str, inventory: object, cluster: object, detail: str = "") -> Item:
    return {
        "kind": kind,
        "name": name,
        "inventory": str(inventory),
        "cluster": str(cluster),
        "detail": detail,
    }


def _has_gpus(node: Mapping[str, Any]) -> bool:
    status = node.get("status") or {}
    for part in ("capacity", "allocatable"):
        if str((status.get(part) or {}).get(GPU_RESOURCE, "0")) not in ("0", ""):
            return True
    return False


def node_drift(
    model: Mapping[str, Any], nodes: Sequence[Mapping[str, Any]], gpu_map: Mapping[str, str] | None = None
) -> list[Item]:
    by_name = {str(n["metadata"]["name"]): n for n in nodes}
    items: list[Item] = []
    for host, spec in model["hosts"].items():
        node = by_name.get(host)
        if node is None:
            items.append(_item("node-missing", host, f"on {spec['leaf']}", "no Node"))
            continue
        labels = node["metadata"].get("labels") or {}
        for key, value in model["node_labels"][host].items():
            if labels.get(key) != value:
                items.append(_item("label", host, f"{key}={value}", f"{key}={labels.get(key, '(none)')}"))
        product = labels.get(GPU_PRODUCT_LABEL)
        if product:
            found = product_model(str(product), gpu_map)
            if found != spec["gpu_model"]:
                items.append(
                    _item(
                        "gpu-model",
                        host,
                        spec["gpu_model"],
                        product,
                        f"the product is {found or 'no known model'}",
                    )
                )
    for name in sorted(set(by_name) - set(model["hosts"]), key=natural_key):
        node = by_name[name]
        labels = node["metadata"].get("labels") or {}
        if _has_gpus(node) or LABEL_MANAGED in labels:
            items.append(_item("node-unknown", name, "not in the inventory", "Node with GPUs or our marker"))
    return items


def _clean(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if v not in (None, "", [], {})}


def hypernode_drift(
    model: Mapping[str, Any],
    nodes: Sequence[Mapping[str, Any]],
    hypernodes: Sequence[Mapping[str, Any]],
    *,
    owner_labels: Mapping[str, str] | None = None,
    switch_types: Sequence[str] = ("ib", "ethernet"),
    tier_names: Mapping[Any, str] | None = None,
) -> list[Item]:
    owner = OWNER_LABELS if owner_labels is None else owner_labels
    rendered = {
        o["metadata"]["name"]: o
        for o in model_hypernode_objects(
            model, switch_types=tuple(switch_types), labels=owner, tier_names=tier_names
        )
    }
    ours = {h["metadata"]["name"]: h for h in hypernodes if is_owned(h, owner)}
    items: list[Item] = []
    for name, want in rendered.items():
        have = ours.get(name)
        if have is None:
            items.append(
                _item("hypernode-missing", name, f"tier {want['spec']['tier']}", "no HyperNode of ours")
            )
        elif _clean(have.get("spec") or {}) != _clean(want["spec"]):
            items.append(
                _item("hypernode-differs", name, _short(want["spec"]), _short(have.get("spec") or {}))
            )
    for name in sorted(set(ours) - set(rendered), key=natural_key):
        items.append(
            _item("hypernode-extra", name, "not in the inventory", f"tier {ours[name]['spec'].get('tier')}")
        )
    foreign = {h["metadata"]["name"]: h for h in hypernodes if not is_owned(h, owner)}
    items += _foreign(model, nodes, foreign)
    return items


def _short(spec: Mapping[str, Any]) -> str:
    members = []
    for m in spec.get("members") or []:
        sel = m.get("selector") or {}
        inner = next(iter(sel.values()), {}) if sel else {}
        members.append(str(inner.get("name") or inner.get("pattern") or inner.get("matchLabels") or sel))
    return f"tier {spec.get('tier')} members {', '.join(members)}"


def _contained(
    foreign: Mapping[str, Mapping[str, Any]], nodes: Sequence[Mapping[str, Any]]
) -> dict[str, set[str]]:
    """HyperNode -> the Nodes it contains (selected as the placement engine selects them)."""
    labels = {str(n["metadata"]["name"]): n["metadata"].get("labels") or {} for n in nodes}
    direct = leaf_members(foreign.values(), labels)
    children: dict[str, list[str]] = {}
    for child, parents in parents_of(foreign.values()).items():
        for parent in parents:
            children.setdefault(parent, []).append(child)

    def walk(name: str, seen: frozenset[str]) -> set[str]:
        out = set(direct.get(name, []))
        for child in children.get(name, []):
            if child in foreign and child not in seen:
                out |= walk(child, seen | {child})
        return out

    return {name: walk(name, frozenset({name})) for name in foreign}


def _foreign(
    model: Mapping[str, Any], nodes: Sequence[Mapping[str, Any]], foreign: Mapping[str, Any]
) -> list[Item]:
    switches = {s["name"]: s for s in model["switches"]}
    items: list[Item] = []
    contained = _contained(foreign, nodes)
    for name in sorted(foreign, key=natural_key):
        tier = int((foreign[name].get("spec") or {}).get("tier") or 0)
        hosts = sorted(contained[name] & set(model["hosts"]), key=natural_key)
        if len(hosts) < 2:
            continue
        chains = []
        for host in hosts:
            chain, cur = [], model["hosts"][host]["leaf"]
            while cur:
                chain.append(cur)
                cur = switches[cur]["parent"]
            chains.append(chain)
        common = [s for s in chains[0] if all(s in c for c in chains[1:])]
        lowest = common[0] if common else None
        if lowest is None or int(switches[lowest]["tier"]) > tier:
            where = (
                f"under {lowest} (tier {switches[lowest]['tier']})" if lowest else "under no common switch"
            )
            items.append(
                _item(
                    "hypernode-foreign",
                    name,
                    f"{hosts[0]} .. {hosts[-1]} {where}",
                    f"tier {tier} groups {len(hosts)} of our nodes",
                )
            )
    return items


def fabric_drift(model: Mapping[str, Any], fabric: Imported) -> list[Item]:
    """The inventory against what a fabric file says (only the switch types the fabric has)."""
    items: list[Item] = []
    inv_switches = {s["name"]: s for s in model["switches"]}
    types = {g.type for g in fabric.groups.values()}
    for host, (leaf, _model, where) in fabric.hosts.items():
        spec = model["hosts"].get(host)
        if spec is None:
            items.append(
                _item("fabric-host-unknown", host, "not in the inventory", f"on {leaf}", str(where[0]))
            )
        elif spec["leaf"] != leaf:
            items.append(_item("fabric-leaf", host, spec["leaf"], leaf, str(where[0])))
    for host, spec in model["hosts"].items():
        if host not in fabric.hosts and inv_switches[spec["leaf"]]["type"] in types:
            items.append(_item("fabric-host-missing", host, f"on {spec['leaf']}", "not in the fabric"))
    for name, group in fabric.groups.items():
        inv = inv_switches.get(name)
        if inv is None:
            items.append(
                _item(
                    "fabric-switch-unknown",
                    name,
                    "not in the inventory",
                    f"tier {group.tier}",
                    str(group.where[0]),
                )
            )
        elif group.parent and inv["parent"] != group.parent:
            items.append(_item("fabric-parent", name, inv["parent"], group.parent, str(group.where[0])))
    return items


def report(items: list[Item]) -> dict[str, Any]:
    """``{drift, counts, items, table}``: the items sorted by kind then name, and a text table."""
    order = {k: i for i, k in enumerate(KINDS)}
    items = sorted(items, key=lambda i: (order.get(i["kind"], len(order)), natural_key(i["name"])))
    counts = {k: sum(1 for i in items if i["kind"] == k) for k in KINDS if any(i["kind"] == k for i in items)}
    return {"drift": bool(items), "counts": counts, "items": items, "table": table(items)}


def table(items: list[Item]) -> list[str]:
    if not items:
        return ["no drift"]
    heads = ("KIND", "NAME", "INVENTORY", "CLUSTER/FABRIC", "DETAIL")
    rows = [heads, *((i["kind"], i["name"], i["inventory"], i["cluster"], i["detail"]) for i in items)]
    widths = [min(48, max(len(r[c]) for r in rows)) for c in range(len(heads))]
    return ["  ".join(cell[:48].ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
