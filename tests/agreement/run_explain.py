"""Explain and headroom against the real vc-scheduler (issue 13's proofs).

Usage (from the repository root)::

    .venv/bin/python -m tests.agreement.run_explain --report docs/explain-agreement-report.md

Scenarios come from :mod:`tests.agreement.generator` (the same seeded worlds as the placement
agreement runs). A private local control plane is started (:func:`hypertopo.cluster.local_cluster`).

**Explain** (scenarios whose jobs leave exactly one Pending, chosen by predicting them offline):
the scenario's objects are created and its jobs created one after the other, each left to settle
(every pod bound, or nothing changed for a while). Then, with the Pending job really Pending in
vc-scheduler, ``topology-hints explain --from-cluster --json`` runs as a user runs it (a
subprocess with the cluster's kubeconfig). Where it offers a change predicted to make the job fit,
its **first** suggestion is applied to the cluster: the change is applied to the very objects
explain read (:func:`hypertopo.placement.changes.apply_changes`, the one definition of every
change) and the difference is written (new Nodes and Pods created, HyperNodes and Nodes patched,
Pods deleted, a changed Job deleted and created again); then vc-scheduler's placement is compared
with the prediction on the changed objects (:func:`tests.agreement.compare.compare`). Where
explain says no single change suffices, **every** change it lists is applied, each on a fresh
copy of the scenario, and the job must stay Pending.

**Headroom** (scenarios whose last job places): :func:`hypertopo.placement.headroom.headroom`
gives a task's largest replica count that places in every random task order; the scenario runs
with that count (every pod of the job must be bound) and with one more step (``max + step``,
``step`` = the partition size of a partitioned task, else 1): the job must not be whole, unless
headroom says that count places in some random task orders, when vc-scheduler's outcome must be
one the prediction lists. Every job of those runs is also compared
with the prediction, as in the placement agreement runs.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hypertopo.cluster import LocalCluster, NodeSpec, local_cluster
from hypertopo.cluster.live import find_workload, read_world
from hypertopo.cluster.local import HYPERNODES, JOBS, PODGROUPS
from hypertopo.placement import predict
from hypertopo.placement.changes import apply_changes, change, parse_changes
from hypertopo.placement.explain import explain
from hypertopo.placement.headroom import headroom
from hypertopo.placement.inputs import coerce_scheduler_conf

from .compare import compare
from .generator import DEFAULT_SEED, Scenario, _container, _hypernode, _node, scenario
from .run_agreement import Log, Runner, _stderr

#: the namespace the offline selection predicts in (the runner's are per run)
OFFLINE_NS = "agr"
#: headroom runs no job larger than this (pods are real objects; time grows with them)
MAX_HEADROOM_PODS = 48
_META_KEPT = ("name", "namespace", "labels", "annotations")


# --------------------------------------------------------------------------- offline selection


def _in_namespace(objs: Sequence[Mapping[str, Any]], ns: str) -> list[dict[str, Any]]:
    return [{**copy.deepcopy(dict(o)), "metadata": {**o["metadata"], "namespace": ns}} for o in objs]


def offline_inputs(sc: Scenario, jobs: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The scenario as the predictor's keyword inputs (in :data:`OFFLINE_NS`)."""
    return {
        "jobs": _in_namespace(sc.jobs if jobs is None else jobs, OFFLINE_NS),
        "nodes": sc.nodes,
        "hypernodes": sc.hypernodes,
        "pods": _in_namespace(sc.preoccupied, OFFLINE_NS),
    }


def pending_target(sc: Scenario) -> str | None:
    """The name of the scenario's one job predicted Pending (None: none, or several)."""
    result = predict(**offline_inputs(sc), baseline=False)
    pending = [j["name"] for j in result["jobs"] if not j["feasible"]]
    return pending[0] if len(pending) == 1 else None


@dataclass(frozen=True)
class HeadroomCase:
    sc: Scenario
    job: str
    task: str
    max_replicas: int
    step: int
    some_orders: int | None  # up to this count the job places in some random task orders only


def headroom_case(sc: Scenario) -> HeadroomCase | None:
    """The last job's first task whose maximum is confirmed (max places, max + step does not),
    at least 1, with both runs small enough; None when the scenario has none."""
    last = sc.jobs[-1]["metadata"]["name"]
    inputs = offline_inputs(sc)
    if any(not j["feasible"] for j in predict(**inputs, baseline=False)["jobs"]):
        return None
    result = headroom(inputs, job=f"{OFFLINE_NS}/{last}", up_to=MAX_HEADROOM_PODS)
    others = sum(int(t["replicas"]) for t in sc.jobs[-1]["spec"]["tasks"])
    for row in result["jobs"]:
        top = int(row["max_replicas"]) + int(row["step"])
        if row["confirmed"] and not row["displaces"] and row["max_replicas"] >= 1:
            mine = next(int(t["replicas"]) for t in sc.jobs[-1]["spec"]["tasks"] if t["name"] == row["task"])
            if others - mine + top <= MAX_HEADROOM_PODS:
                return HeadroomCase(
                    sc,
                    last,
                    str(row["task"]),
                    int(row["max_replicas"]),
                    int(row["step"]),
                    row["places_in_some_orders_up_to"],
                )
    return None


