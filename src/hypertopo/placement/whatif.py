"""What-if: predict on the inputs as they are and with hypothetical changes applied, side by side.

:func:`what_if` returns ``{"changes": [{"change", "text"}], "jobs": [{"job", "kind", "before",
"after", "changed"}], "before": <prediction>, "after": <prediction>}``; per job and side
:func:`job_summary`: ``feasible``, ``hypernode``, ``tier``, ``outcomes`` (each ``hypernode``,
``tier``, ``pods_per_leaf``, ``probability``), ``pods_per_leaf``, ``placed``, ``pending`` and
``network`` (per pair kind of the job's own pods: ``classes``, ``latency_us``, ``kv_transfer_ms``).
A job only one side has (a change cannot add jobs, so none today) has ``None`` on the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypertopo.placement.changes import Change, apply_changes
from hypertopo.placement.engine import predict

#: The pair kinds of a job's ``network`` (``hypertopo.placement.netcost.role_network``).
PAIR_KINDS = ("prefill_internal", "decode_internal", "prefill_decode")


def job_key(job: Mapping[str, Any]) -> str:
    return f"{job['namespace']}/{job['name']}"


def job_summary(job: Mapping[str, Any]) -> dict[str, Any]:
    """What a person compares between two predictions of one job."""
    network = job.get("network") or {}
    cost: dict[str, Any] = {}
    for kind in PAIR_KINDS:
        pairs = network.get(kind)
        if isinstance(pairs, Mapping) and pairs.get("pairs"):
            cost[kind] = {
                key: pairs[key]
                for key in ("pairs", "classes", "latency_us", "kv_transfer_ms")
                if key in pairs
            }
    return {
        "feasible": bool(job.get("feasible")),
        "hypernode": job.get("hypernode"),
        "tier": job.get("tier"),
        "outcomes": [
            {key: outcome.get(key) for key in ("hypernode", "tier", "pods_per_leaf", "probability")}
            for outcome in job.get("outcomes") or []
        ],
        "pods_per_leaf": dict(job.get("leaves") or {}),
        "placed": len(job.get("placements") or []),
        "pending": len(job.get("pending") or []),
        "network": cost,
        "reasons": list(job.get("reasons") or [])[:3],
    }


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per job (in the order of ``before``, then jobs only ``after`` has): both summaries."""
    old = {job_key(j): j for j in before.get("jobs") or []}
    new = {job_key(j): j for j in after.get("jobs") or []}
    out = []
    for key in list(old) + [k for k in new if k not in old]:
        b = job_summary(old[key]) if key in old else None
        a = job_summary(new[key]) if key in new else None
        kind = (old.get(key) or new.get(key) or {}).get("kind")
        changed = (
            b is None
            or a is None
            or {k: v for k, v in b.items() if k != "reasons"}
            != {k: v for k, v in a.items() if k != "reasons"}
        )
        out.append({"job": key, "kind": kind, "before": b, "after": a, "changed": changed})
    return out


def what_if(
    inputs: Mapping[str, Any],
    changes: Sequence[Change],
    source: str = "changes",
    *,
    before: Mapping[str, Any] | None = None,
    **predict_kwargs: Any,
) -> dict[str, Any]:
    """Predict ``inputs`` (the keyword inputs of :func:`predict`) before and after ``changes``.

    ``predict_kwargs`` go to both predictions (``baseline``, ``task_order``, ...); ``before``, when
    given, is the prediction of ``inputs`` already made (with the same options). Raises
    :class:`~hypertopo.placement.errors.PlacementInputError` for a change the inputs cannot take
    (``<source>: [i].<kind>.<field>: ...``) before predicting anything."""
    texts: list[str] = []
    changed = apply_changes(inputs, changes, source, described=texts)
    if before is None:
        before = predict(**inputs, **predict_kwargs)
    after = predict(**changed, **predict_kwargs)
    return {
        "changes": [{"change": c.as_data(), "text": t} for c, t in zip(changes, texts, strict=True)],
        "jobs": compare(before, after),
        "before": before,
        "after": after,
    }
