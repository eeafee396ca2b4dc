"""The smallest single changes that would let a pending job be placed, each re-predicted.

Candidates (:func:`suggestions`), built from the diagnosis (:mod:`.diagnose`) and expressed as
what-if changes (:mod:`.changes`, the one change mechanism, also behind ``plan.yml -e what_if``):

* ``set_tier``: raise the job's ``highestTierAllowed`` (hard mode) to the lowest tier that places it;
* ``relax_affinity``: drop one required node-affinity key of a task (one that excluded nodes);
* ``remove_pods``: free the GPUs a task is short of under a named HyperNode by evicting the
  running pods there, lowest priority first (only pods whose removal makes room for the task);
* ``add_hosts``: add hosts of the task's GPU model under the leaf with the most room;
* ``set_replicas``: reduce a task's replicas to what fits in the best HyperNode.

Every candidate is applied to the inputs (:func:`.changes.apply_changes`) and predicted again
with :func:`~hypertopo.placement.predict` before it is offered: ``predicted_feasible`` is that
prediction's verdict for the job, ``hypernode`` the HyperNode the change names (the one freed,
the leaf that gets the hosts) or else where that prediction places the job. Order: changes
predicted to place the job first, then by size (tiers raised, keys relaxed, pods removed, hosts
added, replicas dropped), then by kind in the order above.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from hypertopo.placement.changes import Change, apply_changes, change
from hypertopo.placement.diagnose import GPU_UNIT, Demand, allowed_tier, demands
from hypertopo.placement.engine import predict
from hypertopo.placement.errors import PlacementInputError
from hypertopo.placement.forked import run_all
from hypertopo.placement.model import Job
from hypertopo.placement.objects import PodObj
from hypertopo.placement.resources import Resources
from hypertopo.placement.session import Session
from hypertopo.placement.tree import VIRTUAL_ROOT
from hypertopo.topology.labels import GPU_RESOURCE, natural_key

KIND_ORDER = ("set_tier", "relax_affinity", "remove_pods", "add_hosts", "set_replicas")
LEADS = {
    "set_tier": "raise the tier",
    "relax_affinity": "relax a required affinity",
    "remove_pods": "free GPUs",
    "add_hosts": "add hosts",
    "set_replicas": "reduce replicas",
}
#: HyperNodes of the allowed tier tried for ``remove_pods`` (those short of the fewest pods; each
#: has its own pods) and for ``add_hosts`` (one: the HyperNodes short of the fewest pods are
#: usually alike)
MAX_HYPERNODES = 2
MAX_HOST_HYPERNODES = 1
#: predictions spent looking for the largest replica count that fits
MAX_REPLICA_TRIES = 4


@dataclass(slots=True)
class Candidate:
    data: dict[str, Any]  # the change as a what-if entry
    size: int
    hypernode: str | None = None
    note: str = ""


def suggestions(
    session: Session,
    job: Job,
    tiers: Sequence[Mapping[str, Any]],
    inputs: Mapping[str, Any],
    workers: int = 1,
) -> list[dict[str, Any]]:
    """The candidates of the module docs, each re-predicted, in the order of the module docs.

    The first candidate of every kind is predicted in one batch (in ``workers`` forked processes
    when more than one: the predictions are independent and each is deterministic, so the
    result does not depend on ``workers``); the next tier up and smaller replica counts are
    only tried when the first did not place the job."""
    ref = f"{job.inp.namespace}/{job.inp.name}"
    check = _checker(inputs, job)

    def offer(cand: Candidate) -> dict[str, Any] | None:
        return _offer(cand, check, inputs)

    roles = demands(job, session.world.network.gpu_type_label)
    top = tiers[-1]["candidates"] if tiers else []
    tier_steps = _tier(session, job, ref)
    replica_steps = _replicas(job, ref, roles, top)
    first = [steps[0] for steps in (tier_steps, *replica_steps) if steps]
    first.extend([*_affinity(job, ref, top), *_remove_pods(session, job, roles, top)])
    first.extend(_add_hosts(session, roles, top))
    done = run_all([partial(offer, cand) for cand in first], workers)
    found = {id(cand): got for cand, got in zip(first, done, strict=True)}
    for steps in (tier_steps, *replica_steps):
        if not steps or (found[id(steps[0])] or {}).get("predicted_feasible"):
            continue
        for cand in steps[1:]:  # one after the other: stop at the first that places the job
            got = offer(cand)
            if got is not None:
                found[id(steps[0])] = got
                if got["predicted_feasible"]:
                    break
    offered = [item for item in found.values() if item is not None]
    offered.sort(key=_order)
    return offered


def _order(item: Mapping[str, Any]) -> tuple[bool, int, int]:
    kind = next(iter(item["change"]))
    return (not item["predicted_feasible"], item["size"], KIND_ORDER.index(kind))


# --------------------------------------------------------------------------- re-prediction


Check = Callable[[dict[str, Any]], "tuple[Change, bool, str | None] | None"]


def _checker(inputs: Mapping[str, Any], job: Job) -> Check:
    """Apply one change to ``inputs`` and predict again: (the change, whether the job is placed);
    None when the inputs refuse the change (e.g. a task the job does not have)."""
    namespace, name = job.inp.namespace, job.inp.name

    def check(data: dict[str, Any]) -> tuple[Change, bool, str | None] | None:
        params = {k: v for k, v in data.items() if k != "kind"}
        try:
            item = change(data["kind"], **params)
            changed = apply_changes(inputs, [item], "suggestion")
            result = predict(**changed, baseline=False, task_order=False, choices=False)
        except PlacementInputError:
            return None
        for got in result["jobs"]:
            if got["namespace"] == namespace and got["name"] == name:
                return item, bool(got["feasible"]), got["hypernode"] if got["feasible"] else None
        return item, False, None

    return check


def _offer(cand: Candidate, check: Check, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
    got = check(cand.data)
    if got is None:
        return None
    item, ok, placed = got
    text = f"{LEADS[item.kind]}: {item.text(inputs)}" + (f" ({cand.note})" if cand.note else "")
    return {
        "text": text,
        "change": item.as_data(),
        "predicted_feasible": ok,
        "hypernode": cand.hypernode or placed,
        "size": cand.size,
    }


# --------------------------------------------------------------------------- the candidates


def _tier(session: Session, job: Job, ref: str) -> list[Candidate]:
    """Raise ``highestTierAllowed`` (hard mode) one tier at a time, up to the virtual root's."""
    topo = job.topology
    if topo is None or not topo.hard or topo.original.mode != "hard":
        return []
    tree = session.sched.tree
    now = allowed_tier(session.sched, job)
    return [Candidate({"kind": "set_tier", "job": ref, "tier": t}, t - now) for t in tree.tiers if t > now]


