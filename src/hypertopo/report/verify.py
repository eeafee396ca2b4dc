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
* ``differences`` — what differs from the prediction where it was deterministic, without
  breaking a rule: a HyperNode or per-leaf counts that are no predicted outcome, a pod outside its
  predicted group of interchangeable nodes;
* per job ``outcome``: ``"predicted"`` when the actual HyperNode and pods per leaf are those of
  one of the job's predicted ``outcomes`` (Volcano picks at random among equal-score HyperNodes
  and nodes, and orders equal-index pods at random; the engine lists every outcome this leads
  to), with ``outcome_index`` (1-based) and ``outcome_count``: "as predicted: outcome 2 of 2";
  ``"other"`` when none, ``None`` when nothing is bound; a pod matches when its node is in its
  group of interchangeable nodes (``candidates``) in that outcome;
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

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypertopo.placement.jobs import LABEL_JOB_NAME, LABEL_TASK_SPEC
from hypertopo.placement.objects import ANN_GROUP_NAME
from hypertopo.placement.ties import outcomes_text
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

    A replica on a predicted node takes that placement, else one whose group of interchangeable
    nodes holds its node; the other replicas take the remaining placements in order. Placements
    left over keep the engine's name (no such pod exists).
    """
    placements = [dict(p) for p in job.get("placements") or []]
    free = list(range(len(placements)))
    names: dict[str, str] = {}
    rest: list[_Pod] = []
    for pod in sorted(pods, key=lambda p: natural_key(p.name)):
        hit = next((i for i in free if pod.node and placements[i].get("node") == pod.node), None)
        if hit is None:  # else on a node of its group of interchangeable nodes
            hit = next(
                (i for i in free if pod.node and pod.node in (placements[i].get("candidates") or ())), None
            )
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
    outcomes = [
        {**o, "candidates": {names.get(k, k): v for k, v in (o.get("candidates") or {}).items()}}
        for o in job.get("outcomes") or []
    ]
    return {**job, "placements": placements, "ties": ties, "outcomes": outcomes}


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
    want = {p["pod"]: p for p in job.get("placements") or []}
    for pod_name, node_name in (job.get("pipelined_nodes") or {}).items():  # bound there once freed
        want.setdefault(pod_name, {"pod": pod_name, "node": node_name})
    have = {p.name: p for p in pods}
    names = sorted(set(want) | set(have), key=natural_key)
    bound = [str(have[n].node) for n in names if n in have and have[n].node]
    planned = [want[n]["node"] for n in names if n in want and want[n].get("node")]
    actual_hn = tree.lca(bound)
    actual_leaves = _per_leaf(tree.leaf(n) if n in tree else None for n in bound)
    outcomes = predicted_outcomes(job)
    if outcomes and not outcomes[0]["leaves"]:  # a prediction without per-leaf counts
        outcomes[0]["leaves"] = _per_leaf(tree.leaf(n) if n in tree else None for n in planned)
    index = _matching_outcome(job, outcomes, actual_hn, actual_leaves) if bound else None
    groups: Mapping[str, list[str]] = {}
    if outcomes:
        groups = outcomes[index if index is not None else 0]["candidates"]
    rows = []
    for pod_name in names:
        pred, act = want.get(pod_name), have.get(pod_name)
        task = (act.task if act else "") or (pred or {}).get("task", "")
        role = role_of(task, name, keywords)
        group = groups.get(pod_name) or ([pred["node"]] if pred and pred.get("node") else [])
        row = {
            "pod": pod_name,
            "task": task,
            "role": role,
            "predicted_node": (pred or {}).get("node"),
            "candidates": list(group),
            "actual_node": act.node if act else None,
            "predicted_leaf": tree.leaf((pred or {}).get("node") or ""),
            "actual_leaf": tree.leaf(act.node) if act and act.node else None,
            "phase": act.phase if act else None,
            "ready": act.ready if act else None,
        }
        row["match"] = row["actual_node"] is not None and _in_group(row["actual_node"], pred, group, tree)
        rows.append(row)
        _check_pod(row, act, pred, tree, ib_roles, failures, differences)
        if require_running and act is not None and act.node and act.node in tree:
            _check_running(act, failures)
    result = {
        "kind": job.get("kind", "Job"),
        "name": name,
        "namespace": job.get("namespace") or "default",
        "feasible": job.get("feasible"),
        # predicted pipelined: the gang waits for these terminating pods to go, then binds
        "waits_for": job.get("waits_for"),
        "predicted": {
            "hypernode": job.get("hypernode") or tree.lca(planned),
            "tier": job.get("tier") if job.get("hypernode") else tree.tier(tree.lca(planned)),
            "pods_per_leaf": _per_leaf(r["predicted_leaf"] for r in rows),
            "outcomes": outcomes_text(job),
            "outcome_leaves": [dict(o["leaves"] or {}) for o in outcomes],
        },
        "actual": {
            "hypernode": actual_hn,
            "tier": tree.tier(actual_hn),
            "pods_per_leaf": actual_leaves,
        },
        "pods": rows,
        "bound": len(bound),
        "outcome": None if not bound else ("predicted" if index is not None else "other"),
        "outcome_index": None if index is None else index + 1,
        "outcome_count": len(outcomes),
    }
    _compare_job(result, differences)
    return result


def predicted_outcomes(job: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The feasible placements the engine predicted for ``job``, its own first:
    ``{"hypernode", "tier", "leaves", "probability", "candidates": {pod: [node, ...]}}``, from its
    ``outcomes`` (or, for a prediction without them, its own placement and the outcomes of its
    ``choices`` and ``task-order`` ties)."""
    if job.get("outcomes"):
        return [
            {
                "hypernode": o.get("hypernode"),
                "tier": o.get("tier"),
                "leaves": dict(o.get("pods_per_leaf") or {}),
                "probability": o.get("probability"),
                "candidates": dict(o.get("candidates") or {}),
            }
            for o in job["outcomes"]
            if o.get("feasible", True)
        ]
    own = {
        p["pod"]: list(p.get("candidates") or [p["node"]])
        for p in job.get("placements") or []
        if p.get("node")
    }
    out: list[dict[str, Any]] = []
    if job.get("feasible", True):
        out.append(
            {
                "hypernode": job.get("hypernode"),
                "tier": job.get("tier"),
                "leaves": job.get("leaves"),
                "probability": None,
                "candidates": own,
            }
        )
    for tie in job.get("ties") or []:
        if not isinstance(tie, Mapping) or tie.get("level") not in ("choices", "task-order"):
            continue
        out += [
            {
                "hypernode": o.get("hypernode"),
                "tier": o.get("tier"),
                "leaves": o.get("leaves"),
                "probability": None,
                "candidates": {},
            }
            for o in tie.get("outcomes") or []
            if o.get("feasible")
        ]
    return out


