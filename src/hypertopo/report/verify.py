"""Compare the predicted placement (the engine's hints) with the pods Kubernetes actually bound.

:func:`verify` is pure: it takes the engine's output, the Pod objects as the API returns them
(``kubectl get pods -o json`` items or ``kubernetes.core.k8s_info`` ``resources``) and the
inventory model, and returns a plain, JSON-serialisable verdict:

* ``ok`` / ``failures`` — hard rules: every predicted pod exists and is bound to a node of the
  inventory, and (``require_running``) is ``Running`` and ``Ready`` there; every workload given in
  ``workloads`` (the live Volcano Jobs and Deployments, with their status) exists and runs: a
  Volcano Job in phase ``Running``, a Deployment ``Available`` with all its replicas available; a
  job with ``networkTopology.mode: hard`` has all its bound pods under one switch of tier <=
  ``highestTierAllowed``; no pod of an IB-required role sits under an Ethernet leaf (a role is
  IB-required when its pods require the switch-type label ``In [ib]`` by node affinity
  or nodeSelector, or when it is listed in ``ib_required_roles``);
* ``differences`` — what differs from the prediction without breaking a rule (another node of a
  tie, another HyperNode, other per-leaf counts);
* per job ``outcome``: ``"predicted"`` when the actual HyperNode and pods per leaf are the
  predicted ones, ``"tie"`` when they are those of another outcome the engine reported (Volcano
  picks at random among equal-score HyperNodes, ``SelectBestHyperNodeAndScore``, and among
  equal-index pods; the engine replays those choices as ``choices`` / ``task-order`` ties),
  ``"other"`` when neither, ``None`` when nothing is bound;
* per job: each pod's predicted and actual node and leaf, its phase and readiness, the workload's
  ``state`` (``kind``, ``phase``, ``ok``, ``detail``; ``None`` without ``workloads``), the
  HyperNode (the lowest switch holding all bound pods) and its tier, pods per leaf, predicted and
  actual;
* ``network``: the pair classes achieved (prefill-internal, decode-internal, prefill-decode)
  with latency, bandwidth and KV-cache ms, predicted and actual.

A Deployment's pods have generated names: they are found through their ReplicaSet
(``<deployment>-<pod-template-hash>``) and paired with the engine's ``<deployment>-<index>``
placements, those on a predicted node first.

Not checked: per-task ``partitionPolicy`` tier limits (pods do not say which partition they
are in).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypertopo.placement.jobs import LABEL_JOB_NAME, LABEL_TASK_SPEC
from hypertopo.placement.objects import ANN_GROUP_NAME
from hypertopo.report.network import DEFAULT_ROLE_KEYWORDS, Costs, ModelTree, engine_constraint, role_of
from hypertopo.report.run_state import condition, workload_key, workload_state
from hypertopo.topology.labels import LABEL_SWITCH_TYPE, natural_key


@dataclass(frozen=True)
class _Pod:
    name: str
    namespace: str
    job: str
    group: str
    task: str
    node: str | None
    ib_required: bool
    deployment: str
    phase: str
    ready: bool


def verify(
    predicted: Mapping[str, Any],
    actual_pods: Sequence[Mapping[str, Any]],
    model: Mapping[str, Any],
    *,
    ib_required_roles: Iterable[str] = (),
    role_keywords: Mapping[str, str] = DEFAULT_ROLE_KEYWORDS,
    jobs: Sequence[Mapping[str, Any]] = (),
    kv_model: Mapping[str, Any] | None = None,
    workloads: Sequence[Mapping[str, Any]] | None = None,
    require_running: bool = True,
) -> dict[str, Any]:
    """Predicted vs actual placement; see the module docstring for the rules and the output.

    ``jobs`` are the Volcano Job / PodGroup objects that were submitted; their
    ``spec.networkTopology`` gives the hard constraints (without them: the limit the engine
    reports it applied, ``hard`` and ``constraint`` of its job entry). ``role_keywords`` maps a role
    to the word that identifies it in a task or job name. ``workloads`` are the live Volcano Jobs
    and Deployments as the API returns them (``None``: their state is not checked);
    ``require_running`` makes a bound pod that is not ``Running`` and ``Ready`` a failure.
    """
    costs = Costs(model, kv_model=kv_model)
    tree = costs.tree
    pods = [_parse_pod(p) for p in actual_pods]
    ib_roles = set(ib_required_roles)
    failures: list[str] = []
    differences: list[str] = []
    out_jobs: list[dict[str, Any]] = []
    nodes_by_role: dict[str, dict[str, list[str]]] = {"predicted": {}, "actual": {}}
    specs = {(_ns(j), j.get("metadata", {}).get("name")): j for j in jobs}
    live = None if workloads is None else {workload_key(w): w for w in workloads}
    for job in predicted.get("jobs") or []:
        name, namespace = job["name"], job.get("namespace") or "default"
        mine = _pods_of(job, namespace, pods)
        if job.get("kind") == "Deployment":
            job = _pair_replicas(job, mine)
        result = _verify_job(job, mine, tree, ib_roles, role_keywords, failures, differences, require_running)
        constraint = _constraint(job, specs.get((namespace, name)))
        result["constraint"] = constraint
        _check_constraint(result, constraint, failures)
        result["state"] = None
        if live is not None:
            result["state"] = workload_state(
                job.get("kind", "Job"), live.get((job.get("kind", "Job"), namespace, name))
            )
            if not result["state"]["ok"]:
                failures.append(f"{result['kind']} {namespace}/{name}: {result['state']['detail']}")
        out_jobs.append(result)
        for row in result["pods"]:
            if row["role"] is None:
                continue
            for side in ("predicted", "actual"):
                if row[f"{side}_node"] and row[f"{side}_node"] in tree:
                    nodes_by_role[side].setdefault(row["role"], []).append(row[f"{side}_node"])
    network = {side: costs.summarise(nodes_by_role[side]) for side in nodes_by_role}
    return {
        "ok": not failures,
        "failures": failures,
        "differences": differences,
        "jobs": out_jobs,
        "network": network,
        "summary": {
            "pods": sum(len(j["pods"]) for j in out_jobs),
            "bound": sum(j["bound"] for j in out_jobs),
            "running_ready": sum(
                1 for j in out_jobs for p in j["pods"] if p["phase"] == "Running" and p["ready"]
            ),
            "matching_nodes": sum(1 for j in out_jobs for p in j["pods"] if p["match"]),
        },
    }


def pod_list(value: Any) -> list[dict[str, Any]]:
    """Pods from what a caller has: a list, a ``kind: List`` (``items``), a ``k8s_info`` result
    (``resources``), or nothing."""
    return object_list(value, ("Pod",), "pods")


def object_list(value: Any, kinds: Iterable[str], what: str = "objects") -> list[dict[str, Any]]:
    """API objects of ``kinds`` from a list, a ``kind: List`` (``items``), ``k8s_info`` results
    (``resources``), or nothing; ``what`` names the input in errors."""
    kinds = tuple(kinds)
    if value is None:
        return []
    if isinstance(value, Mapping):
        if "resources" in value:
            return list(value["resources"] or [])
        if "items" in value:
            return list(value["items"] or [])
        if value.get("kind") in kinds:
            return [dict(value)]
        raise ValueError(
            f"{what}: expected a list of {'/'.join(kinds)}, a List (items) or a k8s_info result (resources)"
        )
    if isinstance(value, (list, tuple)):
        out: list[dict[str, Any]] = []
        for item in value:
            nested = isinstance(item, Mapping) and item.get("kind") not in kinds
            out += object_list(item, kinds, what) if nested else [item]
        return out
    raise ValueError(f"{what}: expected a list or a mapping, got {type(value).__name__}")


def _ns(obj: Mapping[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("namespace") or "default"


def _parse_pod(pod: Mapping[str, Any]) -> _Pod:
    meta = pod.get("metadata") or {}
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    return _Pod(
        name=str(meta.get("name", "")),
        namespace=_ns(pod),
        job=str(labels.get(LABEL_JOB_NAME, "")),
        group=str(annotations.get(ANN_GROUP_NAME, "")),
        task=str(labels.get(LABEL_TASK_SPEC) or annotations.get(LABEL_TASK_SPEC) or ""),
        node=spec.get("nodeName") or None,
        ib_required=requires_ib(spec),
        deployment=_deployment_of(meta),
        phase=str(status.get("phase") or "Pending"),
        ready=condition(status, "Ready") == "True",
    )


def _deployment_of(meta: Mapping[str, Any]) -> str:
    """The Deployment owning a pod through its ReplicaSet ``<deployment>-<pod-template-hash>``, or ""."""
    suffix = "-" + str((meta.get("labels") or {}).get("pod-template-hash") or "")
    if suffix == "-":
        return ""
    for ref in meta.get("ownerReferences") or []:
        name = str(ref.get("name") or "")
        if ref.get("kind") == "ReplicaSet" and name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return ""


def requires_ib(pod_spec: Mapping[str, Any]) -> bool:
    """True when a pod spec can only run on IB leaves (node affinity or nodeSelector)."""
    if (pod_spec.get("nodeSelector") or {}).get(LABEL_SWITCH_TYPE) == "ib":
        return True
    node_affinity = (pod_spec.get("affinity") or {}).get("nodeAffinity") or {}
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    terms = required.get("nodeSelectorTerms") or []
    return bool(terms) and all(_term_requires_ib(t) for t in terms)


def _term_requires_ib(term: Mapping[str, Any]) -> bool:
    for expr in term.get("matchExpressions") or []:
        values = set(expr.get("values") or [])
        if expr.get("key") == LABEL_SWITCH_TYPE and expr.get("operator") == "In" and values == {"ib"}:
            return True
    return False


def _pods_of(job: Mapping[str, Any], namespace: str, pods: Sequence[_Pod]) -> list[_Pod]:
    name = job["name"]
    predicted = {p["pod"] for p in job.get("placements") or []}
    group = re.compile(rf"^{re.escape(name)}(-[0-9a-f-]{{36}})?$")
    return [
        p
        for p in pods
        if p.namespace == namespace
        and (
            p.job == name
            or p.name in predicted
            or (not p.job and p.group and group.match(p.group))
            or (job.get("kind") == "Deployment" and p.deployment == name)
        )
    ]


def _pair_replicas(job: Mapping[str, Any], pods: Sequence[_Pod]) -> dict[str, Any]:
    """``job`` with its placements renamed after the live replicas they stand for.

    A replica on a predicted node takes that placement; the other replicas take the remaining
    placements in order. Placements left over keep the engine's name (no such pod exists).
    """
    placements = [dict(p) for p in job.get("placements") or []]
    free = list(range(len(placements)))
    names: dict[str, str] = {}
    rest: list[_Pod] = []
    for pod in sorted(pods, key=lambda p: natural_key(p.name)):
        hit = next((i for i in free if pod.node and placements[i].get("node") == pod.node), None)
        if hit is None:
            rest.append(pod)
            continue
        free.remove(hit)
        names[placements[hit]["pod"]] = pod.name
    for pod, i in zip(rest, list(free), strict=False):
        free.remove(i)
        names[placements[i]["pod"]] = pod.name
    for p in placements:
        p["pod"] = names.get(p["pod"], p["pod"])
    ties = [
        {**t, "pod": names.get(t["pod"], t["pod"])} if isinstance(t, Mapping) and t.get("pod") else t
        for t in job.get("ties") or []
    ]
    return {**job, "placements": placements, "ties": ties}


def _verify_job(
    job: Mapping[str, Any],
    pods: Sequence[_Pod],
    tree: ModelTree,
    ib_roles: set[str],
    keywords: Mapping[str, str],
    failures: list[str],
    differences: list[str],
    require_running: bool = True,
) -> dict[str, Any]:
    name = job["name"]
    ties = job.get("ties") or []
    want = {p["pod"]: p for p in job.get("placements") or []}
    have = {p.name: p for p in pods}
    rows = []
    for pod_name in sorted(set(want) | set(have), key=natural_key):
        pred, act = want.get(pod_name), have.get(pod_name)
        task = (act.task if act else "") or (pred or {}).get("task", "")
        role = role_of(task, name, keywords)
        row = {
            "pod": pod_name,
            "task": task,
            "role": role,
            "predicted_node": (pred or {}).get("node"),
            "actual_node": act.node if act else None,
            "predicted_leaf": tree.leaf((pred or {}).get("node") or ""),
            "actual_leaf": tree.leaf(act.node) if act and act.node else None,
            "phase": act.phase if act else None,
            "ready": act.ready if act else None,
        }
        row["match"] = row["predicted_node"] is not None and row["predicted_node"] == row["actual_node"]
        rows.append(row)
        _check_pod(row, act, pred, tree, ib_roles, ties, failures, differences)
        if require_running and act is not None and act.node and act.node in tree:
            _check_running(act, failures)
    bound = [r["actual_node"] for r in rows if r["actual_node"]]
    planned = [r["predicted_node"] for r in rows if r["predicted_node"]]
    actual_hn = tree.lca(bound)
    result = {
        "kind": job.get("kind", "Job"),
        "name": name,
        "namespace": job.get("namespace") or "default",
        "feasible": job.get("feasible"),
        "predicted": {
            "hypernode": job.get("hypernode") or tree.lca(planned),
            "tier": job.get("tier") if job.get("hypernode") else tree.tier(tree.lca(planned)),
            "pods_per_leaf": _per_leaf(r["predicted_leaf"] for r in rows),
        },
        "actual": {
            "hypernode": actual_hn,
            "tier": tree.tier(actual_hn),
            "pods_per_leaf": _per_leaf(r["actual_leaf"] for r in rows),
        },
        "pods": rows,
        "bound": len(bound),
    }
    result["outcome"] = _outcome(job, result)
    _compare_job(result, ties, differences)
    return result


def predicted_outcomes(job: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The feasible placements the engine reported for ``job``: its own, then each outcome of its
    ``choices`` and ``task-order`` ties (``{"hypernode", "leaves"}``)."""
    out = []
    if job.get("feasible", True):
        out.append({"hypernode": job.get("hypernode"), "leaves": job.get("leaves")})
    for tie in job.get("ties") or []:
        if not isinstance(tie, Mapping) or tie.get("level") not in ("choices", "task-order"):
            continue
        out += [
            {"hypernode": o.get("hypernode"), "leaves": o.get("leaves")}
            for o in tie.get("outcomes") or []
            if o.get("feasible")
        ]
    return out


