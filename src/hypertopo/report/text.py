"""The terminal report: plain-text tables (no colour codes, fits a log file and ``debug``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypertopo.report.context import (
    PAIR_TITLES,
    fmt_classes,
    fmt_counts,
    fmt_hypernode,
    fmt_kv,
    fmt_pod_status,
    fmt_predicted_leaves,
    fmt_state,
)
from hypertopo.report.network import TIMES
from hypertopo.report.sections import section_text


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Left-aligned columns separated by two spaces, a dashed rule under the header."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_text(ctx: Mapping[str, Any]) -> str:
    """The whole report as text."""
    extra = [section_text(section) for section in ctx.get("sections") or ()]
    parts = [_header(ctx), *extra, _jobs(ctx), _network(ctx), _comparison(ctx), _pods(ctx), _lists(ctx)]
    return "\n\n".join(p for p in parts if p) + "\n"


def _header(ctx: Mapping[str, Any]) -> str:
    lines = [f"hypertopo placement report — inventory {ctx['source']}"]
    if not ctx["verified"]:
        lines.append(
            f"Prediction only (not verified against a cluster): {ctx['pod_count']} pods placed; "
            f"{ctx['placement_summary']}"
        )
        return "\n".join(lines)
    pods = sum(len(j["pods"]) for j in ctx["jobs"])
    bound = sum(j["bound"] for j in ctx["jobs"])
    running = sum(1 for j in ctx["jobs"] for p in j["pods"] if p.get("phase") == "Running" and p.get("ready"))
    verdict = "OK" if ctx["ok"] else f"FAILED ({len(ctx['failures'])} failure(s))"
    lines.append(
        f"Verification: {verdict} — {bound}/{pods} pods bound, {running} Running and Ready; "
        f"{ctx['placement_summary']}; {len(ctx['differences'])} difference(s)"
    )
    return "\n".join(lines)


def _job_classes(job: Mapping[str, Any]) -> str:
    parts = []
    for kind, summary in job["network"].items():
        if summary.get("pairs"):
            classes = ", ".join(f"{c} {TIMES}{n}" for c, n in summary["classes"].items())
            parts.append(f"{PAIR_TITLES[kind]}: {classes}")
    return "; ".join(parts) or "-"


def _jobs(ctx: Mapping[str, Any]) -> str:
    rows = []
    for job in ctx["jobs"]:
        side = job["actual"] if ctx["verified"] else job["predicted"]
        rows.append(
            [
                job["name"],
                (side["hypernode"] or "-") if ctx["verified"] else side["outcomes"],
                side["tier"] if side["tier"] is not None else "-",
                fmt_counts(side["pods_per_leaf"]),
                _job_classes(job),
                fmt_kv(job["kv"]),
            ]
        )
    which = "actual" if ctx["verified"] else "predicted"
    head = ["JOB", f"HYPERNODE ({which})", "TIER", "PODS PER LEAF", "PAIR CLASSES", "KV ms mean/worst"]
    out = f"Jobs\n{table(head, rows)}"
    if ctx["verified"]:
        rows = []
        for job in ctx["jobs"]:
            pred, act = job["predicted"], job["actual"]
            same = job["outcome_words"]
            rows.append(
                [
                    job["name"],
                    pred["outcomes"] if " or " in pred["outcomes"] else fmt_hypernode(pred),
                    fmt_hypernode(act),
                    fmt_predicted_leaves(pred),
                    fmt_counts(act["pods_per_leaf"]),
                    same,
                    fmt_state(job.get("state")),
                ]
            )
        head = [
            "JOB",
            "HYPERNODE predicted",
            "HYPERNODE actual",
            "PER LEAF predicted",
            "PER LEAF actual",
            "AS PREDICTED",
            "STATE",
        ]
        out += f"\n\nPredicted vs actual\n{table(head, rows)}"
    return out


def _network(ctx: Mapping[str, Any]) -> str:
    from hypertopo.report.compare import format_bandwidth, format_latency

    net = ctx["network"]
    rows = []
    for kind, title in PAIR_TITLES.items():
        pred = (net.get("predicted") or {}).get(kind)
        act = (net.get("actual") or {}).get(kind)
        shown = act if ctx["verified"] else pred
        if not shown or not shown.get("pairs"):
            rows.append([title, "-", "-", "-", "-", "-"])
            continue
        rows.append(
            [
                title,
                fmt_classes(pred),
                fmt_classes(act) if ctx["verified"] else "-",
                format_latency(shown["latency_us"]),
                format_bandwidth(shown["bandwidth_gbps"]),
                fmt_kv(shown) if kind == "prefill-decode" else "-",
            ]
        )
    head = ["PAIRS", "CLASSES predicted", "CLASSES actual", "LATENCY", "BANDWIDTH", "KV ms mean/worst"]
    out = f"Network between the placed pods\n{table(head, rows)}"
    others = net.get("alternatives") or []
    if others:
        out += "\nprefill ↔ decode if Volcano's random picks differ from the predicted placement:"
        for alt in others:
            pairs = alt["prefill-decode"]
            out += f"\n  {alt['picks']}: {fmt_classes(pairs)}, KV ms {fmt_kv(pairs)}"
    return out


def _comparison(ctx: Mapping[str, Any]) -> str:
    cmp = ctx["comparison"]
    rows = [[r["item"], r["baseline"]["main"], r["ours"]["main"]] for r in cmp["rows"]]
    head = ["", "SIMPLE AFFINITY (engine baseline)", f"TOPOLOGY-AWARE + IB ({cmp['ours_source']})"]
    return f"Simple affinity vs topology-aware + IB constraint\n{table(head, rows)}"


def _pods(ctx: Mapping[str, Any]) -> str:
    rows = []
    for job in ctx["jobs"]:
        for p in job["pods"]:
            match = "-" if p["match"] is None else ("yes" if p["match"] else "NO")
            rows.append(
                [
                    p["pod"],
                    p["role"] or "-",
                    p["predicted_node"] or "-",
                    p["actual_node"] or "-",
                    p["actual_leaf"] or p["predicted_leaf"] or "-",
                    match,
                    fmt_pod_status(p),
                ]
            )
    return f"Pods\n{table(['POD', 'ROLE', 'PREDICTED', 'ACTUAL', 'LEAF', 'MATCH', 'STATUS'], rows)}"


def _lists(ctx: Mapping[str, Any]) -> str:
    out = []
    for title, items in (
        ("Failures", ctx["failures"]),
        ("Differences", ctx["differences"]),
        ("Warnings", ctx["warnings"]),
    ):
        if items:
            out.append(title + "\n" + "\n".join(f"  - {i}" for i in items))
    return "\n\n".join(out)
