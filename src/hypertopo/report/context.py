"""What every report format shows, computed once: jobs, pods, network, comparison, warnings."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping
from typing import Any

from hypertopo.placement.ties import outcomes_text
from hypertopo.report.compare import comparison
from hypertopo.report.network import DEFAULT_ROLE_KEYWORDS, TIMES, Costs, role_of
from hypertopo.report.svg import Mark
from hypertopo.report.verify import outcome_words

PAIR_TITLES = {
    "prefill-internal": "prefill-internal",
    "decode-internal": "decode-internal",
    "prefill-decode": "prefill ↔ decode",
}


def build_context(
    model: Mapping[str, Any],
    predicted: Mapping[str, Any],
    verification: Mapping[str, Any] | None = None,
    *,
    kv_model: Mapping[str, Any] | None = None,
    role_keywords: Mapping[str, str] = DEFAULT_ROLE_KEYWORDS,
) -> dict[str, Any]:
    """Plain data for the text, JSON and HTML reports."""
    costs = Costs(model, kv_model=kv_model)
    jobs = _jobs(model, predicted, verification, role_keywords)
    side = "actual_node" if verification is not None else "predicted_node"
    for job in jobs:
        nodes: dict[str, list[str]] = {}
        for pod in job["pods"]:
            if pod["role"] and pod[side]:
                nodes.setdefault(pod["role"], []).append(pod[side])
        job["network"] = costs.summarise(nodes)
    marks, ghosts = _marks(jobs, verification is not None)
    chosen: dict[str, list[str]] = {}
    for job in jobs:
        side = job["actual"] if verification is not None and job["actual"]["hypernode"] else job["predicted"]
        if side["hypernode"]:
            chosen.setdefault(side["hypernode"], []).append(job["name"])
    if verification is not None:
        network = verification["network"]
    else:
        planned: dict[str, list[str]] = {}
        for job in jobs:
            for pod in job["pods"]:
                if pod["role"] and pod["predicted_node"]:
                    planned.setdefault(pod["role"], []).append(pod["predicted_node"])
        network = {"predicted": costs.summarise(planned), "actual": None}
    network = {**network, "alternatives": pair_alternatives(predicted, costs, role_keywords)}
    shown = network["actual" if verification is not None else "predicted"]["prefill-decode"]
    for job in jobs:
        own = job["network"]["prefill-decode"]
        has_role = any(p["role"] for p in job["pods"])
        job["kv"] = (own if own.get("pairs") else shown) if has_role else None
    baseline_marks: list[Mark] = []
    baseline_chosen: dict[str, list[str]] = {}
    for job in (predicted.get("baseline") or {}).get("jobs") or []:
        for p in job.get("placements") or []:
            if p.get("node"):
                role = role_of(p.get("task", ""), job["name"], role_keywords) or "other"
                baseline_marks.append(Mark(p["pod"], p["node"], role, job["name"]))
        if job.get("hypernode"):
            baseline_chosen.setdefault(job["hypernode"], []).append(job["name"])
    for job in jobs:
        job["outcome_words"] = outcome_words(job) if verification is not None else None
    return {
        "source": model.get("source", ""),
        "placement_summary": placement_summary(jobs, verification is not None),
        "verified": verification is not None,
        "ok": None if verification is None else bool(verification["ok"]),
        "failures": list((verification or {}).get("failures") or []),
        "differences": list((verification or {}).get("differences") or []),
        "jobs": jobs,
        "marks": marks,
        "ghosts": ghosts,
        "chosen": chosen,
        "network": network,
        "comparison": comparison(model, predicted, verification, costs=costs),
        "warnings": _warnings(predicted, model),
        "pod_count": len(marks),
        "baseline_marks": baseline_marks,
        "baseline_chosen": baseline_chosen,
    }


def _jobs(
    model: Mapping[str, Any],
    predicted: Mapping[str, Any],
    verification: Mapping[str, Any] | None,
    keywords: Mapping[str, str],
) -> list[dict[str, Any]]:
    if verification is not None:
        engine = {(j["name"], j.get("namespace") or "default"): j for j in predicted.get("jobs") or []}
        out = []
        for job in verification["jobs"]:
            src = engine.get((job["name"], job["namespace"]), {})
            out.append(
                {
                    **job,
                    "ties": src.get("ties") or [],
                    "reasons": src.get("reasons") or [],
                    "mode": src.get("mode"),
                }
            )
        return out
    out = []
    for job in predicted.get("jobs") or []:
        rows = []
        for p in job.get("placements") or []:
            leaf = model["hosts"].get(p.get("node") or "", {}).get("leaf")
            rows.append(
                {
                    "pod": p["pod"],
                    "task": p.get("task", ""),
                    "role": role_of(p.get("task", ""), job["name"], keywords),
                    "predicted_node": p.get("node"),
                    "actual_node": None,
                    "predicted_leaf": leaf,
                    "actual_leaf": None,
                    "match": None,
                }
            )
        leaves = Counter(r["predicted_leaf"] for r in rows if r["predicted_leaf"])
        out.append(
            {
                "kind": job.get("kind", "Job"),
                "name": job["name"],
                "namespace": job.get("namespace") or "default",
                "feasible": job.get("feasible"),
                "predicted": {
                    "hypernode": job.get("hypernode"),
                    "tier": job.get("tier"),
                    "pods_per_leaf": dict(sorted(leaves.items())),
                    "outcomes": outcomes_text(job),
                },
                "actual": {"hypernode": None, "tier": None, "pods_per_leaf": {}},
                "pods": rows,
                "bound": 0,
                "constraint": None,
                "state": None,
                "mode": job.get("mode"),
                "ties": job.get("ties") or [],
                "reasons": job.get("reasons") or [],
            }
        )
    return out


def placement_summary(jobs: list[dict[str, Any]], verified: bool) -> str:
    """One line on the placement for every report header: before a rollout, each job's predicted
    outcomes where Volcano picks at random; after it, whether the placement is a predicted
    outcome (``outcome 2 of 2``) and how many pods are in their predicted node group."""
    if not verified:
        several = [
            f"{j['name']}: {j['predicted']['outcomes']}" for j in jobs if " or " in j["predicted"]["outcomes"]
        ]
        if not several:
            return "one predicted outcome per job"
        return "predicted outcomes: " + "; ".join(several)
    placed = [j for j in jobs if j["bound"]]
    as_predicted = [j for j in placed if j.get("outcome") == "predicted"]
    which = ", ".join(
        f"{j['name']}: outcome {j['outcome_index']} of {j['outcome_count']}"
        for j in as_predicted
        if (j.get("outcome_count") or 1) > 1
    )
    pods = [p for j in jobs for p in j["pods"]]
    in_group = sum(1 for p in pods if p["match"])
    head = (
        "the placement is a predicted outcome"
        if placed and len(as_predicted) == len(placed)
        else f"the placement is a predicted outcome for {len(as_predicted)} of {len(placed)} placed job(s)"
    )
    return (
        f"{head}{f' ({which})' if which else ''}; {in_group}/{len(pods)} pods in their predicted node group"
    )


def _marks(jobs: list[dict[str, Any]], actual: bool) -> tuple[list[Mark], list[Mark]]:
    marks: list[Mark] = []
    ghosts: list[Mark] = []
    for job in jobs:
        for pod in job["pods"]:
            role = pod["role"] or "other"
            node = pod["actual_node"] if actual else pod["predicted_node"]
            if node:
                marks.append(Mark(pod["pod"], node, role, job["name"]))
            if actual and pod["predicted_node"] and pod["predicted_node"] != pod["actual_node"]:
                ghosts.append(Mark(pod["pod"], pod["predicted_node"], role, job["name"]))
    return marks, ghosts


def _warnings(predicted: Mapping[str, Any], model: Mapping[str, Any]) -> list[str]:
    """Inventory, engine and per-job warnings, each message once (a message several jobs share is
    listed once with their names; one the engine also reports globally, without them)."""
    out: list[str] = [f"inventory: {w}" for w in model.get("warnings") or []]
    out += [warning_text(w) for w in predicted.get("warnings") or []]
    per_message: dict[str, list[str]] = {}
    for job in predicted.get("jobs") or []:
        for w in job.get("warnings") or []:
            per_message.setdefault(warning_text(w), []).append(job["name"])
    out += [f"{', '.join(jobs)}: {text}" for text, jobs in per_message.items() if text not in out]
    seen: set[str] = set()
    return [w for w in out if not (w in seen or seen.add(w))]


def warning_text(warning: Any) -> str:
    """A warning of the engine as one line (strings as they are; mappings by their message)."""
    if isinstance(warning, Mapping):
        text = warning.get("message") or warning.get("text") or ""
        code = warning.get("code") or warning.get("id")
        if text:
            return f"[{code}] {text}" if code else str(text)
        return ", ".join(f"{k}={v}" for k, v in warning.items())
    return str(warning)


def fmt_counts(counts: Mapping[str, int] | None) -> str:
    """``ib-switch0: 6, ib-switch1: 6`` or ``-``."""
    if not counts:
        return "-"
    return ", ".join(f"{k}: {v}" for k, v in counts.items())


def fmt_predicted_leaves(pred: Mapping[str, Any]) -> str:
    """Predicted pods per leaf: every outcome's (``ib-switch0: 12 or ib-switch1: 12``) where there
    are several, else the one."""
    outcomes = pred.get("outcome_leaves") or []
    if len(outcomes) > 1:
        return " or ".join(fmt_counts(leaves) for leaves in outcomes)
    return fmt_counts(pred["pods_per_leaf"])


def fmt_hypernode(side: Mapping[str, Any]) -> str:
    if not side.get("hypernode"):
        return "-"
    return f"{side['hypernode']} (tier {side['tier']})"


#: combinations of the jobs' random outcomes whose prefill-decode pairs are shown
MAX_PAIR_COMBINATIONS = 16


def pair_alternatives(
    predicted: Mapping[str, Any], costs: Costs, keywords: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The prefill-decode pairs over all jobs for the other combinations of the jobs' random outcomes
    (Volcano picks each job's HyperNode at random among equal scores, so a prefill job and a decode
    job on two identical leaves share one leaf or not): ``[{"picks", "prefill-decode"}]``, only the
    combinations whose pair classes differ from the predicted placement's, at most
    :data:`MAX_PAIR_COMBINATIONS` combinations looked at. A pod's node in an outcome is the first of
    its interchangeable nodes (the pair class depends on the leaf and HyperNodes only)."""
    options: list[list[tuple[str, dict[str, list[str]]]]] = []
    for job in predicted.get("jobs") or []:
        roles = {
            p["pod"]: role_of(p.get("task", ""), job["name"], keywords) for p in job.get("placements") or []
        }
        picks = []
        for outcome in job.get("outcomes") or []:
            if not outcome.get("feasible"):
                continue
            nodes: dict[str, list[str]] = {}
            for pod, candidates in (outcome.get("candidates") or {}).items():
                if roles.get(pod) and candidates:
                    nodes.setdefault(str(roles[pod]), []).append(candidates[0])
            picks.append((f"{job['name']} on {outcome.get('hypernode') or '-'}", nodes))
        if len(picks) > 1 and any(roles.values()):
            options.append(picks)
    if not options:
        return []
    combos = itertools.islice(itertools.product(*options), MAX_PAIR_COMBINATIONS)
    out: list[dict[str, Any]] = []
    seen: list[Any] = []
    for combo in combos:
        nodes: dict[str, list[str]] = {}
        for _text, by_role in combo:
            for role, names in by_role.items():
                nodes.setdefault(role, []).extend(names)
        pairs = costs.summarise(nodes)["prefill-decode"]
        key = (pairs or {}).get("classes")
        if not pairs or not pairs.get("pairs") or key in seen:
            continue
        seen.append(key)
        out.append({"picks": ", ".join(text for text, _ in combo), "prefill-decode": pairs})
    return out[1:] if len(out) > 1 else []  # the first is the predicted placement's


