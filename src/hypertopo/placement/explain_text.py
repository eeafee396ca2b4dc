"""The readable form of an :func:`~hypertopo.placement.explain.explain` result (a table per tier)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: candidate rows shown per tier (the rest are counted)
MAX_ROWS = 20


def _gpus(by_model: Mapping[str, int]) -> str:
    return ", ".join(f"{model} {n}" for model, n in by_model.items()) or "-"


def _tasks_text(tasks: Mapping[str, Mapping[str, Any]]) -> str:
    parts = []
    for role, item in tasks.items():
        partitions = item.get("partitions")
        if isinstance(partitions, Mapping):  # need: count x size within tier
            count, size, tier = partitions["count"], partitions["size"], partitions["tier"]
            extra = f" ({count} partitions of {size} within tier {tier})"
        elif partitions is not None:  # free: partitions that fit
            extra = f" ({partitions} partitions)"
        else:
            extra = ""
        parts.append(f"{role} {item.get('pods', 0)}{extra}")
    return "; ".join(parts) or "-"


def _short(short: Mapping[str, Any]) -> str:
    parts = []
    for role, item in short.get("tasks", {}).items():
        gpus = f" = {item['gpus']} {item['gpu_model'] or ''} GPUs".replace("  ", " ") if item["gpus"] else ""
        partitions = f", {item['partitions']} partitions" if item.get("partitions") else ""
        parts.append(f"{role} {item['pods']} pods{gpus}{partitions}")
    if "min_resources" in short:
        parts.append("minResources (pre-filter)")
    return "; ".join(parts) or "-"


def _excluded(excluded: Mapping[str, int]) -> str:
    return "; ".join(f"{n} {reason}" for reason, n in excluded.items()) or "-"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return ["  ".join(cell.ljust(widths[c]) for c, cell in enumerate(row)).rstrip() for row in rows]


def explain_text(result: Mapping[str, Any]) -> str:
    """The verdict, the per-tier candidate tables and the suggestions, as plain text."""
    lines = [f"{result['kind']} {result['job']}: {result['status']}"]
    constraint = result.get("constraint")
    if constraint:
        lines.append(
            f"network topology: {constraint['mode']}, highestTierAllowed {constraint['highest_tier_allowed']}"
        )
    if result["status"] == "not_scheduled_by_volcano":
        lines.append("its schedulerName is not volcano: Volcano never places its pods")
        return "\n".join(lines) + "\n"
    if result["status"] in ("running", "placeable"):
        verb = "runs" if result["status"] == "running" else "is predicted to be placed"
        where = f" in {result['hypernode']} (tier {result['tier']})" if result.get("hypernode") else ""
        lines.append(f"the job {verb}{where}; {len(result['placements'])} pods:")
        lines.extend(f"  {pod} -> {node}" for pod, node in result["placements"].items())
        return "\n".join(lines) + "\n"
    for reason in result["reasons"]:
        lines.append(f"reason: {reason}")
    for tier in result["tiers"]:
        lines.append("")
        lines.append(f"tier {tier['tier']}:")
        rows = [
            ["HYPERNODE", "ELIGIBLE", "NEED", "FREE (fits the task)", "FREE GPUS", "SHORT", "EXCLUDED NODES"]
        ]
        for cand in tier["candidates"][:MAX_ROWS]:
            need, free = cand["need"], cand["free"]
            rows.append(
                [
                    cand["hypernode"],
                    "yes" if cand["eligible"] else "no",
                    _tasks_text(need["tasks"]) + (f" ({_gpus(need['gpus'])} GPUs)" if need["gpus"] else ""),
                    _tasks_text(free["tasks"]),
                    _gpus(free["gpus"]),
                    _short(cand["short"]),
                    _excluded(cand["excluded"]),
                ]
            )
        lines.extend("  " + line for line in _table(rows))
        hidden = len(tier["candidates"]) - MAX_ROWS
        if hidden > 0:
            lines.append(f"  ... {hidden} more HyperNodes of tier {tier['tier']} (--json lists all)")
    lines.append("")
    if result["suggestions"]:
        lines.append("suggestions (each re-predicted on the changed inputs):")
        for n, item in enumerate(result["suggestions"], 1):
            verdict = "places the job" if item["predicted_feasible"] else "NOT enough alone"
            lines.append(f"  {n}. {item['text']} -> {verdict}")
    if result["no_single_change"]:
        lines.append("no single change of those tried makes the job placeable")
    return "\n".join(lines) + "\n"
