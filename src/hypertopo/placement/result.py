"""The JSON-serialisable result of a prediction: per job, and the warnings over all jobs.

Per job (``_job_result``): ``kind``, ``name``, ``namespace``, ``podgroup``, ``feasible``,
``constraint`` (``{"mode", "highest_tier_allowed"}``: the network topology as the scheduler
applies it), ``hard`` (it bounds the tier), ``mode`` (the constraint as display text), ``hypernode`` and
``tier`` (the lowest HyperNode holding the placed pods), ``volcano_hypernode`` (the one Volcano
records), ``placements``, ``pending`` (and ``pipelined``), ``leaves``, ``ties``, ``reasons``,
``warnings`` and ``network`` (the pair classes of its prefill and decode pods). A gang that fits
only into the resources of terminating pods is infeasible with ``pipelined``, ``pipelined_nodes``
and ``waits_for`` (the terminating pods; :func:`_pipelined_job`). With preempt or reclaim in the
configured actions, an infeasible job gets ``eviction_candidates`` (:mod:`.evictions`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypertopo.placement.evictions import configured, eviction_candidates, eviction_warning
from hypertopo.placement.model import ALLOCATED, PENDING, PIPELINED, RELEASING, RUNNING, Job, pod_index
from hypertopo.placement.netcost import (
    NetworkModel,
    PairClassifier,
    ethernet_fraction,
    pair_summary,
    pd_role,
    role_network,
)
from hypertopo.placement.plugins import gang
from hypertopo.placement.reasons import job_reasons
from hypertopo.placement.session import Session
from hypertopo.placement.snapshot import job_priority
from hypertopo.placement.ties import leaf_level_tie
from hypertopo.placement.tree import VIRTUAL_ROOT
from hypertopo.placement.world import NTA_DISABLED
from hypertopo.topology.labels import natural_key


def _job_warnings(session: Session, job: Job) -> list[str]:
    world = session.world
    tree = world.tree
    out = list(job.inp.warnings)
    if job.inp.priority_class and job_priority(world, job.inp) is None:
        out.append(
            f"priorityClassName {job.inp.priority_class!r}: no such PriorityClass in the input and no pod "
            f"of that class: priority {world.default_priority} assumed; Volcano orders jobs by the class's "
            "value (pkg/scheduler/cache/cache.go Snapshot; plugins/priority JobOrderFn)"
        )
    nt = job.inp.topology
    if nt is not None:
        if not world.conf.nta.enabled:
            out.append(f"{NTA_DISABLED}: this job's networkTopology ({nt.describe()}) has no effect")
        if nt.mode == "soft":
            bound = f" (highestTierAllowed {nt.tier})" if nt.tier is not None else ""
            out.append(
                f"networkTopology mode soft{bound} does not bound the tier in Volcano >= 1.14.3: the "
                "scheduler converts "
                f"soft to hard with highestTierAllowed = {tree.max_tier} (the virtual cluster root), so the "
                "gang lands "
                "in the lowest tier that can hold it, possibly the whole cluster; use mode: hard to enforce "
                "a tier (Volcano v1.15.1 pkg/scheduler/framework/session.go, adjustNetworkTopologySpec -> "
                "convertSoftToHardTopology)"
            )
        elif nt.tier is None and not nt.tier_name:
            out.append(
                "networkTopology mode hard without highestTierAllowed/highestTierName is unconstrained: "
                "Volcano's "
                "IsHardTopologyMode is false without a tier, so only the node score prefers nearby nodes "
                "(Volcano v1.15.1 pkg/scheduler/api/job_info.go, IsHardTopologyMode)"
            )
        if nt.tier is None and nt.tier_name and nt.tier_name not in tree.tier_name_map:
            out.append(_unmatched_tier_name("", nt.tier_name, tree.tier_name_map))
    for policy in job.inp.subgroups:
        pnt = policy.topology
        if pnt is None:
            continue
        if pnt.mode == "hard" and pnt.tier is None and not pnt.tier_name:
            out.append(f"partition {policy.name}: networkTopology hard without a tier is unconstrained")
        if pnt.tier is None and pnt.tier_name and pnt.tier_name not in tree.tier_name_map:
            out.append(_unmatched_tier_name(f"partition {policy.name}: ", pnt.tier_name, tree.tier_name_map))
        if pnt.mode == "soft":
            bound = job.topology.tier if job.topology is not None else None
            limit = (
                f"the job's tier {bound}" if bound is not None else f"tier {tree.max_tier} (the virtual root)"
            )
            out.append(
                f"partition {policy.name}: networkTopology mode soft does not keep a partition within a "
                "tier: "
                f"Volcano >= 1.14.3 converts it to hard with {limit} as the limit, so each partition may "
                "spread that far (Volcano v1.15.1 pkg/scheduler/framework/session.go, "
                "convertSoftToHardTopology); use mode: hard with highestTierAllowed for a bound"
            )
    roles_empty: dict[str, int] = {}
    spread: set[str] = set()
    for task in job.tasks:
        if task.best_effort:
            roles_empty[task.role or job.inp.name] = roles_empty.get(task.role or job.inp.name, 0) + 1
        if task.pod.spec.spread_constraints:
            spread.add(task.role or job.inp.name)
    for role, count in roles_empty.items():
        out.append(
            f"{count} pods of {role} have no resource requests: Volcano treats them as BestEffort, the "
            "allocate action "
            "skips them and backfill places them on any node, ignoring the network topology"
        )
    for role in sorted(spread):
        out.append(f"{role}: topologySpreadConstraints are not simulated by the engine")
    return out


def _unmatched_tier_name(prefix: str, name: str, known: Mapping[str, int]) -> str:
    """``highestTierName`` that no HyperNode's ``spec.tierName`` carries: a silent no-op."""
    names = ", ".join(sorted(known, key=natural_key)) or "none"
    return (
        f"{prefix}highestTierName {name!r} matches no HyperNode spec.tierName (known: {names}): Volcano "
        "leaves it untranslated and applies no tier constraint, and only logs a warning (Volcano v1.15.1 "
        "pkg/scheduler/framework/session.go, translateHighestTierNameToAllowed; without a tier "
        "pkg/scheduler/api/job_info.go IsHardTopologyMode is false)"
    )


