"""vc-scheduler opens a session every --schedule-period; pods a session leaves pending are
tried again in the next one. Found by the agreement run (scenario a115): a partition
dropped from the job's worksheet in the first session is placed one second later."""

from __future__ import annotations

import pytest

from hypertopo.placement import predict, session

from .helpers import GPU_BINPACK, conf, hard, job, leaf, node, parent, task, template


def _case():
    nodes = [
        node("x0", gpus=8, cpu="96", memory="768Gi", labels={"gpu-type": "a100"}),
        node("x1", gpus=4, cpu="64", memory="768Gi", labels={"gpu-type": "a100"}),
        node("y0", gpus=4, cpu="64", memory="768Gi", labels={"gpu-type": "a100"}),
    ]
    hns = [leaf("leaf-x", ["x0", "x1"]), leaf("leaf-y", ["y0"]), parent("spine", ["leaf-x", "leaf-y"])]
    # 2 prefill + 3 partitions of 2 decode pods (2 partitions needed, each within one leaf):
    # the gang (2 prefill + 4 decode = 12 GPUs) fills leaf-x exactly; the third partition
    # fails there during the first session's dry run and is dropped from the worksheet
    decode = task(
        "decode",
        6,
        template(gpus=2, cpu="12", selector={"gpu-type": "a100"}),
        minAvailable=4,
        partitionPolicy={
            "totalPartitions": 3,
            "partitionSize": 2,
            "minPartitions": 2,
            "networkTopology": hard(1),
        },
    )
    pd = job("pd", [task("prefill", 2, template(gpus=2, cpu="8")), decode], min_available=6, topology=hard(2))
    return pd, nodes, hns


def _predict():
    pd, nodes, hns = _case()
    return predict(jobs=[pd], nodes=nodes, hypernodes=hns, scheduler_conf=conf(GPU_BINPACK), baseline=False)


def test_one_session_leaves_the_third_partition_pending(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(session, "MAX_SESSIONS", 1)
    result = _predict()["jobs"][0]
    assert result["feasible"] and result["leaves"] == {"leaf-x": 6}
    assert result["pending"] == ["pd-decode-4", "pd-decode-5"]


def test_the_next_session_places_it_in_the_other_leaf():
    result = _predict()["jobs"][0]
    assert result["feasible"] and result["pending"] == []
    assert result["leaves"] == {"leaf-x": 6, "leaf-y": 2}
    assert result["hypernode"] == "spine"
    placed = {p["pod"]: p["node"] for p in result["placements"]}
    assert placed["pd-decode-4"] == placed["pd-decode-5"] == "y0"
    assert not any(p["existing"] for p in result["placements"])


def test_an_infeasible_job_does_not_loop():
    pd, nodes, hns = _case()
    pd["spec"]["tasks"][1]["replicas"] = 60
    pd["spec"]["tasks"][1]["partitionPolicy"]["totalPartitions"] = 30
    result = predict(jobs=[pd], nodes=nodes, hypernodes=hns, scheduler_conf=conf(GPU_BINPACK), baseline=False)
    assert result["jobs"][0]["feasible"]  # the gang fits; 54 decode pods stay pending
    assert len(result["jobs"][0]["pending"]) == 54
