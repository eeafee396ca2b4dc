"""Equal-index pods of different tasks: Volcano orders them by creation time, then UID
(random), and the order can move a pod to another leaf. Found by the agreement run
(scenario a050): the engine now replays other orders and reports a ``task-order`` tie."""

from __future__ import annotations

from hypertopo.placement import predict
from tests.agreement.compare import compare

from .helpers import GPU_BINPACK, conf, hard, job, leaf, node, parent, task, template


def _cluster():
    sizes = (8, 8, 4)
    nodes = [node(f"{side}{i}", gpus=g) for side in "ab" for i, g in enumerate(sizes)]
    hns = [
        leaf("leaf-a", ["a0", "a1", "a2"]),
        leaf("leaf-b", ["b0", "b1", "b2"]),
        parent("spine", ["leaf-a", "leaf-b"]),
    ]
    return nodes, hns


def _pd(first: str) -> dict:
    """3 prefill x 2 GPUs (minAvailable 1) + 3 decode x 4 GPUs (minAvailable 3): the gang is 4 pods."""
    tasks = {
        "prefill": task("prefill", 3, template(gpus=2), minAvailable=1),
        "decode": task("decode", 3, template(gpus=4), minAvailable=3),
    }
    order = [first, *(t for t in tasks if t != first)]
    return job("pd", [tasks[t] for t in order], min_available=4, topology=hard(2))


def _predict(first: str, **kw):
    nodes, hns = _cluster()
    return predict(
        jobs=[_pd(first)], nodes=nodes, hypernodes=hns, scheduler_conf=conf(GPU_BINPACK), baseline=False, **kw
    )


def test_prefill_first_the_gang_takes_all_six_pods_into_one_leaf():
    # prefill-0, decode-0, ..., decode-2: the gang (3 decode + 1 prefill) is ready only
    # after the last pod, so all six are placed in the first round, in one leaf
    result = _predict("prefill", task_order=False)["jobs"][0]
    assert result["feasible"] and result["hypernode"] == "leaf-a"
    assert result["leaves"] == {"leaf-a": 6}


def test_decode_first_the_last_prefill_goes_to_the_other_leaf():
    # decode-0, prefill-0, decode-1, prefill-1, decode-2: ready after five pods; prefill-2 is
    # placed alone in a second round, where the subjob's HyperNode binpack counts the leaf's
    # used GPUs plus ALL six requests: the leaf holding the five overflows (16 + 18 > 20),
    # the empty leaf fits (0 + 18 <= 20) and wins
    result = _predict("decode", task_order=False)["jobs"][0]
    assert result["feasible"] and result["hypernode"] == "spine"
    assert sorted(result["leaves"].values()) == [1, 5]


def test_the_random_order_is_reported_as_a_task_order_tie():
    result = _predict("prefill")["jobs"][0]
    assert result["hypernode"] == "leaf-a"  # the engine's own order is unchanged
    ties = [t for t in result["ties"] if t["level"] == "task-order"]
    assert len(ties) == 1
    tie = ties[0]
    assert tie["chosen"] == "leaf-a" and tie["candidates"] == ["leaf-a", "spine"]
    assert tie["outcomes"][0]["leaves"] == {"leaf-a": 6}
    assert any(sorted(o["leaves"].values()) == [1, 5] for o in tie["outcomes"][1:])
    assert tie["leaf_counts_differ"] and not tie["feasibility_differs"]
    assert result["leaf_level_tie"]


def test_no_task_order_tie_when_the_order_does_not_matter():
    nodes, hns = _cluster()
    pd = job(
        "pd",
        [task("prefill", 2, template(gpus=2)), task("decode", 2, template(gpus=2))],
        topology=hard(1),
    )
    result = predict(jobs=[pd], nodes=nodes, hypernodes=hns, scheduler_conf=conf(GPU_BINPACK), baseline=False)
    assert not [t for t in result["jobs"][0]["ties"] if t["level"] == "task-order"]


def test_compare_accepts_an_outcome_of_the_task_order_tie():
    nodes, hns = _cluster()
    result = _predict("prefill")
    bound = [
        ("pd-decode-0", "a0"),
        ("pd-decode-1", "a1"),
        ("pd-decode-2", "a0"),
        ("pd-prefill-0", "a1"),
        ("pd-prefill-1", "a2"),
        ("pd-prefill-2", "b0"),
    ]
    pods = [
        {
            "metadata": {"name": p, "namespace": "default"},
            "spec": {"nodeName": n, "containers": [{"name": "c"}]},
        }
        for p, n in bound
    ]
    verdict = compare(result, pods, nodes, hns)[0]
    assert verdict["agree"], verdict
    assert verdict["checks"]["hypernode"] and verdict["checks"]["leaves"] is None