def _affinity_keys(job: Job) -> dict[str, list[str]]:
    """Task -> the label keys its required node affinity / nodeSelector names."""
    out: dict[str, list[str]] = {}
    for task in job.tasks:
        if task.role in out:
            continue
        spec = task.pod.spec
        keys = list(spec.node_selector)
        for term in spec.required_terms or ():
            keys.extend(req.key for req in term.expressions if req.key not in keys)
        out[task.role] = keys
    return out


def _affinity(job: Job, ref: str, top: Sequence[Mapping[str, Any]]) -> list[Candidate]:
    """Relax each required-affinity key that excluded nodes in a candidate of the allowed tier."""
    excluded: set[str] = set()
    for row in top:
        excluded.update(row["excluded"])
    out = []
    for role, keys in _affinity_keys(job).items():
        for key in keys:
            if any(f"required affinity {key} " in r or f"nodeSelector {key}=" in r for r in excluded):
                out.append(Candidate({"kind": "relax_affinity", "job": ref, "task": role, "key": key}, 1))
    return out


def _room_gain(req: Resources, free: Mapping[str, int], freed: Mapping[str, int]) -> int:
    def room(res: Mapping[str, int], extra: Mapping[str, int]) -> int:
        counts = [(res.get(k, 0) + extra.get(k, 0)) // v for k, v in req.items() if v > 0 and k != "pods"]
        return min(counts) if counts else 0

    return room(free, freed) - room(free, {})


def _remove_pods(
    session: Session, job: Job, roles: Sequence[Demand], top: Sequence[Mapping[str, Any]]
) -> list[Candidate]:
    """Per short candidate HyperNode: the running pods to evict, lowest priority first."""
    sched = session.sched
    own = {(t.pod.namespace, t.pod.name) for t in job.tasks}
    by_node: dict[int, list[PodObj]] = {}
    index = session.world.index.by_name
    for pod in session.world.pods:
        if not pod.node_name or pod.terminating or (pod.namespace, pod.name) in own:
            continue
        if pod.phase in ("Succeeded", "Failed"):
            continue
        i = index.get(pod.node_name)
        if i is not None:
            by_node.setdefault(i, []).append(pod)
    if not by_node:
        return []
    out = []
    rows = [r for r in top if not r["eligible"] and "tasks" in r["short"]]
    for row in rows[:MAX_HYPERNODES]:
        hn = row["hypernode"]
        picked: list[PodObj] = []
        for demand in roles:
            short = row["short"]["tasks"].get(demand.role)
            if not short:
                continue
            spec = demand.task.pod.spec
            allowed = set(sched.pred.candidates(spec, hn))
            pods = sorted(
                (p for i in allowed for p in by_node.get(i, ())),
                key=lambda p: (p.spec.priority, natural_key(p.namespace + "/" + p.name)),
            )
            freed: dict[int, dict[str, int]] = {}
            gained = 0
            for pod in pods:
                if gained >= short["pods"]:
                    break
                i = index[pod.node_name]
                extra = freed.setdefault(i, {})
                before = _room_gain(demand.task.resreq, sched.cluster.future_idle(i), extra)
                trial = dict(extra)
                for key, val in pod.spec.resreq.items():
                    trial[key] = trial.get(key, 0) + val
                after = _room_gain(demand.task.resreq, sched.cluster.future_idle(i), trial)
                if after > before:
                    freed[i] = trial
                    gained += after - before
                    picked.append(pod)
            if gained < short["pods"]:
                picked = []
                break
        if picked:
            names = [f"{p.namespace}/{p.name}" for p in picked]
            gpus = sum(p.spec.resreq.get(GPU_RESOURCE, 0) for p in picked) // GPU_UNIT
            note = f"frees {gpus} GPUs under {hn}; lowest priority {min(p.spec.priority for p in picked)}"
            out.append(Candidate({"kind": "remove_pods", "pods": names}, len(names), hn, note))
    return out


def _gpus_per_host(session: Session, model: str) -> int:
    label = session.world.network.gpu_type_label
    for node in session.world.nodes:
        if node.labels.get(label) == model and node.allocatable.get(GPU_RESOURCE, 0):
            return node.allocatable[GPU_RESOURCE] // GPU_UNIT
    return 0


def _leaves_under(tree: Any, hypernode: str) -> list[str]:
    """The real leaf HyperNodes (no HyperNode children) within ``hypernode``, itself included."""
    out = []
    stack = [hypernode]
    while stack:
        name = stack.pop()
        kids = tree.hypernodes[name].children
        if kids:
            stack.extend(kids)
        elif name != VIRTUAL_ROOT:
            out.append(name)
    return sorted(out, key=natural_key)


def _add_hosts(
    session: Session, roles: Sequence[Demand], top: Sequence[Mapping[str, Any]]
) -> list[Candidate]:
    """Hosts of the short task's GPU model under the leaf (within a short candidate) with most room."""
    tree = session.sched.tree
    out = []
    rows = [r for r in top if not r["eligible"] and "tasks" in r["short"]]
    for row in rows[:MAX_HOST_HYPERNODES]:
        hn = row["hypernode"]
        leaves = _leaves_under(tree, hn)
        if not leaves:
            continue
        for demand in roles:
            short = row["short"]["tasks"].get(demand.role)
            if not short or not short["gpus"] or not demand.model or "|" in demand.model:
                continue
            per_host = _gpus_per_host(session, demand.model)
            if not per_host:
                continue
            spec = demand.task.pod.spec
            leaf = max(
                leaves, key=lambda n: (len(session.sched.pred.candidates(spec, n)), [-ord(c) for c in n])
            )
            hosts = math.ceil(short["gpus"] / per_host)
            out.append(
                Candidate(
                    {"kind": "add_hosts", "leaf": leaf, "gpu_model": demand.model, "count": hosts},
                    hosts,
                    leaf,
                    f"{hosts * per_host} {demand.model} GPUs for {demand.role}, "
                    f"short {short['gpus']} under {hn}",
                )
            )
    return out


def _replicas(
    job: Job, ref: str, roles: Sequence[Demand], top: Sequence[Mapping[str, Any]]
) -> list[list[Candidate]]:
    """Per short task: replica counts to try, from what the best candidate of the allowed tier
    has room for down (``MAX_REPLICA_TRIES`` at most)."""
    if job.inp.kind not in ("Job", "Deployment", "StatefulSet") or not top:
        return []
    out = []
    for demand in roles:
        replicas = demand.replicas
        room = max(row["free"]["tasks"].get(demand.role, {}).get("pods", 0) for row in top)
        short = demand.pods - room
        if short <= 0 or replicas - short < 1:
            continue
        steps = []
        target = replicas - short
        for _ in range(MAX_REPLICA_TRIES):
            data: dict[str, Any] = {"kind": "set_replicas", "job": ref, "replicas": target}
            if job.inp.kind == "Job":
                data["task"] = demand.role
            steps.append(Candidate(data, replicas - target))
            if target <= 1:
                break
            target = max(1, target - max(1, short // 2))
        out.append(steps)
    return out