def _placements(session: Session, job: Job) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    nodes = session.world.nodes
    tree = session.world.tree
    placed: list[dict[str, Any]] = []
    pending: list[str] = []
    pipelined: list[str] = []
    for task in sorted(job.tasks, key=lambda t: (t.pod.role_position, pod_index(t.name) or 0, t.name)):
        if task.status in (ALLOCATED, RUNNING, RELEASING) and task.node is not None:
            placed.append(
                {
                    "pod": task.name,
                    "task": task.role,
                    "node": nodes[task.node].name,
                    "leaf": tree.node_leaf[task.node],
                    "existing": task.status != ALLOCATED,
                }
            )
        elif task.status == PIPELINED:
            pipelined.append(task.name)
        elif task.status == PENDING:
            pending.append(task.name)
    return placed, pending, pipelined


def _constraint(job: Job) -> dict[str, Any] | None:
    """The job's network topology as the scheduler applies it: ``mode`` as written and
    ``highest_tier_allowed``, the tier Volcano searches within (``highestTierName`` translated;
    soft mode: the virtual root's tier; None: no tier, unconstrained)."""
    topo = job.topology
    if topo is None:
        return None
    return {"mode": topo.original.mode, "highest_tier_allowed": topo.tier}


def _mode_text(constraint: Mapping[str, Any] | None) -> str | None:
    """``constraint`` for display."""
    if constraint is None:
        return None
    tier = constraint["highest_tier_allowed"]
    if constraint["mode"] == "soft":
        return f"soft -> hard, highestTierAllowed {tier} (virtual root)"
    if tier is None:
        return "hard without a tier (unconstrained)"
    return f"hard, highestTierAllowed {tier}"


