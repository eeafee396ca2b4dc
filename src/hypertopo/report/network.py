"""The network cost of a placement, from the placement engine's cost model.

This module is the one seam between the report/verify code and the placement engine's cost model
and HyperNode tree: everything else in :mod:`hypertopo.report` calls :class:`Costs`,
:class:`ModelTree`, :func:`role_of` (the engine's :func:`~hypertopo.placement.netcost.pd_role`)
and the small helpers here, so a change in the engine's API changes this file alone.

A pair summary (one of ``prefill-internal``, ``decode-internal``, ``prefill-decode``) is the
engine's (``pairs``, ``classes``, ``latency_us``/``bandwidth_gbps`` mean and worst, KV-cache ms)
plus, for display, the class labels and the seed table's ranges of the classes present::

    {"pairs": 144, "classes": {"same_ib_leaf": 72, ...}, "class_labels": {...},
     "latency_us": {"mean", "worst", "min", "max", "max_floor"},
     "bandwidth_gbps": {"mean", "worst", "min", "max"},
     "kv_ms": {"mean", "worst"}, "host_staged_pairs": 144}

(``max`` None: the worst class has no upper bound, e.g. "> 10 µs" between Ethernet switches.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hypertopo.placement.index import NodeIndex
from hypertopo.placement.netcost import (
    CLASSES,
    NetworkModel,
    PairClassifier,
    network_model_from,
    pair_summary,
    pd_role,
)
from hypertopo.placement.objects import parse_hypernode, parse_node
from hypertopo.placement.tree import Tree
from hypertopo.topology.objects import model_hypernode_objects, model_node_objects

ROLE_PAIRS = (
    ("prefill-internal", "prefill", "prefill"),
    ("decode-internal", "decode", "decode"),
    ("prefill-decode", "prefill", "decode"),
)
# The engine's keys for the same pairs (``network`` of a job, ``expected`` of the baseline).
ENGINE_KEYS = {"prefill-internal": "prefill_internal", "decode-internal": "decode_internal"}
ENGINE_KEYS["prefill-decode"] = "prefill_decode"
DEFAULT_ROLE_KEYWORDS: Mapping[str, str] = {"prefill": "prefill", "decode": "decode"}
TIMES = "\u00d7"  # the multiplication sign of "x3", "1.5x"
CLASS_LABELS = {
    "same_ib_leaf": "same IB leaf",
    "same_ib_aggregation": "IB via aggregation",
    "ib_ethernet": "IB\u2194Ethernet",
    "ethernet_ethernet": "Ethernet\u2194Ethernet",
}


def role_of(task: str, job: str, keywords: Mapping[str, str] = DEFAULT_ROLE_KEYWORDS) -> str | None:
    """The PD role of a pod: the first keyword found in its task name, else in its job name."""
    return pd_role(keywords, task, job)


def placements(job: Mapping[str, Any]) -> list[dict[str, str]]:
    """The pod -> node rows of one predicted job (``placements`` of the engine's output)."""
    return [p for p in job.get("placements") or [] if p.get("node")]


def engine_constraint(job: Mapping[str, Any]) -> dict[str, Any] | None:
    """The hard tier limit the engine applied to a job (``hard`` and ``constraint`` of its output), if any.

    Soft mode is converted to hard at the virtual root by the scheduler: no limit.
    """
    limit = (job.get("constraint") or {}).get("highest_tier_allowed")
    if not job.get("hard") or limit is None:
        return None
    return {"mode": "hard", "highest_tier_allowed": int(limit)}


class ModelTree:
    """The inventory model as the engine's HyperNode tree: which leaf holds a host, the lowest
    switch holding a set of hosts, a switch's tier (the placement engine's rules, on the Node and
    HyperNode objects the roles render)."""

    def __init__(self, model: Mapping[str, Any]) -> None:
        self.nodes = [parse_node(obj, i) for i, obj in enumerate(model_node_objects(model))]
        self.index = NodeIndex(self.nodes)
        hns = [parse_hypernode(obj, i) for i, obj in enumerate(model_hypernode_objects(model))]
        self.tree = Tree(hns, self.nodes, self.index)
        self.switches = {s["name"]: s for s in model["switches"]}

    def __contains__(self, host: object) -> bool:
        return host in self.index.by_name

    def leaf(self, host: str) -> str | None:
        """The leaf switch holding ``host`` (None: not a host of the model)."""
        i = self.index.by_name.get(host)
        return None if i is None else self.tree.node_leaf[i]

    def lca(self, hosts: Iterable[str]) -> str | None:
        """The lowest switch holding every host of ``hosts`` that the model has (None: none)."""
        by_name = self.index.by_name
        found = [by_name[h] for h in hosts if h in by_name]
        return self.tree.lca_of_nodes(found) if found else None

    def tier(self, switch: str | None) -> int | None:
        return None if switch is None else self.tree.tier(switch)


class Costs:
    """The engine's pair classifier over the inventory model (build once, summarise often)."""

    def __init__(self, model: Mapping[str, Any], *, kv_model: Mapping[str, Any] | None = None) -> None:
        self.tree = ModelTree(model)
        self.network: NetworkModel = network_model_from(model.get("network") or None, kv_model)
        self.classifier = PairClassifier(self.tree.tree, self.tree.nodes, self.network)
        self.index = self.tree.index.by_name

    def summarise(self, nodes_by_role: Mapping[str, Sequence[str]]) -> dict[str, dict[str, Any]]:
        """The three pair summaries for role -> nodes (one entry per pod); unknown nodes are skipped."""
        idx = {
            role: [self.index[n] for n in nodes if n in self.index] for role, nodes in nodes_by_role.items()
        }
        out: dict[str, dict[str, Any]] = {}
        for kind, role_a, role_b in ROLE_PAIRS:
            left = idx.get(role_a, [])
            right = None if role_a == role_b else idx.get(role_b, [])
            raw = pair_summary(self.classifier, left, right, kv=right is not None) if left else None
            out[kind] = self.display(raw)
        return out

    def display(self, raw: Mapping[str, Any] | None) -> dict[str, Any]:
        """An engine pair summary with labels and the ranges of the classes present."""
        if not raw or not raw.get("pairs"):
            return {"pairs": 0, "classes": {}, "class_labels": {}}
        classes = dict(raw["classes"])
        out: dict[str, Any] = {
            "pairs": raw["pairs"],
            "classes": classes,
            "class_labels": {c: CLASS_LABELS.get(c, c) for c in classes},
            "latency_us": {**raw["latency_us"], **self.latency_range(classes)},
            "bandwidth_gbps": {**raw["bandwidth_gbps"], **self.bandwidth_range(classes)},
        }
        if "kv_transfer_ms" in raw:
            out["kv_ms"] = dict(raw["kv_transfer_ms"])
            out["host_staged_pairs"] = raw.get("host_staged_pairs", 0)
        return out

    def _range(self, cls: str, key: str) -> tuple[float, float | None]:
        spec = self.network.classes[cls]
        lo, hi = spec.get(f"{key}_range") or (spec[f"{key}_{'us' if key == 'latency' else 'gbps'}"],) * 2
        return float(lo), None if hi is None else float(hi)

    def latency_range(self, classes: Mapping[str, Any]) -> dict[str, float | None]:
        ranges = [self._range(c, "latency") for c in classes if c in self.network.classes]
        if not ranges:
            return {}
        highs = [hi for _, hi in ranges]
        return {
            "min": min(lo for lo, _ in ranges),
            "max": None if None in highs else max(h for h in highs if h is not None),
            "max_floor": max(lo for lo, _ in ranges),
        }

    def bandwidth_range(self, classes: Mapping[str, Any]) -> dict[str, float]:
        ranges = [self._range(c, "bandwidth") for c in classes if c in self.network.classes]
        if not ranges:
            return {}
        return {"min": min(lo for lo, _ in ranges), "max": max(hi or lo for lo, hi in ranges)}

    def class_means(self, fractions: Mapping[str, float]) -> dict[str, dict[str, float]]:
        """Mean and worst latency/bandwidth for class fractions (the baseline's expected classes)."""
        present = {c: f for c, f in fractions.items() if c in self.network.classes and f > 0}
        if not present:
            return {}
        total = sum(present.values())
        lat = {c: self.network.classes[c]["latency_us"] for c in present}
        bw = {c: self.network.classes[c]["bandwidth_gbps"] for c in present}
        return {
            "latency_us": {
                "mean": round(sum(lat[c] * f for c, f in present.items()) / total, 4),
                "worst": max(lat.values()),
                **self.latency_range(present),
            },
            "bandwidth_gbps": {
                "mean": round(sum(bw[c] * f for c, f in present.items()) / total, 4),
                "worst": min(bw.values()),
                **self.bandwidth_range(present),
            },
        }


def ordered_classes(classes: Mapping[str, Any]) -> list[str]:
    """Class names best first (the engine's order; unknown ones last)."""
    return sorted(classes, key=lambda c: CLASSES.index(c) if c in CLASSES else len(CLASSES))
