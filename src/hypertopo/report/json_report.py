"""The machine-readable report: everything the other formats show, as one JSON document."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

SCHEMA = "hypertopo.report/v1"


def report_data(ctx: Mapping[str, Any], predicted: Mapping[str, Any]) -> dict[str, Any]:
    """The report as plain data (stable key order, no timestamps: re-runs give identical bytes)."""
    data = {
        "schema": SCHEMA,
        "inventory": ctx["source"],
        "verified": ctx["verified"],
        "placement_summary": ctx["placement_summary"],
        "ok": ctx["ok"],
        "failures": ctx["failures"],
        "differences": ctx["differences"],
        "warnings": ctx["warnings"],
        "jobs": ctx["jobs"],
        "chosen_hypernodes": ctx["chosen"],
        "network": ctx["network"],
        "comparison": ctx["comparison"],
        "marks": [asdict(m) for m in ctx["marks"]],
        "predicted": dict(predicted),
    }
    if ctx.get("sections"):
        data["sections"] = ctx["sections"]
    return data


def render_json(ctx: Mapping[str, Any], predicted: Mapping[str, Any]) -> str:
    return json.dumps(report_data(ctx, predicted), indent=2, ensure_ascii=False, default=str) + "\n"
