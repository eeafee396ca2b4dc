"""The scenario generator (no cluster): deterministic, and the 60 scenarios of the agreement
run cover every dimension the issue asks for."""

from __future__ import annotations

from hypertopo.placement import predict

from .generator import GPU, GPU_TYPE, scenario, scenarios

COUNT = 60


def test_same_seed_same_scenario() -> None:
    assert scenario(7) == scenario(7)
    assert scenario(7) != scenario(8)
    assert scenario(7, base_seed=1) != scenario(7)


def test_the_run_covers_every_dimension() -> None:
    runs = scenarios(COUNT)
    assert {s.tiers for s in runs} == {1, 2, 3}
    leaves = [len(s.leaves) for s in runs]
    assert min(leaves) == 2 and max(leaves) == 16
    assert {int(n["status"]["allocatable"][GPU]) for s in runs for n in s.nodes} == {4, 8}
    assert len({n["metadata"]["labels"][GPU_TYPE] for s in runs for n in s.nodes}) >= 3
    assert any(len({n["metadata"]["labels"][GPU_TYPE] for n in s.nodes}) > 1 for s in runs)
    assert sum(1 for s in runs if s.preoccupied) >= COUNT // 2
    assert all(p["spec"]["nodeName"] for s in runs for p in s.preoccupied)
    jobs = [j for s in runs for j in s.jobs]
    assert {len(s.jobs) for s in runs} == {1, 2}
    modes = {(j["spec"].get("networkTopology") or {}).get("mode") for j in jobs}
    assert modes == {"hard", "soft", None}
    tiers = {(j["spec"].get("networkTopology") or {}).get("highestTierAllowed") for j in jobs}
    assert {1, 2, 3} <= tiers
    tasks = [t for j in jobs for t in j["spec"]["tasks"]]
    assert any("partitionPolicy" in t for t in tasks) and any("partitionPolicy" not in t for t in tasks)
    assert any(t["minAvailable"] < t["replicas"] for t in tasks)
    assert any(len(j["spec"]["tasks"]) == 2 for j in jobs)


def test_the_engine_accepts_every_scenario() -> None:
    for s in scenarios(COUNT):
        jobs = [{**j, "metadata": {**j["metadata"], "namespace": "ns"}} for j in s.jobs]
        pods = [{**p, "metadata": {**p["metadata"], "namespace": "ns"}} for p in s.preoccupied]
        result = predict(jobs=jobs, nodes=s.nodes, hypernodes=s.hypernodes, pods=pods, baseline=False)
        assert len(result["jobs"]) == len(s.jobs)
        assert not any("two parents" in w or "cycle" in w for w in result["warnings"]), s.sid
