"""Whether a pod or a workload runs, read from the status the API reports.

* a pod runs when it is in phase ``Running`` and its ``Ready`` condition is ``True``;
* a Volcano Job when it is in phase ``Running`` (``status.state.phase``);
* a Deployment when its ``Available`` condition is ``True`` and ``status.availableReplicas``
  reaches ``spec.replicas`` (the condition alone allows ``maxUnavailable`` replicas missing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: kinds of the workloads whose state is read here
WORKLOAD_KINDS = ("Job", "Deployment")


def condition(status: Mapping[str, Any], kind: str) -> str | None:
    """The ``status`` of the condition of type ``kind`` (``"True"``, ``"False"``, ...), or None."""
    for cond in status.get("conditions") or []:
        if isinstance(cond, Mapping) and cond.get("type") == kind:
            return str(cond.get("status"))
    return None


def pod_runs(pod: Mapping[str, Any]) -> bool:
    """True when ``pod`` is ``Running`` and ``Ready``."""
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and condition(status, "Ready") == "True"


def workload_state(kind: str, obj: Mapping[str, Any] | None) -> dict[str, Any]:
    """Whether a live workload runs: ``{"kind", "phase", "ok", "detail"}`` (``obj`` None: missing)."""
    if obj is None:
        return {"kind": kind, "phase": "missing", "ok": False, "detail": "not found in the cluster"}
    status = obj.get("status") or {}
    if kind == "Deployment":
        want = int((obj.get("spec") or {}).get("replicas", 1))
        have = int(status.get("availableReplicas") or 0)
        available = condition(status, "Available")
        ok = available == "True" and have >= want
        detail = f"{have}/{want} replicas available, condition Available={available or 'unset'}"
        phase = "Available" if ok else "Unavailable"
        return {
            "kind": kind,
            "phase": phase,
            "ok": ok,
            "detail": detail if ok else f"not Available: {detail}",
        }
    phase = str((status.get("state") or {}).get("phase") or "Pending")
    running = int(status.get("running") or 0)
    ok = phase == "Running"
    detail = f"phase {phase}, {running} pod(s) running"
    return {"kind": kind, "phase": phase, "ok": ok, "detail": detail if ok else f"not Running: {detail}"}


def workloads_state(live: Any, desired: Any) -> dict[str, Any]:
    """The state of each ``desired`` workload (rendered objects) among the ``live`` ones.

    Returns ``states`` ("Kind ns/name" -> :func:`workload_state`), ``waiting`` (the details of
    those that do not run yet) and ``done``.
    """
    have = {workload_key(o): o for o in live if isinstance(o, Mapping)}
    states: dict[str, dict[str, Any]] = {}
    for obj in desired:
        kind, namespace, name = workload_key(obj)
        if kind in WORKLOAD_KINDS:
            states[f"{kind} {namespace}/{name}"] = workload_state(kind, have.get((kind, namespace, name)))
    waiting = [f"{k}: {s['detail']}" for k, s in states.items() if not s["ok"]]
    return {"states": states, "waiting": waiting, "done": not waiting}


def workload_key(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    """(kind, namespace, name) of an object; the namespace defaults to ``default``."""
    meta = obj.get("metadata") or {}
    return (str(obj.get("kind", "")), str(meta.get("namespace") or "default"), str(meta.get("name", "")))