def roles_of(job: Job, model: NetworkModel) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {"prefill": [], "decode": []}
    for task in job.tasks:
        if task.node is None or task.status not in (ALLOCATED, RUNNING, RELEASING):
            continue
        role = pd_role(model.roles, task.role, job.inp.name)
        if role:
            out[role].append(task.node)
    return out


def job_skip(session: Session, job: Job) -> str | None:
    """Why the session did not consider ``job`` at all (not admitted, topology not ready), or None."""
    return session.skip.get(job.key) or session.sched.unadmitted.get(job.key)


def job_feasible(session: Session, job: Job) -> bool:
    """The job's ``feasible``: considered, and its gang (minMember, minTaskMember, subgroups) ready."""
    return job_skip(session, job) is None and gang.job_ready(job)


def _job_result(session: Session, job: Job, classifier: PairClassifier) -> dict[str, Any]:
    tree = session.world.tree
    sched = session.sched
    placed, pending, pipelined = _placements(session, job)
    skip = job_skip(session, job)
    feasible = job_feasible(session, job)
    constraint = _constraint(job)
    result: dict[str, Any] = {
        "kind": job.inp.kind,
        "name": job.inp.name,
        "namespace": job.inp.namespace,
        "podgroup": job.inp.podgroup,
        "feasible": feasible,
        "hard": constraint is not None
        and constraint["mode"] == "hard"
        and constraint["highest_tier_allowed"] is not None,
        "mode": _mode_text(constraint),
        "constraint": constraint,
        "hypernode": None,
        "tier": None,
        "volcano_hypernode": job.allocated_hn,
        "placements": placed if feasible else [p for p in placed if p["existing"]],
        "pending": pending
        if feasible
        else sorted(pending + [p["pod"] for p in placed if not p["existing"]] + pipelined),
        "leaves": {},
        "ties": [],
        "reasons": [],
        "warnings": _job_warnings(session, job),
        "network": None,
    }
    if pipelined and feasible:
        result["pipelined"] = pipelined
    if feasible:
        nodes = [
            t.node for t in job.tasks if t.node is not None and t.status in (ALLOCATED, RUNNING, RELEASING)
        ]
        if nodes:
            hn = tree.lca_of_nodes(nodes)
            result["hypernode"] = hn
            result["tier"] = tree.tier(hn) if hn else None
        leaves: dict[str, int] = {}
        for p in placed:
            leaf = p["leaf"] or VIRTUAL_ROOT
            leaves[leaf] = leaves.get(leaf, 0) + 1
        result["leaves"] = dict(sorted(leaves.items(), key=lambda kv: natural_key(kv[0])))
        ties = list(sched.hn_ties.get(job.key, []))
        ties.extend(
            {k: v for k, v in t.tie.items() if not k.startswith("_")}
            for t in job.tasks
            if t.tie is not None and t.status == ALLOCATED
        )
        result["ties"] = ties
        result["leaf_level_tie"] = leaf_level_tie(result)
        roles = roles_of(job, classifier.model)
        result["network"] = role_network(classifier, roles["prefill"], roles["decode"])
        sampled = sorted(sched.sampling_notes.get(job.key, ()), key=natural_key)
        if sampled:
            result["warnings"].append(
                "Volcano scores only a sample of the feasible nodes (--minimum-feasible-nodes 100, adaptive "
                f"--percentage-nodes-to-find) in {', '.join(sampled[:5])}: the engine emulates the rotating "
                "sample over the input order, Volcano's differs from run to run, so node choices there are "
                "not certain"
            )
    else:
        result["reasons"] = [skip] if skip else job_reasons(sched, job, sched.attempts.get(job.key))
        if pipelined and skip is None and gang.job_pipelined(job):
            _pipelined_job(session, job, result)
        if (skip is None or not job.admitted) and configured(session):
            candidates = eviction_candidates(session, job)
            result["eviction_candidates"] = candidates
            note = eviction_warning(session, job, candidates)
            if note:
                result["warnings"].append(note)
    return result


