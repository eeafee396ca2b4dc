"""A readable verdict on a :func:`~hypertopo.placement.predict` result, for a preflight step.

``preflight(result)`` returns ``(ok, table_text, reasons)``: ``ok`` is False when a
job with a hard topology constraint (``mode: hard`` with a tier) is infeasible
(and, with ``strict=True``, when any job is); ``reasons`` explains each failure;
``table_text`` has one row per job (HyperNode, tier, pods per leaf, pair classes,
KV-cache transfer time; where Volcano picks at random, every outcome with its probability,
:func:`~hypertopo.placement.ties.outcomes_text`) plus the prefill x decode row over all jobs
and, when the result has one, the simple-affinity baseline, then the engine's warnings
(``warning: ...`` lines).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypertopo.placement.ties import outcomes_text

SHORT = {
    "same_ib_leaf": "leaf",
    "same_ib_aggregation": "ib-agg",
    "ib_ethernet": "ib-eth",
    "ethernet_ethernet": "eth-eth",
}
NOT_BLOCKING = "(not blocking) "
HEADERS = ("job", "HyperNode", "tier", "pods per leaf", "pair classes", "KV ms mean/worst")


def _classes(network: Mapping[str, Any] | None) -> str:
    if not network:
        return "-"
    total: dict[str, int] = {}
    for key in ("prefill_internal", "decode_internal", "prefill_decode"):
        block = network.get(key)
        if block:
            for cls, count in block["classes"].items():
                total[cls] = total.get(cls, 0) + count
    return " ".join(f"{SHORT.get(c, c)}:{n}" for c, n in total.items()) or "-"


def _kv(network: Mapping[str, Any] | None) -> str:
    block = (network or {}).get("prefill_decode")
    if not block:
        return "-"
    kv = block["kv_transfer_ms"]
    return f"{kv['mean']:.1f}/{kv['worst']:.1f}"


def _rows(result: Mapping[str, Any], suffix: str = "") -> list[tuple[str, ...]]:
    rows = []
    for job in result.get("jobs", []):
        name = f"{job['namespace']}/{job['name']}{suffix}"
        if not job["feasible"]:
            waits = job.get("waits_for")
            state = "INFEASIBLE" if waits is None else f"PIPELINED (waits for {len(waits)} terminating pods)"
            rows.append((name, state, "-", "-", "-", "-"))
            continue
        outcomes = [o for o in job.get("outcomes") or [] if o.get("feasible")] or [
            {"tier": job["tier"], "pods_per_leaf": job["leaves"]}
        ]
        leaves = " or ".join(
            " ".join(f"{leaf}:{n}" for leaf, n in o["pods_per_leaf"].items()) or "-" for o in outcomes
        )
        tiers = sorted({o["tier"] for o in outcomes if o["tier"] is not None})
        tier = "/".join(str(t) for t in tiers) or "-"
        rows.append((name, outcomes_text(job), tier, leaves, _classes(job["network"]), _kv(job["network"])))
    network = result.get("network")
    if network and network.get("prefill_decode"):
        block = network["prefill_decode"]
        classes = " ".join(f"{SHORT.get(c, c)}:{n}" for c, n in block["classes"].items())
        rows.append((f"prefill x decode (all jobs){suffix}", "-", "-", "-", classes, _kv(network)))
    return rows


def _table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(HEADERS[i]), *(len(r[i]) for r in rows)) for i in range(len(HEADERS))]
    line = "  ".join(h.ljust(w) for h, w in zip(HEADERS, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out.extend("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)
    return "\n".join(line.rstrip() for line in out)


def blockers(result: Mapping[str, Any], *, strict: bool = False) -> list[str]:
    """The reasons that make :func:`preflight` fail (empty: go ahead)."""
    _ok, _table, reasons = preflight(result, strict=strict)
    return [r for r in reasons if not r.startswith(NOT_BLOCKING)]


def preflight(result: Mapping[str, Any], *, strict: bool = False) -> tuple[bool, str, list[str]]:
    """(ok, table text, reasons). Fails on an infeasible hard-mode job (any infeasible job if ``strict``)."""
    ok = True
    reasons: list[str] = []
    for job in result.get("jobs", []):
        if job["feasible"]:
            continue
        blocking = job.get("hard") or strict
        label = f"{job['kind']} {job['namespace']}/{job['name']}"
        kind = "hard topology constraint cannot be met" if job.get("hard") else "cannot be placed"
        if blocking:
            ok = False
        prefix = "" if blocking else NOT_BLOCKING
        reasons.append(f"{prefix}{label}: {kind}: " + "; ".join(job["reasons"] or ["no reason recorded"]))
    rows = _rows(result)
    baseline = result.get("baseline")
    if baseline:
        rows.extend(_rows(baseline, " [simple affinity]"))
    table = _table(rows)
    expected = (baseline or {}).get("expected") or {}
    if expected.get("ethernet_pod_fraction") is not None:
        table += (
            f"\nsimple affinity, expected over random tie-breaks ({expected['samples']} runs): "
            f"{expected['ethernet_pod_fraction'] * 100:.0f}% of pods on Ethernet"
        )
        kv = expected.get("prefill_decode_kv_transfer_ms")
        if kv:
            table += f", prefill->decode KV {kv['mean']:.1f} ms mean / {kv['worst']:.1f} ms worst"
    notes = _warnings(result)
    if notes:
        table += "\n" + "\n".join(f"warning: {w}" for w in notes)
    return ok, table, reasons


def _warnings(result: Mapping[str, Any]) -> list[str]:
    """The engine's warnings, each once: global ones, then per job (``<job>: ...``)."""
    out = [str(w) for w in result.get("warnings") or []]
    for job in result.get("jobs", []):
        out += [f"{job['name']}: {w}" for w in job.get("warnings") or [] if str(w) not in out]
    seen: set[str] = set()
    return [w for w in out if not (w in seen or seen.add(w))]
