"""Pods that already exist carry the creation time and UID Volcano orders equal-index pods by,
so their order is not random any more. Found by the agreement run (scenario a324): the order
vc-scheduler drew made a job infeasible for good (the same pods, the same order, every
session), and the next job's prediction must start from that."""

from __future__ import annotations

from .helpers import GPU_BINPACK, conf, job, node, run, task, template


def _case():
    # one rtx4090 node (8 GPUs) for 2 prefill x 4 GPUs; decode (4 GPUs, any model) can use
    # it or the a100 node: decode first, the tie between the empty nodes goes to r0, binpack
    # keeps the second decode there, and no prefill fits any more
    nodes = [
        node("r0", gpus=8, labels={"gpu-type": "rtx4090"}),
        node("z0", gpus=8, labels={"gpu-type": "a100"}),
    ]
    pd = job(
        "pd",
        [
            task("prefill", 2, template(gpus=4, selector={"gpu-type": "rtx4090"})),
            task("decode", 2, template(gpus=4)),
        ],
    )
    return pd, nodes


def _pods(order: list[str]) -> list[dict]:
    """The job's pods as the API returns them before binding: same creation second, UIDs in ``order``."""
    return [
        {
            "metadata": {
                "name": name,
                "namespace": "default",
                "uid": f"{i:08d}-0000-0000-0000-000000000000",
                "creationTimestamp": "2026-01-01T00:00:00Z",
            },
            "spec": {"containers": [{"name": "c"}]},
        }
        for i, name in enumerate(order)
    ]


def test_before_the_pods_exist_the_order_is_a_reported_tie():
    pd, nodes = _case()
    result = run([pd], nodes, scheduler_conf=conf(GPU_BINPACK))["jobs"][0]
    assert result["feasible"]
    tie = next(t for t in result["ties"] if t["level"] == "task-order")
    assert tie["feasibility_differs"] and [o["feasible"] for o in tie["outcomes"]] == [True, False]


def test_existing_pods_are_taken_in_creation_time_then_uid_order():
    pd, nodes = _case()
    decode_first = _pods(["pd-decode-0", "pd-prefill-0", "pd-decode-1", "pd-prefill-1"])
    result = run([pd], nodes, pods=decode_first, scheduler_conf=conf(GPU_BINPACK))["jobs"][0]
    assert not result["feasible"]
    assert not any(t["level"] == "task-order" for t in result["ties"])
    prefill_first = _pods(["pd-prefill-0", "pd-decode-0", "pd-prefill-1", "pd-decode-1"])
    result = run([pd], nodes, pods=prefill_first, scheduler_conf=conf(GPU_BINPACK))["jobs"][0]
    assert result["feasible"] and not any(t["level"] == "task-order" for t in result["ties"])


def test_an_earlier_creation_time_goes_first_whatever_the_uid():
    pd, nodes = _case()
    pods = _pods(["pd-decode-0", "pd-prefill-0", "pd-decode-1", "pd-prefill-1"])
    for pod in pods:  # prefill pods one second earlier: they go first despite larger UIDs
        if "prefill" in pod["metadata"]["name"]:
            pod["metadata"]["creationTimestamp"] = "2025-12-31T23:59:59Z"
    result = run([pd], nodes, pods=pods, scheduler_conf=conf(GPU_BINPACK))["jobs"][0]
    assert result["feasible"]
