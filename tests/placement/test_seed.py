"""The seed scenario end to end (256 nodes, 7 switches, the article's two PD Jobs)."""

import pytest

from hypertopo.placement import predict, preflight

from .helpers import by_name
from .synthetic import pod_template, seed_cluster, seed_pd_jobs, task, volcano_job

IB_LEAVES = {"ib-switch0", "ib-switch1"}


@pytest.fixture(scope="module")
def seed():
    nodes, hypernodes = seed_cluster()
    return nodes, hypernodes, predict(jobs=seed_pd_jobs(), nodes=nodes, hypernodes=hypernodes)


def test_seed_cluster_shape(seed):
    nodes, hypernodes, _ = seed
    assert len(nodes) == 256 and len(hypernodes) == 7
    labels = {n["metadata"]["name"]: n["metadata"]["labels"] for n in nodes}
    assert labels["node0"]["gpu-type"] == "h100" and labels["node2"]["gpu-type"] == "rtx4090"
    assert labels["node130"]["topology.kubernetes.io/switch-type"] == "ethernet"


def test_both_jobs_feasible_under_ib_switch4(seed):
    _, _, result = seed
    for name in ("pd-prefill-service", "pd-decode-service"):
        job = by_name(result, name)
        assert job["feasible"] and len(job["placements"]) == 12
        assert {p["leaf"] for p in job["placements"]} <= IB_LEAVES
        assert job["hypernode"] in IB_LEAVES | {"ib-switch4"}
    assert result["ethernet_pod_fraction"] == 0


def test_seed_warnings(seed):
    _, _, result = seed
    prefill = by_name(result, "pd-prefill-service")
    assert any("mode soft (highestTierAllowed 2) does not bound the tier" in w for w in prefill["warnings"])
    text = " ".join(result["warnings"])
    assert "PD roles in two separate Jobs" in text
    assert "decode on GPUs without GPUDirect RDMA (rtx4090)" in text


def test_seed_network_and_baseline(seed):
    _, _, result = seed
    pd = result["network"]["prefill_decode"]
    assert pd["pairs"] == 144 and set(pd["classes"]) <= {"same_ib_leaf", "same_ib_aggregation"}
    base = result["baseline"]
    expected = base["expected"]
    assert expected["ethernet_pod_fraction"] > 0.1
    assert expected["prefill_decode_kv_transfer_ms"]["mean"] > pd["kv_transfer_ms"]["mean"]
    assert expected["prefill_decode_kv_transfer_ms"]["worst"] > pd["kv_transfer_ms"]["worst"]
    assert "ethernet_ethernet" in expected["prefill_decode_classes"]
    # the deterministic baseline is honest about its tie-break: first nodes by name are IB nodes
    assert "deterministic tie-break" in base["description"]


def test_infeasible_hard_job_names_the_gpu_model_and_leaves():
    nodes, hypernodes = seed_cluster()
    too_big = volcano_job(
        "too-many-h100",
        [task("prefill-worker", 64, pod_template(["h100"]))],
        min_available=64,
        topology={"mode": "hard", "highestTierAllowed": 1},
    )
    result = predict(jobs=[too_big], nodes=nodes, hypernodes=hypernodes, baseline=False)
    job = by_name(result, "too-many-h100")
    assert not job["feasible"] and job["placements"] == []
    text = " ".join(job["reasons"])
    assert "h100" in text and "gpu-type" in text
    for leaf in ("ib-switch0", "ib-switch1", "eth-switch2", "eth-switch3"):
        assert leaf in text
    ok, table, reasons = preflight(result)
    assert not ok and "INFEASIBLE" in table and "too-many-h100" in reasons[0]


def test_baseline_expected_is_seeded_and_independent_of_the_node_order():
    """plan.yml reads the nodes from the inventory (natural order), site.yml from the API server
    (by name: node0, node1, node10, ...): the baseline's random tie-break runs give the same
    figures either way, and their number depends on the input, not on the machine's speed."""
    from hypertopo.placement.baseline import DEFAULT_BASELINE_SAMPLES

    nodes, hypernodes = seed_cluster()
    by_api = sorted(nodes, key=lambda n: n["metadata"]["name"])
    assert [n["metadata"]["name"] for n in by_api] != [n["metadata"]["name"] for n in nodes]
    first = predict(jobs=seed_pd_jobs(), nodes=nodes, hypernodes=hypernodes)["baseline"]
    second = predict(jobs=seed_pd_jobs(), nodes=by_api, hypernodes=hypernodes)["baseline"]
    assert first["expected"] == second["expected"]
    assert first["expected"]["samples"] == DEFAULT_BASELINE_SAMPLES
    assert first["expected"]["method"].endswith(f"(seeds 0..{DEFAULT_BASELINE_SAMPLES - 1})")
    assert first["ethernet_pod_fraction"] == second["ethernet_pod_fraction"]
