"""The network cost of a placement: pair classes, latency, bandwidth and KV-cache time.

This module is the one seam between the report/verify code and the placement engine's
cost model (``hypertopo.placement``). Everything else in :mod:`hypertopo.report` and
:mod:`hypertopo.verify` calls :func:`pair_cost` and :func:`summarise_roles` only, so a
change in the engine's API changes this file alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

ROLE_PAIRS = (
    ("prefill-internal", "prefill", "prefill"),
    ("decode-internal", "decode", "decode"),
    ("prefill-decode", "prefill", "decode"),
)
DEFAULT_ROLE_KEYWORDS: Mapping[str, str] = {"prefill": "prefill", "decode": "decode"}
TIMES = "\u00d7"  # the multiplication sign of "x3", "1.5x"


@dataclass(frozen=True)
class PairCost:
    """The network between two nodes: class, latency range (µs), bandwidth range (Gbps), KV ms."""

    cls: str
    label: str
    latency_us: tuple[float, float | None]
    bandwidth_gbps: tuple[float, float]
    kv_ms: float


@dataclass(frozen=True)
class _ClassSpec:
    label: str
    latency_us: tuple[float, float | None]
    bandwidth_gbps: tuple[float, float]


# Fallback until hypertopo.placement's cost model is importable: the seed article's table
# (section 1.1). Ranks order the classes from best to worst.
_FALLBACK: dict[str, _ClassSpec] = {
    "same-node": _ClassSpec("same node", (0.0, 0.0), (200.0, 200.0)),
    "same-leaf": _ClassSpec("same IB leaf", (0.0, 2.0), (200.0, 200.0)),
    "ib-aggregation": _ClassSpec("IB via aggregation", (2.0, 5.0), (200.0, 200.0)),
    "ib-ethernet": _ClassSpec("IB\u2194Ethernet", (5.0, 10.0), (100.0, 100.0)),
    "ethernet": _ClassSpec("Ethernet", (10.0, None), (10.0, 100.0)),
}
CLASS_ORDER = tuple(_FALLBACK)
_DEFAULT_KV = {"layers": 80, "kv_heads": 8, "head_dim": 128, "dtype_bytes": 2, "prompt_tokens": 4096}


def kv_bytes(kv_model: Mapping[str, Any] | None = None) -> int:
    """KV-cache bytes of one request (K and V, all layers, the whole prompt)."""
    shape = {**_DEFAULT_KV, **(kv_model or {})}
    per_token = 2 * shape["layers"] * shape["kv_heads"] * shape["head_dim"] * shape["dtype_bytes"]
    return int(per_token * shape["prompt_tokens"])


def _kv_ms(bandwidth_gbps: float, kv_model: Mapping[str, Any] | None) -> float:
    return kv_bytes(kv_model) * 8 / (bandwidth_gbps * 1e9) * 1e3


def pair_class(model: Mapping[str, Any], node_a: str, node_b: str) -> str:
    """Class of the network path between two nodes of ``model`` (by LCA and switch types)."""
    if node_a == node_b:
        return "same-node"
    switches = {s["name"]: s for s in model["switches"]}
    leaf_a = model["hosts"][node_a]["leaf"]
    leaf_b = model["hosts"][node_b]["leaf"]
    ib_a = switches[leaf_a]["type"] == "ib"
    ib_b = switches[leaf_b]["type"] == "ib"
    if ib_a != ib_b:
        return "ib-ethernet"
    if not ib_a:
        return "ethernet"
    if leaf_a == leaf_b:
        return "same-leaf"
    path = _path(switches, leaf_a, leaf_b)
    return "ib-aggregation" if all(switches[s]["type"] == "ib" for s in path) else "ib-ethernet"


def _path(switches: Mapping[str, Mapping[str, Any]], a: str, b: str) -> list[str]:
    """Switches on the path a -> LCA -> b."""
    up_a = _ancestors(switches, a)
    up_b = _ancestors(switches, b)
    common = next((s for s in up_a if s in set(up_b)), None)
    if common is None:
        return up_a + up_b
    return up_a[: up_a.index(common) + 1] + up_b[: up_b.index(common)]


def _ancestors(switches: Mapping[str, Mapping[str, Any]], name: str) -> list[str]:
    chain: list[str] = []
    cur: str | None = name
    while cur is not None and cur not in chain:
        chain.append(cur)
        cur = switches[cur]["parent"]
    return chain


def pair_cost(
    model: Mapping[str, Any], node_a: str, node_b: str, *, kv_model: Mapping[str, Any] | None = None
) -> PairCost:
    """Cost of the path between two nodes of ``model``."""
    cls = pair_class(model, node_a, node_b)
    spec = _FALLBACK[cls]
    return PairCost(
        cls, spec.label, spec.latency_us, spec.bandwidth_gbps, _kv_ms(spec.bandwidth_gbps[0], kv_model)
    )


def role_of(task: str, job: str, keywords: Mapping[str, str] = DEFAULT_ROLE_KEYWORDS) -> str | None:
    """The PD role of a pod: the first keyword found in its task name, else in its job name."""
    for text in (task.lower(), job.lower()):
        for role, word in keywords.items():
            if word.lower() in text:
                return role
    return None


def summarise_roles(
    model: Mapping[str, Any],
    nodes_by_role: Mapping[str, Sequence[str]],
    *,
    kv_model: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Pair classes and costs for prefill-internal, decode-internal and prefill-decode pairs.

    ``nodes_by_role`` maps a role to the nodes of its pods (one entry per pod). Nodes unknown
    to the model are ignored. Pairs are counted per pod pair but computed per node pair.
    """
    known = {role: Counter(n for n in nodes if n in model["hosts"]) for role, nodes in nodes_by_role.items()}
    out: dict[str, dict[str, Any]] = {}
    for kind, role_a, role_b in ROLE_PAIRS:
        weighted = list(
            _node_pairs(known.get(role_a, Counter()), known.get(role_b, Counter()), role_a == role_b)
        )
        out[kind] = _summary(model, weighted, kv_model)
    return out


