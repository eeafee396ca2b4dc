"""What the engine keeps between a job's pods (``state.INCREMENTAL``: per-node values caught up with
the nodes whose pods changed, InterPodAffinity's and the predicates' sums, per-HyperNode task
counts) must not change any prediction or headroom answer: each case is computed with it and
with everything recomputed for every pod, and the two answers must be the same JSON.

The cases are the agreement run's seeded scenarios (1-3 tiers, soft/hard/no topology, several
GPU models, partitions, running pods, partly filled leaves), each with random additions: preferred
and required pod (anti-)affinity on the job's own pods over the hostname and over the leaf label,
running pods with terms of their own, PreferNoSchedule and NoSchedule taints with and without
tolerations; plus the seed PD jobs on a generated 1,024-node cluster (sampled HyperNodes)."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest

from hypertopo.placement import predict, state
from hypertopo.placement.headroom import headroom
from tests.agreement.generator import scenario

from .synthetic import generated_cluster, running_pods, seed_pd_jobs

NAMESPACE = "default"
JOB_LABEL = "volcano.sh/job-name"
LEAF_LABEL = "hypertopo.test/leaf"
HOSTNAME = "kubernetes.io/hostname"


def _term(job: str, key: str) -> dict[str, Any]:
    return {
        "labelSelector": {"matchExpressions": [{"key": JOB_LABEL, "operator": "In", "values": [job]}]},
        "topologyKey": key,
    }


def _add_affinity(rng: random.Random, spec: dict[str, Any], job: str) -> None:
    affinity = spec.setdefault("affinity", {})
    roll = rng.random()
    if roll < 0.5:
        key = HOSTNAME if rng.random() < 0.7 else LEAF_LABEL
        weight = rng.choice((1, 50, 100))
        affinity["podAntiAffinity"] = {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": weight, "podAffinityTerm": _term(job, key)}
            ]
        }
    elif roll < 0.65:
        required = [_term(job, HOSTNAME)]
        affinity["podAntiAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": required}
    elif roll < 0.8:
        affinity["podAffinity"] = {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": rng.choice((10, 100)), "podAffinityTerm": _term(job, LEAF_LABEL)}
            ]
        }


def case(index: int) -> dict[str, Any]:
    """The agreement scenario ``index`` with pod (anti-)affinity, taints and tolerations added."""
    s = scenario(index)
    rng = random.Random(1000 + index)
    nodes = copy.deepcopy(s.nodes)
    for node in nodes:
        roll = rng.random()
        if roll < 0.15:
            taint = {"key": "dedicated", "value": "x", "effect": "NoSchedule"}
            node.setdefault("spec", {})["taints"] = [taint]
        elif roll < 0.35:
            node.setdefault("spec", {})["taints"] = [{"key": "busy", "effect": "PreferNoSchedule"}]
    jobs = []
    for raw in s.jobs:
        job = copy.deepcopy(raw)
        job["metadata"]["namespace"] = NAMESPACE
        for task in job["spec"]["tasks"]:
            spec = task["template"]["spec"]
            _add_affinity(rng, spec, job["metadata"]["name"])
            if rng.random() < 0.5:
                spec["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
            if rng.random() < 0.3:
                spec.setdefault("tolerations", []).append({"key": "busy", "operator": "Exists"})
        jobs.append(job)
    pods = []
    for raw in s.preoccupied:
        pod = copy.deepcopy(raw)
        pod["metadata"]["namespace"] = NAMESPACE
        if jobs and rng.random() < 0.4:
            # a running pod that the jobs' terms see, some with terms of their own
            pod["metadata"].setdefault("labels", {})[JOB_LABEL] = rng.choice(jobs)["metadata"]["name"]
            if rng.random() < 0.5:
                _add_affinity(rng, pod["spec"], rng.choice(jobs)["metadata"]["name"])
        pods.append(pod)
    return {"jobs": jobs, "nodes": nodes, "hypernodes": s.hypernodes, "pods": pods}


def both_ways(monkeypatch: pytest.MonkeyPatch, compute: Any) -> tuple[str, str]:
    fast = json.dumps(compute(), sort_keys=True, default=str)
    monkeypatch.setattr(state, "INCREMENTAL", False)
    slow = json.dumps(compute(), sort_keys=True, default=str)
    monkeypatch.setattr(state, "INCREMENTAL", True)
    return fast, slow


@pytest.mark.parametrize("index", range(24))
def test_scenarios_same_both_ways(monkeypatch: pytest.MonkeyPatch, index: int) -> None:
    inputs = case(index)
    fast, slow = both_ways(monkeypatch, lambda: predict(**inputs, baseline=False))
    assert fast == slow
    fast, slow = both_ways(monkeypatch, lambda: headroom(inputs))
    assert fast == slow


def test_the_cases_exercise_what_is_kept() -> None:
    """The additions reach the paths the switch covers: affinity of both kinds, taints, pods."""
    cases = [case(i) for i in range(24)]
    text = json.dumps(cases)
    for needle in (
        "preferredDuringSchedulingIgnoredDuringExecution",
        "requiredDuringSchedulingIgnoredDuringExecution",
        "podAffinity",
        "PreferNoSchedule",
        "NoSchedule",
        LEAF_LABEL,
    ):
        assert needle in text
    assert sum(1 for c in cases if c["pods"]) >= 8
    assert any("affinity" in p["spec"] for c in cases for p in c["pods"])


def test_generated_cluster_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seed PD jobs (soft, preferred anti-affinity on their own pods) on 1,024 nodes with running
    pods: HyperNodes above 100 nodes are sampled, the job-level search covers every tier."""
    nodes, hypernodes = generated_cluster(1024)
    pods = running_pods(200, 1024)
    inputs = {"jobs": seed_pd_jobs(), "nodes": nodes, "hypernodes": hypernodes, "pods": pods}
    fast, slow = both_ways(monkeypatch, lambda: headroom(inputs, up_to=160))
    assert fast == slow
    assert '"max_replicas": 160' in fast
