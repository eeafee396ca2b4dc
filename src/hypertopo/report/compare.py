"""The seed article's comparison table, filled with numbers.

Two columns: "simple affinity" (the engine's baseline run: GPU-model affinity only) and
"topology-aware + IB constraint" (this rollout: the actual placement when a verification is
given, else the prediction), plus the article's own claims for reference.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from hypertopo.report.network import DEFAULT_ROLE_KEYWORDS, TIMES, placements, role_of, summarise_roles

# The article's table (section 4.3), in English: item -> (simple affinity, topology-aware + IB).
ARTICLE = {
    "prefill-distribution": ("may spread over IB and Ethernet switches", "IB switches only (ib-switch0/1)"),
    "decode-distribution": ("may spread over IB and Ethernet switches", "IB switches only (ib-switch0/1)"),
    "prefill-internal-latency": ("2-10 µs (may cross switch types)", "< 5 µs (within IB)"),
    "prefill-internal-bandwidth": ("100-200 Gbps (may lose 50 %)", "200 Gbps (no loss)"),
    "decode-internal-latency": ("2-10 µs (may cross switch types)", "< 5 µs (within IB)"),
    "decode-internal-bandwidth": ("100-200 Gbps (may lose 50 %)", "200 Gbps (no loss)"),
    "prefill-decode-latency": ("5-10 µs (may cross switch types)", "2-5 µs (same IB aggregation)"),
    "prefill-decode-bandwidth": ("100 Gbps (50 % loss)", "200 Gbps (no loss)"),
    "kv-transfer": ("", ""),
    "throughput": ("30-50 % lower", "best, no loss"),
}
TITLES = {
    "prefill-distribution": "Prefill pod distribution",
    "decode-distribution": "Decode pod distribution",
    "prefill-internal-latency": "Prefill-internal latency",
    "prefill-internal-bandwidth": "Prefill-internal bandwidth",
    "decode-internal-latency": "Decode-internal latency",
    "decode-internal-bandwidth": "Decode-internal bandwidth",
    "prefill-decode-latency": "Prefill-decode latency",
    "prefill-decode-bandwidth": "Prefill-decode bandwidth",
    "kv-transfer": "KV-cache transfer per request",
    "throughput": "Overall throughput (KV-transfer proxy)",
}


def role_nodes(
    jobs: Sequence[Mapping[str, Any]], keywords: Mapping[str, str] = DEFAULT_ROLE_KEYWORDS
) -> dict[str, list[str]]:
    """Role -> nodes of its placed pods, from engine job entries."""
    out: dict[str, list[str]] = {}
    for job in jobs:
        for row in placements(job):
            role = role_of(row.get("task", ""), job["name"], keywords)
            if role is not None:
                out.setdefault(role, []).append(row["node"])
    return out


def actual_role_nodes(verification: Mapping[str, Any]) -> dict[str, list[str]]:
    """Role -> nodes of its bound pods, from a verification."""
    out: dict[str, list[str]] = {}
    for job in verification.get("jobs") or []:
        for row in job["pods"]:
            if row["role"] is not None and row["actual_node"]:
                out.setdefault(row["role"], []).append(row["actual_node"])
    return out


def comparison(
    model: Mapping[str, Any],
    predicted: Mapping[str, Any],
    verification: Mapping[str, Any] | None = None,
    *,
    kv_model: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Both columns as data: per column the pods per leaf by role, the pair summaries, and rows."""
    if verification is not None:
        ours_nodes = actual_role_nodes(verification)
        ours_source = "actual"
    else:
        ours_nodes = role_nodes(predicted.get("jobs") or [])
        ours_source = "predicted"
    columns: dict[str, dict[str, Any] | None] = {"ours": _column(model, ours_nodes, kv_model)}
    baseline = predicted.get("baseline")
    columns["baseline"] = (
        _column(model, role_nodes(baseline.get("jobs") or []), kv_model) if baseline else None
    )
    rows = []
    for key, title in TITLES.items():
        article_base, article_ours = ARTICLE[key]
        rows.append(
            {
                "key": key,
                "item": title,
                "baseline": _cell(key, columns["baseline"], columns["ours"]),
                "ours": _cell(key, columns["ours"], columns["ours"]),
                "article_baseline": article_base,
                "article_ours": article_ours,
            }
        )
    return {"ours_source": ours_source, "columns": columns, "rows": rows}