def _pipelined_job(session: Session, job: Job, result: dict[str, Any]) -> None:
    """A gang that fits only into the resources of terminating pods: Volcano v1.15.1 pipelines its
    tasks on ``FutureIdle`` (pkg/scheduler/actions/allocate/allocate.go allocateResourcesForTask:
    ``stmt.Pipeline``), keeps the statement of a pipelined job uncommitted (allocateResources:
    "do not commit stmt when job is pipelined"), so nothing is bound this session; the pods bind
    in a later session once the terminating pods (Releasing: api/helpers.go getTaskStatus,
    deletionTimestamp set) are gone. ``pipelined`` lists the pods, ``pipelined_nodes`` their nodes,
    ``waits_for`` the terminating pods on those nodes; the first reason says so."""
    nodes = session.world.nodes
    on: dict[str, str] = {}
    for task in job.tasks:
        if task.status == PIPELINED and task.node is not None:
            on[task.name] = nodes[task.node].name
    names = set(on.values())
    waits = sorted(
        f"{p.namespace}/{p.name}"
        for p in session.world.pods
        if p.terminating and p.node_name in names and p.phase not in ("Succeeded", "Failed")
    )
    result["pipelined"] = sorted(on, key=natural_key)
    result["pipelined_nodes"] = dict(sorted(on.items(), key=lambda kv: natural_key(kv[0])))
    result["waits_for"] = waits
    where = ", ".join(sorted(names, key=natural_key))
    shown = ", ".join(waits[:5]) + (f" and {len(waits) - 5} more" if len(waits) > 5 else "")
    generic = f"the gang (minAvailable {job.min_available}) could not be met"
    result["reasons"] = [r for r in result["reasons"] if r != generic]
    result["reasons"].insert(
        0,
        f"pipelined (waits for {len(waits)} terminating pod(s){': ' + shown if shown else ''}): the gang "
        f"fits only into resources still held by terminating pods on {where}; "
        "Volcano pipelines its pods there and binds nothing until those pods are gone (Volcano v1.15.1 "
        "pkg/scheduler/actions/allocate/allocate.go allocateResourcesForTask: Pipeline on FutureIdle; "
        "allocateResources commits only a ready job)",
    )


