"""Compare a prediction with what the real vc-scheduler did (for the randomized agreement runs).

``compare(prediction, pods, nodes, hypernodes)`` takes the :func:`predict` result
and the Pods read back from the cluster after scheduling, and checks per job the
issue's three criteria:

* feasibility: predicted feasible == all of the gang's pods bound; the number of pods bound
  equal to the predicted one or to that of another outcome the prediction reports;
* HyperNode: the lowest-tier HyperNode holding the bound pods equals the predicted
  one, or is the job's HyperNode in another outcome the prediction reports (``task-order``
  and ``choices`` ties; for a prediction made without following the choices of
  HyperNode-level ties, any candidate of such a tie);
* leaves: per-leaf pod counts are equal, unless a tie that spans leaves was reported.

A job predicted infeasible whose ``task-order`` or ``choices`` tie lists a feasible outcome may
bind: its pods are then checked against the feasible outcomes (count, HyperNode, leaves).

A pod whose ``spec.nodeName`` names a node that is not in ``nodes`` (the Nodes the prediction
read: a Node deleted under its bound pods, the pods not yet garbage-collected) counts as bound on
both sides: the engine keeps it Running in its job where it is, on no node it places on, and
leaves it out of ``placements`` (as Volcano v1.15.1's cache keeps it under a placeholder NodeInfo
the snapshot drops: pkg/scheduler/cache/event_handlers.go addTask, cache.go Snapshot), while the
cluster still shows it bound there. Such a pod cannot have been bound after the prediction (no
scheduler binds to a node without a Node object), so it is one the prediction saw as held.

Pods are matched to jobs by name (``<job>-<task>-<index>`` for Volcano Jobs) or by the
``scheduling.k8s.io/group-name`` annotation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypertopo.placement.index import NodeIndex
from hypertopo.placement.inputs import as_objects
from hypertopo.placement.objects import ANN_GROUP_NAME, parse_hypernode, parse_node
from hypertopo.placement.ties import leaf_level_tie
from hypertopo.placement.tree import VIRTUAL_ROOT, Tree


def _observed(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> dict[str, str | None]:
    names = (
        {p["pod"] for p in job["placements"]}
        | set(job.get("pending") or [])
        | set(job.get("pipelined") or [])
    )
    out: dict[str, str | None] = {}
    for pod in pods:
        meta = pod.get("metadata") or {}
        if (meta.get("namespace") or "default") != job["namespace"]:
            continue
        name = meta.get("name")
        group = (meta.get("annotations") or {}).get(ANN_GROUP_NAME)
        if name in names or (group and group == job.get("podgroup")):
            node = (pod.get("spec") or {}).get("nodeName") or None
            out[str(name)] = node
    return out


def compare(prediction: Mapping[str, Any], pods: Any, nodes: Any, hypernodes: Any) -> list[dict[str, Any]]:
    """One verdict per predicted job: ``{"job", "agree", "checks": {...}, "details": [...]}``."""
    node_objs = [parse_node(obj, i) for i, obj in enumerate(as_objects(nodes, "nodes"))]
    index = NodeIndex(node_objs)
    tree = Tree(
        [parse_hypernode(obj, i) for i, obj in enumerate(as_objects(hypernodes, "hypernodes"))],
        node_objs,
        index,
    )
    pod_objs = as_objects(pods, "pods")
    verdicts = []
    for job in prediction["jobs"]:
        observed = _observed(job, pod_objs)
        bound = {pod: node for pod, node in observed.items() if node}
        # bound to a node the prediction did not have (deleted under them): held on both sides,
        # outside ``placements`` on the predicted side (see the module docstring)
        held = sum(1 for node in bound.values() if node not in index.by_name)
        actually_feasible = bool(bound)  # gang scheduling binds the whole gang or nothing
        details: list[str] = []
        checks: dict[str, bool | None] = {"feasibility": actually_feasible == job["feasible"]}
        # a job predicted infeasible whose ``task-order`` or ``choices`` tie lists a feasible
        # outcome (``feasibility_differs``: Volcano orders equal-index pods of different tasks by
        # creation time and UID, at random, and another order fits the gang): either may happen,
        # and the pods bound are checked against the feasible outcomes (run a015 of the 60-run)
        alternatives = [
            o
            for t in job["ties"]
            if t.get("level") in ("task-order", "choices")
            for o in t.get("outcomes") or ()
            if o.get("feasible")
        ]
        if actually_feasible and not job["feasible"] and alternatives:
            checks["feasibility"] = True
            checks["pods"] = len(bound) in {sum(o["leaves"].values()) + held for o in alternatives}
            if not checks["pods"]:
                details.append(f"pods bound: {len(bound)}, in no feasible outcome of a tie")
            indices = [index.by_name[n] for n in bound.values() if n in index.by_name]
            if indices:
                actual_hn = tree.lca_of_nodes(indices)
                checks["hypernode"] = actual_hn in {o.get("hypernode") for o in alternatives}
                if not checks["hypernode"]:
                    details.append(f"HyperNode: {actual_hn}, in no feasible outcome of a tie")
                got: dict[str, int] = {}
                for i in indices:
                    leaf = tree.node_leaf[i] or VIRTUAL_ROOT
                    got[leaf] = got.get(leaf, 0) + 1
                checks["leaves"] = any(got == o["leaves"] for o in alternatives)
                if not checks["leaves"]:
                    details.append(f"leaves: {got}, in no feasible outcome of a tie")
        elif not checks["feasibility"]:
            details.append(f"predicted feasible={job['feasible']}, {len(bound)} pods bound")
        elif job["feasible"]:
            # another random outcome the prediction lists may bind fewer pods (a gang below replicas)
            listed = {
                sum(o["leaves"].values())
                for t in job["ties"]
                if t.get("level") in ("task-order", "choices")
                for o in t.get("outcomes") or ()
                if o.get("feasible")
            }
            listed = {n + held for n in listed}
            predicted = len(job["placements"]) + held
            checks["pods"] = len(bound) == predicted or len(bound) in listed
            if not checks["pods"]:
                details.append(f"pods bound: predicted {predicted}, actual {len(bound)}")
        indices = [index.by_name[n] for n in bound.values() if n in index.by_name]
        if job["feasible"] and indices:
            actual_hn = tree.lca_of_nodes(indices)
            followed = job.get("choice_replays") or {}
            explored = bool(followed.get("complete") or followed.get("replays"))
            tied = {
                c
                for t in job["ties"]
                if t.get("level") in ("task-order", "choices")
                or (t.get("level") == "hypernode" and not explored)
                for c in t["candidates"]
            }
            checks["hypernode"] = actual_hn == job["hypernode"] or actual_hn in tied
            if not checks["hypernode"]:
                details.append(f"HyperNode: predicted {job['hypernode']}, actual {actual_hn}")
            actual_leaves: dict[str, int] = {}
            for i in indices:
                leaf = tree.node_leaf[i] or VIRTUAL_ROOT
                actual_leaves[leaf] = actual_leaves.get(leaf, 0) + 1
            if leaf_level_tie(job):
                checks["leaves"] = None  # not comparable: a tie spans leaves
            else:
                checks["leaves"] = actual_leaves == job["leaves"]
                if not checks["leaves"]:
                    details.append(f"leaves: predicted {job['leaves']}, actual {actual_leaves}")
        verdicts.append(
            {
                "job": f"{job['namespace']}/{job['name']}",
                "agree": all(v is not False for v in checks.values()),
                "checks": checks,
                "details": details,
            }
        )
    return verdicts
