"""Extra report sections: what-if (before vs after per job) and headroom.

A section is plain data, ``{"id", "title", "notes": [str], "tables": [{"caption", "headers",
"rows"}]}``, rendered by the text report (:func:`section_text`), the HTML page (a card per
section) and kept as is in the JSON report (``sections``). ``topology-hints headroom`` prints
the same tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypertopo.placement.ties import outcomes_text
from hypertopo.report.network import TIMES

#: The pair kinds of a job's network cost, as the report names them.
PAIR_NAMES = {
    "prefill_internal": "prefill",
    "decode_internal": "decode",
    "prefill_decode": "prefill ↔ decode",
}


def _cost(summary: Mapping[str, Any] | None) -> str:
    """A job's network cost in one cell: per pair kind the classes and the mean latency / KV time."""
    if not summary:
        return "-"
    parts = []
    for kind, cost in (summary.get("network") or {}).items():
        classes = ", ".join(f"{c} {TIMES}{n}" for c, n in cost["classes"].items())
        extra = []
        if cost.get("latency_us"):
            extra.append(f"{cost['latency_us']['mean']:g} µs")
        if cost.get("kv_transfer_ms"):
            extra.append(f"KV {cost['kv_transfer_ms']['mean']:.1f} ms")
        parts.append(f"{PAIR_NAMES.get(kind, kind)}: {classes}" + (f" ({', '.join(extra)})" if extra else ""))
    return "; ".join(parts) or "-"


def _side(summary: Mapping[str, Any] | None) -> list[str]:
    if summary is None:
        return ["-", "-", "-", "-"]
    leaves = ", ".join(f"{leaf} {n}" for leaf, n in summary["pods_per_leaf"].items()) or "-"
    state = "yes" if summary["feasible"] else "NO"
    placed = f"{state} ({summary['placed']} placed, {summary['pending']} pending)"
    return [placed, outcomes_text(summary), leaves, _cost(summary)]


def what_if_section(data: Mapping[str, Any]) -> dict[str, Any]:
    """The what-if comparison (:func:`hypertopo.placement.whatif.what_if`) as a section."""
    rows = []
    for job in data["jobs"]:
        before, after = _side(job["before"]), _side(job["after"])
        for label, b, a in zip(
            ("feasible", "HyperNode", "pods per leaf", "network"), before, after, strict=True
        ):
            rows.append([job["job"] if label == "feasible" else "", label, b, a if a != b else "(same)"])
    notes = [f"change {i + 1}: {c['text']}" for i, c in enumerate(data["changes"])]
    net = []
    for side in ("before", "after"):
        result = data.get(side) or {}
        pd = (result.get("network") or {}).get("prefill_decode") or {}
        kv = pd.get("kv_transfer_ms") or {}
        kv_text = f", KV transfer {kv['mean']:.1f} / {kv['worst']:.1f} ms (mean / worst)" if kv else ""
        fraction = result.get("ethernet_pod_fraction")
        share = f"{fraction * 100:.0f} % of placed pods on Ethernet" if fraction is not None else ""
        net.append(f"{side}: {share}{kv_text}")
    notes.append("network, all pods: " + "; ".join(net))
    return {
        "id": "what-if",
        "title": "What-if: before vs after the changes (predicted, nothing written)",
        "notes": notes,
        "tables": [{"caption": "", "headers": ["job", "", "before", "after"], "rows": rows}],
    }


def _where(summary: Mapping[str, Any] | None) -> str:
    if not summary or not summary["places"]:
        return "-"
    types = "/".join(summary["switch_types"]) or "?"
    return f"{summary['hypernode']} (tier {summary['tier']}, {types})"


def headroom_section(data: Mapping[str, Any]) -> dict[str, Any]:
    """The headroom answer (:func:`hypertopo.placement.headroom.headroom`) as a section."""
    notes = []
    check = data.get("check")
    if check:
        what = f"{check['task']} of {check['job']}" if check["task"] else check["job"]
        if check["places"]:
            answer = (
                f"yes: all {check['placed']} pods placed under {check['hypernode']} (tier {check['tier']}), "
                f"switch types {', '.join(check['switch_types'])}; pods per leaf "
                + ", ".join(f"{k} {v}" for k, v in check["pods_per_leaf"].items())
            )
        else:
            answer = f"no: {check['pending']} pods stay pending" + (
                f" ({check['reasons'][0]})" if check["reasons"] else ""
            )
        notes.append(f"{what} at {check['replicas']} replicas: {answer}")
    jobs = [
        [
            job["job"],
            job["task"] or "-",
            job["role"] or "-",
            job["constraint"] or "none",
            job["replicas"],
            f">= {job['max_replicas']} (search limit)" if job.get("limited") else job["max_replicas"],
            _where(job["at_max"]),
            "-" if job["confirmed"] is None else ("yes" if job["confirmed"] else "NO"),
            ", ".join(job["displaces"]) or "-",
        ]
        for job in data["jobs"]
    ]
    capacity = [
        [
            hn["hypernode"],
            hn["tier"],
            shape["role"] or "-",
            shape["job"],
            shape["task"] or "-",
            shape["fit"],
            ", ".join(f"{m} {n}" for m, n in shape["by_gpu_model"].items()) or "-",
        ]
        for hn in data["hypernodes"]
        for shape in hn["shapes"]
    ]
    return {
        "id": "headroom",
        "title": "Headroom",
        "notes": notes,
        "tables": [
            {
                "caption": "Largest replica count that still places (max predicted to place, max+1 not)",
                "headers": [
                    "job",
                    "task",
                    "role",
                    "network topology",
                    "now",
                    "max",
                    "at max",
                    "confirmed",
                    "displaces",
                ],
                "rows": jobs,
            },
            {
                "caption": "More pods of each task's shape that fit under each HyperNode (free resources; "
                "pod affinity and the tier bound not applied)",
                "headers": ["hypernode", "tier", "role", "job", "task", "more pods", "per GPU model"],
                "rows": capacity,
            },
        ],
    }


def section_text(section: Mapping[str, Any]) -> str:
    """A section for the terminal: title, notes, then each table."""
    from hypertopo.report.text import table

    parts = [section["title"], *section["notes"]] if section["title"] else list(section["notes"])
    for tab in section["tables"]:
        rendered = table(tab["headers"], tab["rows"])
        parts.append(f"\n{tab['caption']}:\n{rendered}" if tab["caption"] else f"\n{rendered}")
    return "\n".join(parts)


def sections_text(sections: Sequence[Mapping[str, Any]]) -> str:
    return "\n\n".join(section_text(s) for s in sections)