def _matching_outcome(
    job: Mapping[str, Any],
    outcomes: Sequence[Mapping[str, Any]],
    hypernode: str | None,
    leaves: Mapping[str, int],
) -> int | None:
    """The index of the predicted outcome with the actual HyperNode and pods per leaf (any per-leaf
    counts when the engine reported nodes tied for a pod under several leaves), or None."""
    spans_leaves = any(
        isinstance(t, Mapping) and t.get("level") == "node" and len(t.get("leaves") or []) > 1
        for t in job.get("ties") or []
    )
    for k, alt in enumerate(outcomes):
        if alt["hypernode"] == hypernode and (spans_leaves or dict(alt["leaves"] or {}) == dict(leaves)):
            return k
    return None


def _in_group(node: str, pred: Mapping[str, Any] | None, group: Sequence[str], tree: ModelTree) -> bool:
    """Whether ``node`` is in a pod's group of interchangeable nodes (of a group the engine listed
    only in part: whether ``node`` is under one of the group's leaves)."""
    if node in group:
        return True
    count = int((pred or {}).get("candidates_count") or 0)
    return (
        count > len(group)
        and node in tree
        and tree.leaf(node) in ((pred or {}).get("candidate_leaves") or [])
    )


def _check_pod(
    row: Mapping[str, Any],
    act: _Pod | None,
    pred: Mapping[str, Any] | None,
    tree: ModelTree,
    ib_roles: set[str],
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
        group = row["candidates"]
        where = (
            f"predicted {row['predicted_node']}"
            if len(group) <= 1
            else f"predicted one of {_fmt_group(group)}"
        )
        differences.append(f"pod {pod}: {where}, actual {act.node}")


def _fmt_group(group: Sequence[str]) -> str:
    shown = ", ".join(group[:6])
    return shown + (f" (and {len(group) - 6} more)" if len(group) > 6 else "")


def _check_running(pod: _Pod, failures: list[str]) -> None:
    if pod.phase != "Running":
        failures.append(f"pod {pod.name}: phase {pod.phase} on {pod.node}, not Running")
    elif not pod.ready:
        failures.append(f"pod {pod.name}: Running on {pod.node} but not Ready")


def _compare_job(result: Mapping[str, Any], differences: list[str]) -> None:
    """Job-level differences, only where the actual placement is none of the predicted outcomes."""
    pred, act = result["predicted"], result["actual"]
    name = result["name"]
    if result["outcome"] == "other":
        if pred["hypernode"] != act["hypernode"]:
            one = f"{pred['hypernode']} (tier {pred['tier']})"
            said = one if result["outcome_count"] <= 1 else pred["outcomes"]
            differences.append(
                f"job {name}: predicted HyperNode {said}, actual {act['hypernode']} (tier {act['tier']})"
            )
        if pred["pods_per_leaf"] != act["pods_per_leaf"]:
            differences.append(
                f"job {name}: pods per leaf predicted {_fmt_counts(pred['pods_per_leaf'])}, "
                f"actual {_fmt_counts(act['pods_per_leaf'])}"
            )
    # a job predicted pipelined binds once the terminating pods it waits for are gone
    if result["feasible"] is False and result["bound"] and result.get("waits_for") is None:
        differences.append(f"job {name}: predicted infeasible, but {result['bound']} pod(s) were bound")


def outcome_words(job: Mapping[str, Any]) -> str:
    """A verified job's outcome for people: ``as predicted`` (one outcome), ``as predicted:
    outcome 2 of 2``, ``NO`` (none of the predicted outcomes), ``-`` (nothing bound)."""
    if job.get("outcome") == "predicted":
        count = int(job.get("outcome_count") or 1)
        return (
            "as predicted" if count <= 1 else f"as predicted: outcome {job.get('outcome_index')} of {count}"
        )
    return "NO" if job.get("outcome") == "other" else "-"


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