def _a106():
    """Scenario a106 of the agreement run: no topology, 4 prefill (1 GPU, H100 only, all in
    the gang) + 3 decode (2 GPUs, the gang needs 1) on three leaves with GPUs partly taken."""
    shapes = {  # node: (cpu, memory, busy GPUs, busy cpu, busy memory)
        "a0": ("128", "768Gi", 4, "16", "64Gi"),
        "a1": ("128", "1Ti", 8, "48500m", "256Gi"),
        "a2": ("96", "1Ti", 4, "4", "128Gi"),
        "b0": ("128", "768Gi", 0, "", ""),
        "b1": ("128", "768Gi", 8, "16", "256Gi"),
        "b2": ("96", "768Gi", 1, "1", "32Gi"),
        "c0": ("128", "1Ti", 0, "", ""),
        "c1": ("128", "1Ti", 0, "", ""),
        "c2": ("128", "1Ti", 0, "", ""),
    }
    nodes = [node(n, cpu=c, memory=m, labels={"gpu-type": "h100"}) for n, (c, m, *_) in shapes.items()]
    hns = [leaf(f"leaf-{x}", [f"{x}{i}" for i in range(3)]) for x in "abc"]
    pods = [
        {
            "metadata": {"name": f"busy-{n}", "namespace": "default"},
            "spec": {
                "nodeName": n,
                "containers": [
                    {
                        "name": "c",
                        "resources": {
                            "requests": {"nvidia.com/gpu": g, "cpu": c, "memory": m},
                            "limits": {"nvidia.com/gpu": g},
                        },
                    }
                ],
            },
        }
        for n, (_, _, g, c, m) in shapes.items()
        if g
    ]
    prefill = template(gpus=1, cpu="1500m", selector={"gpu-type": "h100"})
    decode = template(gpus=2, cpu="8")
    for tmpl, memory in ((prefill, "32Gi"), (decode, "96Gi")):
        for key in ("requests", "limits"):
            tmpl["spec"]["containers"][0]["resources"][key]["memory"] = memory
    pd = job("pd", [task("prefill", 4, prefill), task("decode", 3, decode, minAvailable=1)], min_available=5)
    return pd, nodes, hns, pods


def test_every_order_is_tried_when_there_are_few():
    from hypertopo.placement.jobs import parse_job
    from hypertopo.placement.ties import task_orders
    from hypertopo.placement.world import build_world

    pd, nodes, hns, pods = _a106()
    world = build_world(nodes, hns, pods, conf(GPU_BINPACK), None, None)
    job_in = parse_job(pd, 0, world.pods)
    orders = task_orders([job_in], 64)
    # indices 0, 1, 2 have a prefill and a decode pod: 2^3 orders, 7 besides the engine's own
    assert len(orders) == 7
    assert {tuple(o[(0, i)][1] for i in range(3)) for o in orders} == {
        (a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1)
    } - {(1, 1, 1)}
    capped = task_orders([job_in], 3)
    assert len(capped) == 3 and all(capped[0][(0, i)] == {1: 0, 0: 1} for i in range(3))  # reverse first


def test_an_outcome_only_a_mixed_order_gives_is_reported():
    # found in scenario a106: the outcome vc-scheduler produced needs decode-2 before
    # prefill-2 but prefill-0 before decode-0; neither the task order nor its reverse gives it
    from hypertopo.placement.jobs import parse_job
    from hypertopo.placement.session import run_session
    from hypertopo.placement.ties import task_order_ties
    from hypertopo.placement.world import build_world

    pd, nodes, hns, pods = _a106()
    result = predict(
        jobs=[pd], nodes=nodes, hypernodes=hns, pods=pods, scheduler_conf=conf(GPU_BINPACK), baseline=False
    )["jobs"][0]
    assert result["leaves"] == {"leaf-a": 6, "leaf-b": 1}
    tie = next(t for t in result["ties"] if t["level"] == "task-order")
    assert [o["leaves"] for o in tie["outcomes"]] == [{"leaf-a": 6, "leaf-b": 1}, {"leaf-a": 5, "leaf-b": 2}]
    assert tie["leaf_counts_differ"] and result["leaf_level_tie"]
    # the reverse order alone does not find it
    world = build_world(nodes, hns, pods, conf(GPU_BINPACK), None, None)
    job_ins = [parse_job(pd, 0, world.pods)]
    only_reverse = [{"ties": []}]
    task_order_ties(world, job_ins, run_session(world, job_ins), only_reverse, limit=1)
    assert only_reverse[0]["ties"] == []


def test_task_order_outcomes_have_no_probability_and_say_why():
    from hypertopo.placement.ties import NOT_COMPUTABLE, outcomes_text

    result = _predict("prefill")["jobs"][0]
    assert len(result["outcomes"]) >= 2
    assert [o["hypernode"] for o in result["outcomes"]][:1] == ["leaf-a"]
    assert all(o["probability"] is None for o in result["outcomes"])
    assert result["probability_note"] == NOT_COMPUTABLE["task-order"]
    assert outcomes_text(result).endswith("(Volcano picks at random; probabilities not computable)")