def _node_pairs(a: Counter[str], b: Counter[str], same_role: bool) -> Iterable[tuple[str, str, int]]:
    if same_role:
        for node, count in a.items():
            if count > 1:
                yield node, node, count * (count - 1) // 2
        for (n1, c1), (n2, c2) in combinations(sorted(a.items()), 2):
            yield n1, n2, c1 * c2
        return
    for n1, c1 in a.items():
        for n2, c2 in b.items():
            yield n1, n2, c1 * c2


def _summary(
    model: Mapping[str, Any], weighted: Sequence[tuple[str, str, int]], kv_model: Mapping[str, Any] | None
) -> dict[str, Any]:
    classes: Counter[str] = Counter()
    labels: dict[str, str] = {}
    costs: dict[str, PairCost] = {}
    total_kv = 0.0
    pairs = 0
    for a, b, weight in weighted:
        cost = pair_cost(model, a, b, kv_model=kv_model)
        classes[cost.cls] += weight
        labels[cost.cls] = cost.label
        costs[cost.cls] = cost
        total_kv += cost.kv_ms * weight
        pairs += weight
    if not pairs:
        return {"pairs": 0, "classes": {}, "class_labels": {}, "worst_class": None}
    ordered = sorted(classes, key=_rank)
    worst = costs[ordered[-1]]
    lat_hi = [costs[c].latency_us[1] for c in ordered]
    return {
        "pairs": pairs,
        "classes": {c: classes[c] for c in ordered},
        "class_labels": {c: labels[c] for c in ordered},
        "worst_class": worst.cls,
        "latency_us": {
            "min": min(costs[c].latency_us[0] for c in ordered),
            "max": None if None in lat_hi else max(v for v in lat_hi if v is not None),
            "max_floor": max(costs[c].latency_us[0] for c in ordered),
        },
        "bandwidth_gbps": {
            "min": min(costs[c].bandwidth_gbps[0] for c in ordered),
            "max": max(costs[c].bandwidth_gbps[1] for c in ordered),
        },
        "kv_ms": {
            "mean": round(total_kv / pairs, 3),
            "worst": round(max(c.kv_ms for c in costs.values()), 3),
        },
    }


def _rank(cls: str) -> int:
    return CLASS_ORDER.index(cls) if cls in CLASS_ORDER else len(CLASS_ORDER)


def placements(job: Mapping[str, Any]) -> list[dict[str, str]]:
    """The pod -> node rows of one predicted job (``placements`` of the engine's output)."""
    return [p for p in job.get("placements") or [] if p.get("node")]