def _column(
    model: Mapping[str, Any], nodes: Mapping[str, Sequence[str]], kv_model: Mapping[str, Any] | None
) -> dict[str, Any]:
    switches = {s["name"]: s for s in model["switches"]}
    per_leaf: dict[str, dict[str, int]] = {}
    on_ethernet: dict[str, int] = {}
    for role, role_nodes_ in nodes.items():
        leaves = Counter(model["hosts"][n]["leaf"] for n in role_nodes_ if n in model["hosts"])
        per_leaf[role] = dict(sorted(leaves.items()))
        on_ethernet[role] = sum(c for leaf, c in leaves.items() if switches[leaf]["type"] != "ib")
    return {
        "pods_per_leaf": per_leaf,
        "on_ethernet": on_ethernet,
        "network": summarise_roles(model, nodes, kv_model=kv_model),
    }


def _cell(key: str, col: Mapping[str, Any] | None, ours: Mapping[str, Any] | None) -> dict[str, str]:
    """``{"main": ..., "detail": ...}`` text of one cell."""
    if col is None:
        return {"main": "not computed", "detail": "the prediction has no baseline"}
    if key.endswith("-distribution"):
        role = key.split("-")[0]
        return _distribution(col["pods_per_leaf"].get(role, {}), col["on_ethernet"].get(role, 0))
    if key == "kv-transfer":
        kv = col["network"]["prefill-decode"].get("kv_ms")
        if not kv:
            return {"main": "n/a", "detail": "no prefill-decode pairs"}
        return {"main": f"{kv['mean']:.1f} ms mean", "detail": f"worst pair {kv['worst']:.1f} ms"}
    if key == "throughput":
        return _throughput(col, ours)
    kind, _, metric = key.rpartition("-")
    summary = col["network"][kind]
    if not summary["pairs"]:
        return {"main": "n/a", "detail": "no pairs"}
    detail = " · ".join(f"{n} {summary['class_labels'][c]}" for c, n in summary["classes"].items())
    detail = f"{summary['pairs']} pairs: {detail}"
    if metric == "latency":
        return {"main": format_latency(summary["latency_us"]), "detail": detail}
    return {"main": format_bandwidth(summary["bandwidth_gbps"]), "detail": detail}


def _distribution(per_leaf: Mapping[str, int], on_ethernet: int) -> dict[str, str]:
    if not per_leaf:
        return {"main": "no pods", "detail": ""}
    main = ", ".join(f"{leaf} {TIMES}{n}" for leaf, n in per_leaf.items())
    total = sum(per_leaf.values())
    detail = "all under IB leaves" if not on_ethernet else f"{on_ethernet} of {total} under Ethernet leaves"
    return {"main": main, "detail": detail}


def _throughput(col: Mapping[str, Any], ours: Mapping[str, Any] | None) -> dict[str, str]:
    mine = col["network"]["prefill-decode"].get("kv_ms")
    ref = ours["network"]["prefill-decode"].get("kv_ms") if ours else None
    if not mine or not ref:
        return {"main": "n/a", "detail": "no prefill-decode pairs"}
    if col is ours:
        return {"main": "reference", "detail": f"KV transfer time 1.00{TIMES}"}
    ratio = mine["mean"] / ref["mean"]
    worst = mine["worst"] / ref["worst"]
    if ratio <= 1.0005:
        detail = f"KV transfer {ratio:.2f}{TIMES} ours (worst pair {worst:.2f}{TIMES})"
        return {"main": "no loss", "detail": detail}
    return {
        "main": f"KV transfer {ratio:.2f}{TIMES} slower",
        "detail": f"worst pair {worst:.2f}{TIMES} ours; the article measures 30-50 % lower throughput",
    }


def format_latency(lat: Mapping[str, Any]) -> str:
    """``< 5 µs``, ``2-5 µs``, ``up to > 10 µs`` (an unbounded worst class)."""
    lo, hi = lat["min"], lat["max"]
    if hi is None:
        return f"up to > {lat.get('max_floor', lo):g} µs"
    if lo == hi:
        return f"{hi:g} µs" if hi else "intra-node"
    if lo == 0:
        return f"< {hi:g} µs"
    return f"{lo:g}-{hi:g} µs"


def format_bandwidth(bw: Mapping[str, Any]) -> str:
    lo, hi = bw["min"], bw["max"]
    return f"{hi:g} Gbps" if lo == hi else f"{lo:g}-{hi:g} Gbps"
