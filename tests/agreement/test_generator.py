"""The scenario generator (no cluster): deterministic, and the 60 scenarios of the agreement
run cover every dimension the issue asks for."""

from __future__ import annotations

from hypertopo.placement import predict

from .generator import GPU, GPU_TYPE, WEBHOOK_DEFAULTS, minimal, scenario, scenarios

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
    assert any(t.get("minAvailable", t["replicas"]) < t["replicas"] for t in tasks)
    assert any(len(j["spec"]["tasks"]) == 2 for j in jobs)
    written = [j for j in jobs if not WEBHOOK_DEFAULTS.keys() & j["spec"].keys()]
    assert 0.25 * len(jobs) < len(written) < 0.55 * len(jobs)
    assert any("minAvailable" not in j["spec"] for j in written)
    assert any("minAvailable" not in t for j in written for t in j["spec"]["tasks"])


def _predict(s, jobs):
    jobs = [{**j, "metadata": {**j["metadata"], "namespace": "ns"}} for j in jobs]
    pods = [{**p, "metadata": {**p["metadata"], "namespace": "ns"}} for p in s.preoccupied]
    return predict(jobs=jobs, nodes=s.nodes, hypernodes=s.hypernodes, pods=pods, baseline=False)


def test_a_job_without_the_webhooks_defaults_is_predicted_as_the_full_job() -> None:
    """The predictor applies the mutating webhook's defaults itself: leaving them out changes nothing."""
    checked = 0
    for s in scenarios(COUNT):
        if all(minimal(j) == j for j in s.jobs):
            continue
        full, written = _predict(s, s.jobs), _predict(s, [minimal(j) for j in s.jobs])
        assert full["jobs"] == written["jobs"], s.sid
        checked += 1
    assert checked >= COUNT // 3


def test_the_engine_accepts_every_scenario() -> None:
    for s in scenarios(COUNT):
        result = _predict(s, s.jobs)
        assert len(result["jobs"]) == len(s.jobs)
        assert not any("two parents" in w or "cycle" in w for w in result["warnings"]), s.sid