def _outcome(job: Mapping[str, Any], result: Mapping[str, Any]) -> str | None:
    if not result["bound"]:
        return None
    pred, act = result["predicted"], result["actual"]
    if (pred["hypernode"], pred["pods_per_leaf"]) == (act["hypernode"], act["pods_per_leaf"]):
        return "predicted"
    # a node-level tie whose candidates sit under several leaves makes per-leaf counts random
    spans_leaves = any(
        isinstance(t, Mapping) and t.get("level") == "node" and len(t.get("leaves") or []) > 1
        for t in job.get("ties") or []
    )
    for alt in predicted_outcomes(job):
        if alt["hypernode"] == act["hypernode"] and (
            spans_leaves or dict(alt["leaves"] or {}) == act["pods_per_leaf"]
        ):
            return "tie"
    return "other"


def _check_pod(
    row: Mapping[str, Any],
    act: _Pod | None,
    pred: Mapping[str, Any] | None,
    tree: ModelTree,
    ib_roles: set[str],
    ties: Any,
    failures: list[str],
    differences: list[str],
) -> None:
    pod = row["pod"]
    if act is None:
        failures.append(f"pod {pod}: predicted on {row['predicted_node']} but no such pod exists")
        return
    if act.node is None:
        failures.append(f"pod {pod}: not bound to a node (spec.nodeName is empty)")
        return
    if act.node not in tree:
        failures.append(f"pod {pod}: bound to {act.node}, which is not in the inventory")
        return
    leaf = tree.switches[tree.leaf(act.node)]
    if leaf["type"] != "ib" and (act.ib_required or row["role"] in ib_roles):
        why = "its pod requires switch-type ib" if act.ib_required else f"role {row['role']} is IB-required"
        failures.append(f"pod {pod}: on {act.node} under Ethernet leaf {leaf['name']}, but {why}")
    if pred is None:
        differences.append(f"pod {pod}: bound to {act.node} but not in the prediction")
    elif not row["match"]:
        tie = _tie_note(ties, act.node, pod)
        differences.append(f"pod {pod}: predicted {row['predicted_node']}, actual {act.node}{tie}")