def fmt_classes(summary: Mapping[str, Any] | None) -> str:
    if not summary or not summary.get("pairs"):
        return "-"
    return ", ".join(f"{summary['class_labels'][c]} {TIMES}{n}" for c, n in summary["classes"].items())


def fmt_kv(summary: Mapping[str, Any] | None) -> str:
    kv = (summary or {}).get("kv_ms")
    if not kv:
        return "-"
    return f"{kv['mean']:.1f} / {kv['worst']:.1f}"


def fmt_state(state: Mapping[str, Any] | None) -> str:
    """A live workload's state: ``Running``, ``Available``, ``not Running: ...`` or ``-`` (not read)."""
    if not state:
        return "-"
    return str(state["phase"] if state["ok"] else state["detail"])


def fmt_pod_status(pod: Mapping[str, Any]) -> str:
    """``Running/Ready``, ``Running/not Ready``, ``Pending`` or ``-`` (no such pod)."""
    if not pod.get("phase"):
        return "-"
    if pod["phase"] == "Running":
        return "Running/Ready" if pod.get("ready") else "Running/not Ready"
    return str(pod["phase"])


def pods_per_leaf_of(job: Mapping[str, Any]) -> dict[str, int]:
    """Per-leaf counts of the placed pods (actual when bound, else predicted)."""
    return job["actual"]["pods_per_leaf"] or job["predicted"]["pods_per_leaf"]


__all__ = [
    "PAIR_TITLES",
    "build_context",
    "fmt_classes",
    "fmt_counts",
    "fmt_hypernode",
    "fmt_kv",
    "fmt_pod_status",
    "fmt_predicted_leaves",
    "fmt_state",
    "pods_per_leaf_of",
    "warning_text",
]