def resized(case: HeadroomCase, replicas: int) -> Scenario:
    """The scenario with the case's task at ``replicas`` (the ``set_replicas`` change)."""
    ref = f"{OFFLINE_NS}/{case.job}"
    jobs = apply_changes(
        offline_inputs(case.sc),
        [change("set_replicas", job=ref, task=case.task, replicas=replicas)],
    )["jobs"]
    for job in jobs:
        job["metadata"].pop("namespace", None)
    return replace(case.sc, jobs=jobs)


# --------------------------------------------------------------------------- outcomes


@dataclass
class ChangeRun:
    """One change explain offered, applied to the cluster."""

    text: str
    change: dict[str, Any]
    predicted_feasible: bool
    predicted_hypernode: str | None
    bound: int
    replicas: int
    verdict: dict[str, Any] | None = None  # compare() on the changed world (first suggestions)
    error: str | None = None

    @property
    def agree(self) -> bool:
        if self.error:
            return False
        if self.verdict is not None:
            return bool(self.verdict["agree"])
        return (self.bound == self.replicas) == self.predicted_feasible


@dataclass
class ExplainRun:
    sid: str
    job: str
    summary: str
    pending_in_cluster: bool = False
    status: str = ""
    no_single_change: bool = False
    suggestions: int = 0
    short: str = ""
    changes: list[ChangeRun] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def agree(self) -> bool:
        return (
            self.error is None
            and self.pending_in_cluster
            and self.status == "infeasible"
            and all(c.agree for c in self.changes)
        )


@dataclass
class HeadroomRun:
    sid: str
    job: str
    task: str
    max_replicas: int
    step: int
    some_orders: int | None = None
    bound_at_max: tuple[int, int] = (0, 0)
    bound_above: tuple[int, int] = (0, 0)
    jobs_agree: bool = False
    error: str | None = None
    seconds: float = 0.0

    @property
    def agree(self) -> bool:
        at, above = self.bound_at_max, self.bound_above
        # above the maximum, a count that places in some random task orders may place: vc-scheduler's
        # outcome must then be one the prediction lists (``jobs_agree``)
        random_above = self.some_orders is not None and self.some_orders > self.max_replicas
        return (
            self.error is None
            and self.jobs_agree
            and at[0] == at[1]
            and (random_above or above[0] < above[1])
        )


# --------------------------------------------------------------------------- the cluster side