def _check_running(pod: _Pod, failures: list[str]) -> None:
    if pod.phase != "Running":
        failures.append(f"pod {pod.name}: phase {pod.phase} on {pod.node}, not Running")
    elif not pod.ready:
        failures.append(f"pod {pod.name}: Running on {pod.node} but not Ready")


def _compare_job(result: Mapping[str, Any], ties: Any, differences: list[str]) -> None:
    pred, act = result["predicted"], result["actual"]
    name = result["name"]
    if result["bound"] and pred["hypernode"] != act["hypernode"]:
        tie = _tie_note(ties, act["hypernode"], None)
        differences.append(
            f"job {name}: predicted HyperNode {pred['hypernode']} (tier {pred['tier']}), "
            f"actual {act['hypernode']} (tier {act['tier']}){tie}"
        )
    if result["bound"] and pred["pods_per_leaf"] != act["pods_per_leaf"]:
        differences.append(
            f"job {name}: pods per leaf predicted {_fmt_counts(pred['pods_per_leaf'])}, "
            f"actual {_fmt_counts(act['pods_per_leaf'])}"
        )
    if result["outcome"] == "tie":
        differences.append(
            f"job {name}: the actual placement is another outcome the prediction reported "
            "(Volcano picks at random among equal-score HyperNodes)"
        )
    if result["feasible"] is False and result["bound"]:
        differences.append(f"job {name}: predicted infeasible, but {result['bound']} pod(s) were bound")


