"""Skipping dry runs that cannot make the gang ready (:mod:`hypertopo.placement.prune`) must not
change where anything lands, and headroom must report the same answers, reasons included.

The cases are ``test_incremental``'s (the agreement run's seeded scenarios with pod affinity,
taints and running pods added) and the seed PD jobs on a generated 1,024-node cluster, where the
unlimited decode search dry-runs tier-2 HyperNodes far too small for it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hypertopo.placement import prune
from hypertopo.placement.changes import apply_changes, change
from hypertopo.placement.headroom import _run, headroom
from hypertopo.placement.inputs import as_objects
from hypertopo.placement.result import shape
from hypertopo.placement.session import Session, pruned_reasons
from hypertopo.placement.world import build_world

from .synthetic import generated_cluster, running_pods, seed_pd_jobs
from .test_incremental import case

DECODE = "default/pd-decode-service"


def _session(inputs: dict[str, Any], *, prune_runs: bool) -> Session:
    world = build_world(inputs["nodes"], inputs["hypernodes"], inputs["pods"], None, None, None, None)
    session, _ins = _run(world, list(as_objects(inputs["jobs"], "jobs")), prune=prune_runs)
    return session


def _partial(session: Session) -> set[int]:
    """Positions of the jobs whose first attempt skipped a dry run."""
    return {k for k, job in enumerate(session.jobs) if pruned_reasons(session, job)}


def _shaped(session: Session, without_reasons: set[int]) -> str:
    shaped = shape(session)
    for k in without_reasons:
        shaped["jobs"][k].pop("reasons", None)
    return json.dumps(shaped, sort_keys=True, default=str)


def _same_placements(inputs: dict[str, Any]) -> Session:
    """Predict with and without skipping; the same JSON but for the reasons of the jobs whose
    attempt skipped a run (only those of an unplaced job come from the attempt). The pruned run."""
    pruned = _session(inputs, prune_runs=True)
    full = _session(inputs, prune_runs=False)
    assert full.sched.pruned == 0 and not _partial(full)
    drop = _partial(pruned)
    assert _shaped(pruned, drop) == _shaped(full, drop)
    return pruned


def _headroom_both_ways(monkeypatch: pytest.MonkeyPatch, compute: Any) -> tuple[str, str]:
    fast = json.dumps(compute(), sort_keys=True, default=str)
    monkeypatch.setattr(prune, "PRUNE", False)
    slow = json.dumps(compute(), sort_keys=True, default=str)
    monkeypatch.setattr(prune, "PRUNE", True)
    return fast, slow


def _generated(nodes: int, pods: int) -> dict[str, Any]:
    node_objs, hypernodes = generated_cluster(nodes)
    running = running_pods(pods, nodes)
    return {"jobs": seed_pd_jobs(), "nodes": node_objs, "hypernodes": hypernodes, "pods": running}


@pytest.mark.parametrize("index", range(24))
def test_scenarios_place_the_same_and_headroom_answers_the_same(
    monkeypatch: pytest.MonkeyPatch, index: int
) -> None:
    inputs = case(index)
    _same_placements(inputs)
    fast, slow = _headroom_both_ways(monkeypatch, lambda: headroom(inputs))
    assert fast == slow


def test_the_scenarios_skip_runs() -> None:
    """The comparison above is not vacuous: predictions of the scenarios and of their headroom
    probes (every job at twice its size) skip dry runs."""
    skipped = 0
    for index in range(24):
        inputs = case(index)
        doubled = [
            change(
                "set_replicas",
                job=f"{j['metadata']['namespace']}/{j['metadata']['name']}",
                task=t["name"],
                replicas=2 * int(t.get("replicas") or 1),
            )
            for j in inputs["jobs"]
            for t in j["spec"]["tasks"]
        ]
        skipped += _session(apply_changes(inputs, doubled), prune_runs=True).sched.pruned > 0
    assert skipped >= 3, skipped


def test_unlimited_decode_search_on_1024_nodes_skips_the_tier_2_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = _generated(1024, 200)
    skipped: list[bool] = []
    real = prune.hopeless

    def counted(*args: Any) -> bool:
        got = real(*args)
        skipped.append(got)
        return got

    monkeypatch.setattr(prune, "hopeless", counted)
    fast, slow = _headroom_both_ways(monkeypatch, lambda: headroom(inputs, job=DECODE, task="decode-worker"))
    assert fast == slow
    assert any(skipped), "no dry run was skipped"
    (answer,) = json.loads(fast)["jobs"]
    assert answer["confirmed"] and answer["max_replicas"] > 64, answer


def test_a_hard_tier_1_job_too_big_for_a_leaf_skips_its_runs_and_headroom_reports_full_reasons(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The decode job, hard at tier 1: grown beyond any leaf's RTX 4090 room, its leaf runs are
    skipped and its attempt marked (its reasons would lack those runs); the placements are the
    full run's. Its headroom search probes such counts; the count above the maximum it reports
    is predicted again in full, so its reasons are those of the run without skipping."""
    hard = apply_changes(
        _generated(1024, 0),
        [change("set_mode", job=DECODE, mode="hard"), change("set_tier", job=DECODE, tier=1)],
    )
    grown = apply_changes(hard, [change("set_replicas", job=DECODE, task="decode-worker", replicas=400)])
    session = _same_placements(grown)
    decode = next(k for k, job in enumerate(session.jobs) if job.inp.name == "pd-decode-service")
    assert session.sched.pruned > 0 and decode in _partial(session)
    assert not shape(session)["jobs"][decode]["feasible"]
    fast, slow = _headroom_both_ways(monkeypatch, lambda: headroom(hard, job=DECODE, task="decode-worker"))
    assert fast == slow
    (answer,) = json.loads(fast)["jobs"]
    assert answer["confirmed"] and answer["above_max"]["reasons"], answer