class ExplainRunner:
    """Explain and headroom runs in one cluster; scenarios created with :class:`Runner`'s steps."""

    def __init__(self, cluster: LocalCluster, *, log: Log = _stderr) -> None:
        self.cluster = cluster
        self.runner = Runner(cluster, log=lambda _m: None)
        self.log = log
        self._n = 0

    # ---- explain

    def explain(self, sc: Scenario, target: str) -> ExplainRun:
        t0 = time.monotonic()
        out = ExplainRun(sc.sid, target, sc.summary())
        try:
            ns, report = self._pending_and_explained(sc, target, out)
            self._cleanup(sc, ns)
            if report is None:
                return out
            offered = report["suggestions"]
            if not out.no_single_change:
                first = offered[0]
                if not first["predicted_feasible"]:  # never: they are ordered feasible first
                    raise AssertionError(f"first suggestion not predicted feasible: {first['text']}")
                out.changes.append(self._apply(sc, target, first, compare_first=True))
            else:
                for item in offered:
                    out.changes.append(self._apply(sc, target, item, compare_first=False))
        except Exception as exc:  # one scenario's failure is reported, the run goes on
            out.error = f"{type(exc).__name__}: {exc}"
            self.log(traceback.format_exc(limit=-4))
        out.seconds = time.monotonic() - t0
        self.log(f"  {sc.sid}/{target}: {'agree' if out.agree else 'MISMATCH'} ({out.seconds:.0f} s)")
        return out

    def _namespace(self, sc: Scenario) -> str:
        self._n += 1
        return f"exp-{self.runner.run_id}-{sc.sid}-{self._n}"

    def _start(self, sc: Scenario) -> str:
        """The scenario created and its jobs created in order, each settled; its namespace."""
        ns = self._namespace(sc)
        self.runner._create(sc, ns)
        for body in sc.jobs:
            job = {**body, "metadata": {**body["metadata"], "namespace": ns}}
            self.cluster.create_job(job)
            self.runner._settle(
                ns, job["metadata"]["name"], sum(int(t["replicas"]) for t in job["spec"]["tasks"])
            )
        return ns

    def _pending_and_explained(
        self, sc: Scenario, target: str, out: ExplainRun
    ) -> tuple[str, dict[str, Any] | None]:
        ns = self._start(sc)
        out.pending_in_cluster = not any(self.cluster.placement(ns, target).values())
        if not out.pending_in_cluster:
            return ns, None
        report = self._explain_cli(f"{ns}/{target}")
        out.status = report["status"]
        out.no_single_change = bool(report["no_single_change"])
        out.suggestions = len(report["suggestions"])
        out.short = _shortfall(report)
        if out.status != "infeasible":
            return ns, None
        return ns, report

    def _explain_cli(self, ref: str) -> dict[str, Any]:
        """``topology-hints explain --from-cluster --json``, as a user runs it."""
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "hypertopo.cli.hints",
                "explain",
                "--from-cluster",
                "--kubeconfig",
                str(self.cluster.kubeconfig),
                "--job",
                ref,
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if proc.returncode != 0:
            raise AssertionError(f"explain exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
        return dict(json.loads(proc.stdout))

    def _live_inputs(self, ref: str) -> dict[str, Any]:
        """What ``explain --from-cluster`` reads (:mod:`hypertopo.cluster.live`)."""
        world = read_world(self.cluster.rest)
        job, _ref = find_workload(self.cluster.rest, ref, world["pods"])
        world["scheduler_conf"] = coerce_scheduler_conf(world["scheduler_conf"])
        return {**world, "jobs": [job], "network": None, "kv_model": None}

    def _apply(
        self, sc: Scenario, target: str, offered: Mapping[str, Any], *, compare_first: bool
    ) -> ChangeRun:
        """A fresh copy of the scenario, ``offered``'s change written to it, the job settled."""
        ns = self._start(sc)
        run = ChangeRun(
            str(offered["text"]),
            dict(offered["change"]),
            bool(offered["predicted_feasible"]),
            offered.get("hypernode"),
            0,
            0,
        )
        extra_nodes: list[str] = []
        try:
            ref = f"{ns}/{target}"
            before = self._live_inputs(ref)
            (item,) = parse_changes([_in_ns(dict(offered["change"]), ns)], "suggestion")
            after = apply_changes(before, [item])
            extra_nodes = write_difference(self.cluster, before, after)
            prediction = predict(**after, baseline=False)
            (job_after,) = after["jobs"]
            run.replicas = sum(int(t["replicas"]) for t in job_after["spec"]["tasks"])
            placement = self.runner._settle(ns, target, run.replicas)
            run.bound = sum(1 for n in placement.values() if n)
            if compare_first:
                verdicts = compare(prediction, self.cluster.pods(ns), after["nodes"], after["hypernodes"])
                run.verdict = next(v for v in verdicts if v["job"] == ref)
        except Exception as exc:  # reported in the run, which goes on
            run.error = f"{type(exc).__name__}: {exc}"
            self.log(traceback.format_exc(limit=-4))
        finally:
            self._cleanup(sc, ns, extra_nodes)
        self.log(
            f"    {run.text}: bound {run.bound}/{run.replicas}, predicted feasible={run.predicted_feasible}"
        )
        return run

    def _cleanup(self, sc: Scenario, ns: str, extra_nodes: Sequence[str] = ()) -> None:
        self.runner._cleanup(sc, ns)
        if extra_nodes:
            self.cluster.delete_nodes(extra_nodes)
            time.sleep(1.0)

    # ---- headroom

    def headroom(self, case: HeadroomCase) -> HeadroomRun:
        t0 = time.monotonic()
        out = HeadroomRun(case.sc.sid, case.job, case.task, case.max_replicas, case.step, case.some_orders)
        try:
            at = self.runner.run(resized(case, case.max_replicas))
            above = self.runner.run(resized(case, case.max_replicas + case.step))
            for run in (at, above):
                if run.error:
                    raise AssertionError(run.error)
            out.jobs_agree = at.agree and above.agree
            out.bound_at_max = _bound(at.jobs[-1].observed, resized(case, case.max_replicas))
            out.bound_above = _bound(above.jobs[-1].observed, resized(case, case.max_replicas + case.step))
        except Exception as exc:  # reported in the run, which goes on
            out.error = f"{type(exc).__name__}: {exc}"
        out.seconds = time.monotonic() - t0
        self.log(
            f"  {case.sc.sid}/{case.job}/{case.task}: max {case.max_replicas}: bound {out.bound_at_max}, "
            f"+{case.step}: bound {out.bound_above}: {'agree' if out.agree else 'MISMATCH'}"
        )
        return out


def _bound(observed: Mapping[str, str | None], sc: Scenario) -> tuple[int, int]:
    """(pods bound, pods of the job)."""
    return sum(1 for n in observed.values() if n), sum(
        int(t["replicas"]) for t in sc.jobs[-1]["spec"]["tasks"]
    )


def _in_ns(item: dict[str, Any], ns: str) -> dict[str, Any]:
    """A change explain made for one namespace, for the same job in ``ns``."""
    ((kind, params),) = item.items()
    params = dict(params)
    if isinstance(params.get("job"), str):
        params["job"] = f"{ns}/{params['job'].split('/', 1)[1]}"
    if isinstance(params.get("pods"), list):
        params["pods"] = [f"{ns}/{p.split('/', 1)[1]}" for p in params["pods"]]
    return {kind: params}


def _shortfall(report: Mapping[str, Any]) -> str:
    """The first tier's first candidate's shortfall, for the report."""
    for tier in report.get("tiers") or ():
        for cand in tier.get("candidates") or ():
            if cand.get("short"):
                return f"tier {tier['tier']} {cand['hypernode']}: short {json.dumps(cand['short'])}"
    return ""


# --------------------------------------------------------------------------- writing a difference


def _by_key(objs: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], Mapping[str, Any]]:
    return {((o.get("metadata") or {}).get("namespace") or "", o["metadata"]["name"]): o for o in objs or ()}