def _pd_warnings(
    session: Session, results: list[dict[str, Any]], classifier: PairClassifier
) -> tuple[list[str], dict[str, Any] | None]:
    model = classifier.model
    tree = session.world.tree
    warnings: list[str] = []
    by_role: dict[str, list[tuple[Job, list[int]]]] = {"prefill": [], "decode": []}
    all_roles: dict[str, list[int]] = {"prefill": [], "decode": []}
    for job in session.jobs:
        roles = roles_of(job, model)
        declared = {pd_role(model.roles, role, job.inp.name) for role in job.inp.roles} - {None}
        for role in ("prefill", "decode"):
            all_roles[role].extend(roles[role])
            if role in declared:
                by_role[role].append((job, roles[role]))
    network = None
    if all_roles["prefill"] and all_roles["decode"]:
        network = {
            "prefill_decode": pair_summary(classifier, all_roles["prefill"], all_roles["decode"], kv=True),
            "prefill_pods": len(all_roles["prefill"]),
            "decode_pods": len(all_roles["decode"]),
            "kv_model": model.kv.as_dict(),
        }
    separate = [(p, d) for p, _pn in by_role["prefill"] for d, _dn in by_role["decode"] if p is not d]
    for pjob, djob in separate:
        if any(pd_role(model.roles, r, pjob.inp.name) == "decode" for r in pjob.inp.roles):
            continue
        pnodes = [t.node for t in pjob.tasks if t.node is not None and t.status in (ALLOCATED, RUNNING)]
        dnodes = [t.node for t in djob.tasks if t.node is not None and t.status in (ALLOCATED, RUNNING)]
        where = ""
        if pnodes and dnodes:
            ph, dh = tree.lca_of_nodes(pnodes), tree.lca_of_nodes(dnodes)
            both = tree.lca(ph, dh)
            where = (
                f"; here prefill landed under {ph} (tier {tree.tier(ph) if ph else '?'}) and decode under "
                f"{dh} "
                f"(tier {tree.tier(dh) if dh else '?'}), together under {both} (tier "
                f"{tree.tier(both) if both else '?'})"
            )
            if both and tree.tier(both) > max(tree.tier(ph), tree.tier(dh)):
                where += " - the two roles ended up further apart than each job's own placement"
        warnings.append(
            f"PD roles in two separate Jobs ({pjob.inp.name}: prefill, {djob.inp.name}: decode): each Job's "
            "network "
            "topology applies to that Job alone and Volcano does not co-locate the two; put both roles in "
            "one Job "
            f"with two tasks and mode: hard to keep them within a tier{where}"
        )
    decode_nodes = all_roles["decode"]
    bad = sorted(
        {
            session.world.nodes[i].labels.get(model.gpu_type_label, "")
            for i in decode_nodes
            if not classifier.gpudirect(i)
        }
    )
    if not bad:
        for job in session.jobs:
            for task in job.tasks:
                if pd_role(model.roles, task.role, job.inp.name) != "decode":
                    continue
                for term in task.pod.spec.required_terms or ():
                    for req in term.expressions:
                        if req.key == model.gpu_type_label and req.operator == "In":
                            bad.extend(v for v in req.values if v.lower() in model.no_gpudirect)
                value = task.pod.spec.node_selector.get(model.gpu_type_label)
                if value and value.lower() in model.no_gpudirect:
                    bad.append(value)
        bad = sorted(set(bad))
    if bad:
        extra = (
            model.kv.bytes_per_request * 8 / (model.host_copy_gbps * 1e9) * 1000
            + model.host_copy_latency_us / 1000
        )
        warnings.append(
            f"decode on GPUs without GPUDirect RDMA ({', '.join(bad)}): GeForce cards cannot receive the KV "
            "cache by "
            f"RDMA, so it is staged through host memory (modelled as one extra host copy, +{extra:.1f} ms "
            "per "
            f"{model.kv.prompt_tokens}-token request at {model.host_copy_gbps:g} Gbit/s)"
        )
    return warnings, network


def shape(session: Session) -> dict[str, Any]:
    classifier = PairClassifier(session.world.tree, session.world.nodes, session.world.network)
    results = [_job_result(session, job, classifier) for job in session.jobs]
    pd, network = _pd_warnings(session, results, classifier)
    warnings = list(session.world.warnings) + session.warnings + pd
    if classifier.unlabelled:
        names = sorted(classifier.unlabelled, key=natural_key)
        warnings.append(
            f"nodes without a {session.world.network.switch_type_label} label count as Ethernet in the "
            "network cost: "
            f"{', '.join(names[:5])}" + (f" (and {len(names) - 5} more)" if len(names) > 5 else "")
        )
    for result in results:
        if any("PD roles in two separate Jobs" in w and result["name"] in w for w in pd):
            result["warnings"].extend(
                w for w in pd if "PD roles in two separate Jobs" in w and result["name"] in w
            )
        if result["network"] and any(w.startswith("decode on GPUs without GPUDirect") for w in pd):
            result["warnings"].extend(w for w in pd if w.startswith("decode on GPUs without GPUDirect"))
    return {"jobs": results, "warnings": _dedupe(warnings), "network": network}


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def ethernet_share(session: Session) -> float:
    classifier = PairClassifier(session.world.tree, session.world.nodes, session.world.network)
    placed = [
        t.node
        for job in session.jobs
        for t in job.tasks
        if t.node is not None and t.status in (ALLOCATED, RUNNING)
    ]
    return round(ethernet_fraction(classifier, placed), 4)