def _constraint(job: Mapping[str, Any], spec_obj: Mapping[str, Any] | None) -> dict[str, Any] | None:
    topo = None
    if spec_obj is not None:
        topo = (spec_obj.get("spec") or {}).get("networkTopology")
    topo = topo or job.get("network_topology") or job.get("networkTopology")
    if not topo:
        return engine_constraint(job)
    limit = topo.get("highestTierAllowed", topo.get("highest_tier_allowed"))
    return {"mode": topo.get("mode", "hard"), "highest_tier_allowed": limit}


def _check_constraint(
    result: Mapping[str, Any], constraint: Mapping[str, Any] | None, failures: list[str]
) -> None:
    if not constraint or constraint["mode"] != "hard" or constraint["highest_tier_allowed"] is None:
        return
    if not result["bound"]:
        return
    limit = int(constraint["highest_tier_allowed"])
    actual = result["actual"]
    if actual["hypernode"] is None or actual["tier"] is None or actual["tier"] > limit:
        where = (
            f"{actual['hypernode']} (tier {actual['tier']})" if actual["hypernode"] else "no common switch"
        )
        failures.append(
            f"job {result['name']}: mode hard, highestTierAllowed {limit}, but its pods are only "
            f"together under {where}"
        )


def _per_leaf(leaves: Iterable[str | None]) -> dict[str, int]:
    counts = Counter(leaf for leaf in leaves if leaf)
    return {leaf: counts[leaf] for leaf in sorted(counts, key=natural_key)}


def _fmt_counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in counts.items()) or "none"


def _tie_note(ties: Any, actual: str | None, pod: str | None) -> str:
    """Whether ``actual`` is in a tie set the engine reported (for ``pod``, or at HyperNode level).

    Ties are ``{"level", "pod", "chosen", "candidates", "count", ...}``; the candidate list may be
    cut short, in which case an unlisted choice may still be one of the tied ones.
    """
    if actual is None or not isinstance(ties, list):
        return ""
    for tie in ties:
        if not isinstance(tie, Mapping):
            if f'"{actual}"' in json.dumps(tie, default=str):
                return " (within the reported tie set)"
            continue
        if tie.get("pod") not in (None, pod):
            continue
        candidates = [str(c) for c in tie.get("candidates") or []]
        if actual in candidates:
            return " (within the reported tie set)"
        count = int(tie.get("count") or len(candidates))
        if pod is not None and tie.get("pod") == pod and count > len(candidates):
            return f" (the reported tie set has {count} candidates, {len(candidates)} listed)"
    return ""