def _fresh(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` as a new object to create: its identity fields and status dropped."""
    meta = {k: v for k, v in obj["metadata"].items() if k in _META_KEPT}
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")} | {"metadata": meta}


def write_difference(cluster: LocalCluster, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Write to ``cluster`` what ``after`` (inputs with a change applied) differs by from ``before``
    (the inputs read from it). Returns the names of the Nodes created."""
    created: list[str] = []
    old, new = _by_key(before["nodes"]), _by_key(after["nodes"])
    added = [obj for key, obj in new.items() if key not in old]
    if added:
        cluster.create_nodes(NodeSpec.of(obj) for obj in added)
        created = [obj["metadata"]["name"] for obj in added]
    for key, obj in new.items():
        if key in old and obj != old[key]:
            cluster.rest.merge_patch(
                f"/api/v1/nodes/{key[1]}",
                {"metadata": {"labels": obj["metadata"].get("labels")}, "spec": obj.get("spec") or {}},
            )
    cluster.delete_nodes(name for (_ns, name) in old if (_ns, name) not in new)
    old, new = _by_key(before["hypernodes"]), _by_key(after["hypernodes"])
    for key, obj in new.items():
        if key not in old:
            cluster.create(_fresh(obj))
        elif obj != old[key]:
            cluster.rest.merge_patch(f"{HYPERNODES}/{key[1]}", {"spec": obj["spec"]})
    old, new = _by_key(before["pods"]), _by_key(after["pods"])
    for (ns, name), _obj in old.items():
        if (ns, name) not in new:
            cluster.delete(f"/api/v1/namespaces/{ns}/pods/{name}", grace_period_seconds=0)
    for (ns, _name), obj in new.items():
        if (ns, _name) not in old:
            cluster.create(_fresh(obj), namespace=ns)
    old, new = _by_key(before["jobs"]), _by_key(after["jobs"])
    for (ns, name), obj in new.items():
        if obj != old.get((ns, name)):
            _recreate_job(cluster, ns, name, _fresh(obj))
    time.sleep(1.0)  # let vc-scheduler's informers see the change
    return created


def _recreate_job(cluster: LocalCluster, ns: str, name: str, body: dict[str, Any]) -> None:
    """Delete the Job (its pods and PodGroup gone), then create ``body`` under the same name."""
    path = f"{JOBS}/namespaces/{ns}/jobs/{name}"
    cluster.delete(path, grace_period_seconds=None)
    deadline = time.monotonic() + 60
    while cluster.get_or_none(path) is not None or cluster.placement(ns, name):
        if time.monotonic() > deadline:
            raise AssertionError(f"{ns}/{name}: the Job or its pods are still there after 60 s")
        for pod in cluster.pods(ns, job=name):
            cluster.delete(f"/api/v1/namespaces/{ns}/pods/{pod['metadata']['name']}", grace_period_seconds=0)
        time.sleep(0.5)
    for group in cluster.list(f"{PODGROUPS}/namespaces/{ns}/podgroups"):
        owners = group["metadata"].get("ownerReferences") or ()
        if any(o.get("kind") == "Job" and o.get("name") == name for o in owners):
            cluster.delete(
                f"{PODGROUPS}/namespaces/{ns}/podgroups/{group['metadata']['name']}",
                grace_period_seconds=None,
            )
    cluster.create_job(body)


# --------------------------------------------------------------------------- a random choice, counted


#: the tie trials' arms: (which leaf is created first, which is listed first in the spine's members)
TIE_ARMS: tuple[tuple[int, int], ...] = ((0, 0), (1, 1), (0, 1))


def tie_scenario(*, created_first: int = 0, listed_first: int | None = None) -> Scenario:
    """Two identical leaves of two 8-GPU H100 nodes under one spine and a hard tier-1 job of eight
    2-GPU pods that fills either leaf: Volcano picks one of the two at random. ``created_first``
    (0 or 1) is the leaf created first, ``listed_first`` (default: the same) the one listed first
    in the spine's ``spec.members``: the arms of :data:`TIE_ARMS` separate the names, the order
    vc-scheduler's cache learns the leaves in and their order in the spine's members (which the
    predicted law follows, :func:`hypertopo.placement.util.job_tie_chances`)."""
    listed_first = created_first if listed_first is None else listed_first
    sid = "tie"
    leaves = [f"{sid}-leaf0", f"{sid}-leaf1"]
    nodes = [_node(f"{sid}-n{i}", "h100", 8, "96", "768Gi", leaves[i // 2]) for i in range(4)]
    leaf_objs = [
        _hypernode(leaf, 1, nodes=[f"{sid}-n{2 * k}", f"{sid}-n{2 * k + 1}"]) for k, leaf in enumerate(leaves)
    ]
    listed = leaves[::-1] if listed_first else leaves
    created = leaf_objs[::-1] if created_first else leaf_objs
    hypernodes = [*created, _hypernode(f"{sid}-spine", 2, children=listed)]
    spec = {
        "schedulerName": "volcano",
        "terminationGracePeriodSeconds": 0,
        "containers": [_container(2, "4", "32Gi")],
    }
    job = {
        "apiVersion": "batch.volcano.sh/v1alpha1",
        "kind": "Job",
        "metadata": {"name": "j1"},
        "spec": {
            "schedulerName": "volcano",
            "queue": "default",
            "minAvailable": 8,
            "networkTopology": {"mode": "hard", "highestTierAllowed": 1},
            "tasks": [{"name": "worker", "replicas": 8, "template": {"spec": spec}}],
        },
    }
    notes = [
        "j1: hard tier 1 [worker 8x2 GPU on h100] filling either of two identical leaves, "
        f"leaf{created_first} created first, leaf{listed_first} listed first in the spine's members"
    ]
    return Scenario(sid, 0, 2, leaves, nodes, hypernodes, [], [job], notes)


@dataclass
class TieTrials:
    scenario: str
    predicted: list[tuple[str | None, float | None]]  # (HyperNode, probability) per outcome
    picked: dict[str, int]
    trials: int
    agreeing: int
    listed_first: str = ""  # the leaf listed first in the spine's members
    created_first: str = ""
    errors: int = 0

    @property
    def tested(self) -> tuple[str, float | None]:
        """The outcome tested: the leaf listed first and its predicted probability."""
        name = self.listed_first or str(self.predicted[0][0] if self.predicted else "")
        return name, dict(self.predicted).get(name)

    def p_value_against(self, prob: float | None) -> float:
        """Two-sided binomial test of the tested leaf's count against ``prob``."""
        if prob is None:
            return float("nan")
        return binomial_p(self.picked.get(self.tested[0], 0), sum(self.picked.values()), prob)

    @property
    def p_value(self) -> float:
        """Two-sided binomial test of the tested leaf's count against its predicted probability."""
        return self.p_value_against(self.tested[1])


def tie_trials(
    runner: Runner, trials: int, *, arms: Sequence[tuple[int, int]] = TIE_ARMS, log: Path | None = None
) -> list[TieTrials]:
    """The tie scenario of each arm run ``trials`` times, the arms taking turns (an interrupted
    run leaves them with equal counts): where vc-scheduler put the job each time. ``log`` gets the
    counts so far as JSON after every run."""
    out = tie_predictions(arms)
    scenarios = [tie_scenario(created_first=created, listed_first=listed) for created, listed in arms]
    for i in range(trials):
        for sc, tie in zip(scenarios, out, strict=True):
            run = runner.run(sc)
            tie.trials += 1
            if run.error or not run.jobs:
                tie.errors += 1
                _stderr(f"tie trial {i + 1} ({tie.scenario}): error {run.error}")
                continue
            (jr,) = run.jobs
            tie.agreeing += jr.agree
            tie.picked[str(jr.actual_hypernode)] = tie.picked.get(str(jr.actual_hypernode), 0) + 1
            _stderr(f"tie trial {i + 1}: listed first {tie.listed_first}, picked {jr.actual_hypernode}")
            if log is not None:
                log.write_text(json.dumps([vars(t) for t in out], indent=1) + "\n")
    return out


def tie_predictions(arms: Sequence[tuple[int, int]] = TIE_ARMS) -> list[TieTrials]:
    """Per arm, an empty :class:`TieTrials` with the engine's prediction."""
    out = []
    for created, listed in arms:
        sc = tie_scenario(created_first=created, listed_first=listed)
        (job,) = predict(**offline_inputs(sc), baseline=False)["jobs"]
        predicted = [(o["hypernode"], o["probability"]) for o in job.get("outcomes") or []]
        out.append(TieTrials(sc.notes[0], predicted, {}, 0, 0, f"tie-leaf{listed}", f"tie-leaf{created}"))
    return out


def tie_counts_from(path: Path) -> list[TieTrials]:
    """The counts a ``--tie-log`` file holds, with the engine's prediction as it is now."""
    saved = {(t["created_first"], t["listed_first"]): t for t in json.loads(path.read_text())}
    out = []
    for tie in tie_predictions():
        got = saved.get((tie.created_first, tie.listed_first))
        if got is not None:
            tie.picked, tie.trials = dict(sorted(got["picked"].items())), got["trials"]
            tie.agreeing, tie.errors = got["agreeing"], got["errors"]
        out.append(tie)
    return out


def binomial_p(k: int, n: int, prob: float) -> float:
    """Two-sided binomial test: the chance of a count at most as likely as ``k`` of ``n``."""
    if not n:
        return float("nan")
    if prob <= 0 or prob >= 1:
        return 1.0 if k == round(prob * n) else 0.0
    lp, lq = math.log(prob), math.log1p(-prob)
    pmf = [
        math.exp(math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp + (n - i) * lq)
        for i in range(n + 1)
    ]
    return min(1.0, sum(p for p in pmf if p <= pmf[k] * (1 + 1e-7)))


def _tie_table(ties: Sequence[TieTrials]) -> list[str]:
    lines = [
        "| arm | runs (errors) | tie-leaf0 | tie-leaf1 | listed first picked | predicted P(listed first) "
        "| p vs prediction | p vs 0.711 (map order alone) | p vs 1/2 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    pooled_k = pooled_n = 0
    prob0: float | None = None
    for tie in ties:
        name, prob = tie.tested
        n = sum(tie.picked.values())
        k = tie.picked.get(name, 0)
        pooled_k, pooled_n = pooled_k + k, pooled_n + n
        prob0 = prob if prob0 is None else prob0
        lines.append(
            f"| {tie.created_first} created first, {tie.listed_first} listed first | {tie.trials} "
            f"({tie.errors}) | {tie.picked.get('tie-leaf0', 0)} | {tie.picked.get('tie-leaf1', 0)} | "
            f"{_pct(k, n)} | {prob if prob is not None else 'not computable'} | "
            f"{tie.p_value:.3g} | {tie.p_value_against(91 / 128):.3g} | {tie.p_value_against(0.5):.3g} |"
        )
    if prob0 is not None and pooled_n:
        lines.append(
            f"| all arms | {pooled_n} | | | {_pct(pooled_k, pooled_n)} | {prob0} | "
            f"{binomial_p(pooled_k, pooled_n, prob0):.3g} | {binomial_p(pooled_k, pooled_n, 91 / 128):.3g} | "
            f"{binomial_p(pooled_k, pooled_n, 0.5):.3g} |"
        )
    for tie in ties:
        if tie.created_first == tie.listed_first:
            continue
        n = sum(tie.picked.values())
        k = tie.picked.get(tie.created_first, 0)
        lines += [
            "",
            f"The arm {tie.created_first} created first, {tie.listed_first} listed first separates the two "
            f"orders: {tie.created_first} (created first) was picked {_pct(k, n)}; if the creation order "
            f"were what counts (P = {tie.tested[1]} for the created-first leaf): "
            f"p = {binomial_p(k, n, tie.tested[1] or 0.5):.3g}.",
        ]
    return lines


def merge_ties(runs: Sequence[Sequence[TieTrials]]) -> list[TieTrials]:
    """The arms' counts over several runs (the first run's predictions)."""
    out = [replace(t, picked=dict(t.picked)) for t in runs[0]]
    for run in runs[1:]:
        for tie, more in zip(out, run, strict=True):
            for hn, n in more.picked.items():
                tie.picked[hn] = tie.picked.get(hn, 0) + n
            tie.trials += more.trials
            tie.errors += more.errors
            tie.agreeing += more.agreeing
    for tie in out:
        tie.picked = dict(sorted(tie.picked.items()))
    return out


def render_tie_report(
    runs: Sequence[tuple[str, Sequence[TieTrials]]],
    *,
    command: str,
    wall_s: float | None,
    steps: str | None = None,
) -> str:
    """``docs/tie-probability-report.md``: per run and arm, vc-scheduler's picks against the
    predicted law; ``steps``: the law's steps in vc-scheduler's log (:mod:`.tie_log`)."""
    lines = [
        "# The job's pick between two equal-score leaves vs the real vc-scheduler (Volcano v1.15.1)",
        "",
        f"Generated by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: "
        f"{platform.machine()}, {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}" + (f"; wall time {wall_s:.0f} s." if wall_s is not None else "."),
        "",
        "Scenario (`tests/agreement/run_explain.py`, `tie_scenario`): two identical leaves (two 8-GPU",
        "H100 nodes of 96 CPUs and 768Gi each) alone under one spine, a hard tier-1 Volcano Job of eight",
        "pods of 2 GPUs, 4 CPUs and 32Gi that fills either leaf. Every run creates fresh objects in a",
        "private local control plane (vc-scheduler v1.15.1 from prebuilt binaries, the scheduler_config",
        "role's configuration: binpack weights cpu 1, memory 1, GPU 10), waits for the job to bind and",
        "records the leaf it landed on; the arms take turns. Arms: which leaf is created first, and",
        "which is listed first in the spine's `spec.members`.",
        "",
        "Predicted law (`hypertopo.placement.util.job_tie_chances`, `job_score_laws`): each leaf's job",
        "score is a float64 sum over a Go map of the three weighted resources, iterated in a random",
        "rotation (`getSubJobHyperNodeBinPackingScore`): the insertion order (chance 3/4) gives",
        "861.1111111111112, the two other rotations 861.1111111111111. Different scores (3/8): the",
        "higher wins (3/16 each way). Equal scores (5/8): `selectBestHyperNodeForJob` takes the first",
        "in Go map iteration order over a map filled in the gradient's order, the gradient a BFS over",
        "the spine's children (a Go map filled in `spec.members` order, copied every session): three",
        "random rotations, each swapping two with chance 1/8, so the leaf listed first wins 1/2 + 1/2 x",
        "(3/4)^3 = 91/128. In all: 3/16 + 5/8 x 91/128 = 0.6318359375 for the leaf listed first,",
        "whichever is created first. (The map-order part alone, without the float scores: 0.7109375.)",
    ]
    for label, ties in runs:
        lines += ["", f"## {label}", "", *_tie_table(ties)]
    if len(runs) > 1:
        lines += ["", "## All runs", "", *_tie_table(merge_ties([t for _, t in runs]))]
    if steps:
        lines += [
            "",
            "## The law's steps in vc-scheduler's log",
            "",
            "From the `--v=4` runs' vc-scheduler logs (`python -m tests.agreement.tie_log`): per run the",
            'gradient\'s order (the "Try to allocate resource for job in hyperNode" lines), each',
            'leaf\'s score ("networkTopologyAware hyperNode score is") and the pick ("Allocate job',
            'to hyperNode success").',
            "",
            steps,
        ]
    lines += [
        "",
        "p: two-sided binomial test of the listed-first leaf's count (the chance of a count at most as",
        "likely as the one seen, if the probability were the one tested).",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- report


def _explained_infeasible(run: ExplainRun) -> bool:
    return run.pending_in_cluster and run.status == "infeasible"


def _pct(a: int, b: int) -> str:
    return f"{a}/{b}" + (f" ({100 * a / b:.0f} %)" if b else "")


def render_report(
    explained: Sequence[ExplainRun],
    headrooms: Sequence[HeadroomRun],
    ties: Sequence[TieTrials],
    *,
    seed: int,
    wall_s: float,
    command: str,
) -> str:
    fixes = [r for r in explained if not r.no_single_change]
    none = [r for r in explained if r.no_single_change]
    applied = [c for r in none for c in r.changes]
    lines = [
        "# Explain and headroom vs the real vc-scheduler (Volcano v1.15.1)",
        "",
        f"Generated by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: "
        f"{platform.machine()}, {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}; generator seed {seed}; wall time {wall_s:.0f} s.",
        "",
        "Method: see the docstring of `tests/agreement/run_explain.py` (a private local control plane",
        "as Volcano's Helm chart installs it; explain run as `topology-hints explain --from-cluster",
        "--json` on the really Pending job; its first suggestion written to the cluster and",
        "vc-scheduler's placement compared with the re-prediction; where no single change suffices,",
        "every listed change written, each on a fresh copy, and the job must stay Pending; headroom's",
        "maximum and one step more run for real).",
        "",
        "## Numbers",
        "",
        "| measure | result |",
        "|---|---|",
        f"| Pending scenarios run (errors) | {len(explained)} ({sum(1 for r in explained if r.error)}) |",
        f"| Pending in vc-scheduler as predicted, and explain says infeasible | "
        f"{_pct(sum(1 for r in explained if _explained_infeasible(r)), len(explained))} |",
        f"| first suggestion applied: vc-scheduler places the job as re-predicted | "
        f"{_pct(sum(1 for r in fixes if r.agree), len(fixes))} |",
        f'| "no single change": scenarios where no listed change made vc-scheduler place the job | '
        f"{_pct(sum(1 for r in none if r.agree), len(none))} ({len(applied)} changes written, "
        f"{sum(1 for r in none if not r.suggestions)} scenarios with no candidate change) |",
        "| headroom: max places in vc-scheduler, and max + step does not (or, where it places in "
        "some random task orders only, vc-scheduler's outcome is one the prediction lists) | "
        f"{_pct(sum(1 for r in headrooms if r.agree), len(headrooms))} |",
        "",
        "## Explain scenarios",
        "",
        "| scenario/job | shortfall (first) | explain | change(s) written | vc-scheduler after | agree |",
        "|---|---|---|---|---|---|",
    ]
    for r in explained:
        what = "no single change" if r.no_single_change else "fits with a change"
        done = (
            "; ".join(
                f"{c.text} ({'predicted feasible' if c.predicted_feasible else 'predicted Pending'})"
                for c in r.changes
            )
            or "-"
        )
        after = "; ".join(
            f"{c.bound}/{c.replicas} bound"
            + (f", {c.error}" if c.error else "")
            + (f" ({'; '.join(c.verdict['details'])})" if c.verdict and not c.verdict["agree"] else "")
            for c in r.changes
        )
        if not r.pending_in_cluster:
            after = "not Pending before any change"
        lines.append(
            f"| {r.sid}/{r.job} | {r.short or '-'} | {what} ({r.suggestions} listed) | {done} | "
            f"{after or '-'} | {'yes' if r.agree else '**no**' + (f' ({r.error})' if r.error else '')} |"
        )
    lines += [
        "",
        "## Headroom scenarios",
        "",
        "| scenario/job/task | max (step) | places in some task orders up to | bound at max "
        "| bound at max + step | every job as predicted | agree |",
        "|---|---|---|---|---|---|---|",
    ]
    for h in headrooms:
        lines.append(
            f"| {h.sid}/{h.job}/{h.task} | {h.max_replicas} ({h.step}) | {h.some_orders or '-'} | "
            f"{h.bound_at_max[0]}/{h.bound_at_max[1]} | "
            f"{h.bound_above[0]}/{h.bound_above[1]} | {'yes' if h.jobs_agree else 'no'} | "
            f"{'yes' if h.agree else '**no**' + (f' ({h.error})' if h.error else '')} |"
        )
    if ties:
        lines += ["", "## A random choice, counted", ""]
    for tie in ties:
        predicted = " or ".join(
            f"{hn} ({p if p is not None else 'not computable'})" for hn, p in tie.predicted
        )
        picked = ", ".join(f"{hn}: {n}" for hn, n in tie.picked.items())
        name, prob = tie.tested
        lines += [
            f"- `tie_scenario()`: {tie.scenario}. The prediction: {predicted}. vc-scheduler over",
            f"  {tie.trials} runs (fresh objects, {tie.errors} errors): {picked}; jobs agreeing with",
            f"  the prediction's outcomes: {tie.agreeing}/{tie.trials}; two-sided binomial test of {name}'s",
            f"  count against its predicted probability ({prob}): p = {tie.p_value:.3g}; against 1/2:",
            f"  p = {tie.p_value_against(0.5):.3g}.",
        ]
    lines.append("")
    return "\n".join(lines)


