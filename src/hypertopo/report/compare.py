"""The seed article's comparison table, filled with numbers.

Two columns: "simple affinity" (the engine's baseline: GPU-model affinity only) and
"topology-aware + IB constraint" (this rollout: the actual placement when a verification is
given, else the prediction), plus the article's own claims for reference.

Volcano breaks score ties at random; with simple affinity most nodes of a GPU model tie, so one
deterministic run says little. Where the engine reports the baseline's ``expected`` values
(averages over runs with random tie-breaks) the baseline column shows those; the rest comes
from the engine's deterministic baseline run, and each cell says which.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from hypertopo.report.network import (
    CLASS_LABELS,
    DEFAULT_ROLE_KEYWORDS,
    ENGINE_KEYS,
    TIMES,
    Costs,
    ordered_classes,
    placements,
    role_of,
)

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
DETERMINISTIC = "deterministic tie-break run"


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
    costs: Costs | None = None,
) -> dict[str, Any]:
    """Both columns as data (pods per leaf by role, pair summaries, expected values) and the rows."""
    costs = costs or Costs(model)
    if verification is not None:
        ours_nodes, ours_source = actual_role_nodes(verification), "actual"
    else:
        ours_nodes, ours_source = role_nodes(predicted.get("jobs") or []), "predicted"
    ours = _column(model, costs, ours_nodes, None)
    baseline = predicted.get("baseline")
    base = (
        _column(model, costs, role_nodes(baseline.get("jobs") or []), baseline.get("expected"))
        if baseline
        else None
    )
    rows = []
    for key, title in TITLES.items():
        article_base, article_ours = ARTICLE[key]
        rows.append(
            {
                "key": key,
                "item": title,
                "baseline": _cell(key, base, ours, costs),
                "ours": _cell(key, ours, ours, costs),
                "article_baseline": article_base,
                "article_ours": article_ours,
            }
        )
    return {"ours_source": ours_source, "columns": {"ours": ours, "baseline": base}, "rows": rows}


def _column(
    model: Mapping[str, Any],
    costs: Costs,
    nodes: Mapping[str, Sequence[str]],
    expected: Mapping[str, Any] | None,
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
        "network": costs.summarise(nodes),
        "expected": dict(expected) if expected else None,
    }


def _cell(key: str, col: Mapping[str, Any] | None, ours: Mapping[str, Any], costs: Costs) -> dict[str, str]:
    """``{"main": ..., "detail": ...}`` text of one cell."""
    if col is None:
        return {"main": "not computed", "detail": "the prediction has no baseline"}
    is_base = col is not ours
    expected = col["expected"] if is_base else None
    if key.endswith("-distribution"):
        return _distribution(col, key.split("-")[0], expected)
    if key == "kv-transfer":
        kv = _kv(col)
        if not kv:
            return {"main": "n/a", "detail": "no prefill-decode pairs"}
        return {
            "main": f"{kv['mean']:.1f} ms mean",
            "detail": f"worst pair {kv['worst']:.1f} ms{_source(col)}",
        }
    if key == "throughput":
        return _throughput(col, ours)
    kind, _, metric = key.rpartition("-")
    fractions = (expected or {}).get(f"{ENGINE_KEYS[kind]}_classes")
    if fractions:
        return _expected_pairs(metric, fractions, expected or {}, costs)
    summary = col["network"][kind]
    if not summary["pairs"]:
        return {"main": "n/a", "detail": "no pairs"}
    counts = " · ".join(f"{summary['classes'][c]} {summary['class_labels'][c]}" for c in summary["classes"])
    run = f" ({DETERMINISTIC})" if is_base else ""
    if metric == "latency":
        detail = f"{summary['pairs']} pairs{run}: {counts}; mean {summary['latency_us']['mean']:.3g} µs"
        return {"main": format_latency(summary["latency_us"]), "detail": detail}
    detail = f"{summary['pairs']} pairs{run}: {counts}; mean {summary['bandwidth_gbps']['mean']:.3g} Gbps"
    return {"main": format_bandwidth(summary["bandwidth_gbps"]), "detail": detail}


def _expected_pairs(
    metric: str, fractions: Mapping[str, float], expected: Mapping[str, Any], costs: Costs
) -> dict[str, str]:
    means = costs.class_means(fractions)
    shares = " · ".join(
        f"{fractions[c] * 100:.0f} % {CLASS_LABELS.get(c, c)}"
        for c in ordered_classes(fractions)
        if fractions[c]
    )
    how = f"expected over {expected.get('samples', '?')} random tie-breaks: {shares}"
    if metric == "latency":
        lat = means["latency_us"]
        return {"main": format_latency(lat), "detail": f"{how}; mean {lat['mean']:.3g} µs"}
    bw = means["bandwidth_gbps"]
    return {"main": format_bandwidth(bw), "detail": f"{how}; mean {bw['mean']:.3g} Gbps"}


def _distribution(col: Mapping[str, Any], role: str, expected: Mapping[str, Any] | None) -> dict[str, str]:
    per_leaf = col["pods_per_leaf"].get(role, {})
    leaves = ", ".join(f"{leaf} {TIMES}{n}" for leaf, n in per_leaf.items()) or "no pods"
    total = sum(per_leaf.values())
    on_eth = col["on_ethernet"].get(role, 0)
    if expected and expected.get("ethernet_pod_fraction") is not None:
        share = expected["ethernet_pod_fraction"] * 100
        return {
            "main": f"{share:.0f} % of PD pods under Ethernet leaves",
            "detail": f"expected over {expected.get('samples', '?')} random tie-breaks; "
            f"{DETERMINISTIC}: {leaves}",
        }
    if not per_leaf:
        return {"main": "no pods", "detail": ""}
    detail = "all under IB leaves" if not on_eth else f"{on_eth} of {total} under Ethernet leaves"
    return {"main": leaves, "detail": detail}


def _kv(col: Mapping[str, Any]) -> dict[str, float] | None:
    expected = col.get("expected") or {}
    if expected.get("prefill_decode_kv_transfer_ms"):
        return dict(expected["prefill_decode_kv_transfer_ms"])
    return col["network"]["prefill-decode"].get("kv_ms")


def _source(col: Mapping[str, Any]) -> str:
    expected = col.get("expected") or {}
    if expected.get("prefill_decode_kv_transfer_ms"):
        return f" (expected over {expected.get('samples', '?')} random tie-breaks)"
    return ""


def _throughput(col: Mapping[str, Any], ours: Mapping[str, Any]) -> dict[str, str]:
    mine, ref = _kv(col), _kv(ours)
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
    """``< 5 µs``, ``2-5 µs``, ``up to > 10 µs`` (an unbounded worst class), from the class ranges."""
    if "min" not in lat:
        return f"{lat.get('worst', 0):g} µs"
    lo, hi = lat["min"], lat["max"]
    if hi is None:
        return f"up to > {lat.get('max_floor', lo):g} µs"
    if lo == hi:
        return f"{hi:g} µs"
    if lo == 0:
        return f"< {hi:g} µs"
    return f"{lo:g}-{hi:g} µs"


def format_bandwidth(bw: Mapping[str, Any]) -> str:
    if "min" not in bw:
        return f"{bw.get('worst', 0):g} Gbps"
    lo, hi = bw["min"], bw["max"]
    return f"{hi:g} Gbps" if lo == hi else f"{lo:g}-{hi:g} Gbps"