def select(
    indices: Sequence[int], seed: int, fixes: int, nones: int, headrooms: int
) -> tuple[list[tuple[Scenario, str]], list[HeadroomCase]]:
    """Explain targets (``fixes`` that fit with a change, ``nones`` that need more than one) and
    headroom cases, from the scenarios of ``indices``, predicted offline."""
    fit: list[tuple[Scenario, str]] = []
    more: list[tuple[Scenario, str]] = []
    cases: list[HeadroomCase] = []
    for i in indices:
        sc = scenario(i, seed)
        target = pending_target(sc)
        if target is not None:
            report = explain(offline_inputs(sc), f"{OFFLINE_NS}/{target}")
            if report["status"] == "infeasible":
                (more if report["no_single_change"] else fit).append((sc, target))
        elif len(cases) < headrooms:
            case = headroom_case(sc)
            if case is not None:
                cases.append(case)
    return fit[:fixes] + more[:nones], cases


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--scan", type=int, default=300, help="scenarios scanned for cases (default 300)")
    ap.add_argument("--fixes", type=int, default=24, help="Pending jobs that fit with one change")
    ap.add_argument("--nones", type=int, default=8, help="Pending jobs no single change fixes")
    ap.add_argument("--headrooms", type=int, default=12, help="headroom cases")
    ap.add_argument("--tie-trials", type=int, default=24, help="runs of each tie arm (0: none)")
    ap.add_argument("--tie-log", type=Path, help="the tie counts so far, as JSON, after every run")
    ap.add_argument("--only", nargs="*", default=[], help="scenario ids to scan (e.g. a004)")
    ap.add_argument(
        "--tie-counts",
        nargs="*",
        default=[],
        help="LABEL=FILE: render the tie report from --tie-log files (no cluster)",
    )
    ap.add_argument(
        "--tie-steps",
        nargs="*",
        type=Path,
        default=[],
        help="--v=4 vc-scheduler logs of tie runs, for the report",
    )
    ap.add_argument("--tie-report", type=Path, help="write the tie trials' report here too")
    ap.add_argument("--keep-logs", type=Path, help="copy the control plane's logs here at the end")
    ap.add_argument("--report", type=Path)
    args = ap.parse_args(argv)
    command = "python -m tests.agreement.run_explain " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.tie_counts:
        runs = [(label, tie_counts_from(Path(f))) for label, f in (a.rsplit("=", 1) for a in args.tie_counts)]
        steps = None
        if args.tie_steps:
            from .tie_log import read_steps, summary  # tie_log imports this module

            steps = summary([s for log in args.tie_steps for s in read_steps(log)])
        text = render_tie_report(runs, command=command, wall_s=None, steps=steps)
        if args.report:
            args.report.write_text(text)
        else:
            sys.stdout.write(text)
        return 0
    targets, cases = select(
        [int(s.lstrip("a")) for s in args.only] or range(args.scan),
        args.seed,
        args.fixes,
        args.nones,
        args.headrooms,
    )
    _stderr(f"{len(targets)} explain targets, {len(cases)} headroom cases")
    t0 = time.monotonic()
    with local_cluster(keep_logs=args.keep_logs) as cluster:
        er = ExplainRunner(cluster)
        explained = []
        for sc, target in targets:
            _stderr(f"{sc.sid}: {sc.summary()}")
            explained.append(er.explain(sc, target))
        headrooms = [er.headroom(case) for case in cases]
        ties = tie_trials(er.runner, args.tie_trials, log=args.tie_log) if args.tie_trials else []
    wall = time.monotonic() - t0
    text = render_report(explained, headrooms, ties, seed=args.seed, wall_s=wall, command=command)
    if args.tie_report and ties:
        args.tie_report.write_text(render_tie_report([("Run", ties)], command=command, wall_s=wall))
    if args.report:
        args.report.write_text(text)
    else:
        sys.stdout.write(text)
    ok = all(r.agree for r in explained) and all(h.agree for h in headrooms)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
