"""Headroom: the reported maximum places and one more does not — checked with ``predict`` itself."""

import pytest

from hypertopo.placement import PlacementInputError, predict
from hypertopo.placement.changes import apply_changes, change
from hypertopo.placement.headroom import headroom

from .helpers import by_name, conf, hard, job, leaf, node, parent, task, template
from .synthetic import seed_cluster, seed_pd_jobs

DECODE = "default/pd-decode-service"


@pytest.fixture(scope="module")
def seed_inputs():
    nodes, hypernodes = seed_cluster()
    return {"jobs": seed_pd_jobs(), "nodes": nodes, "hypernodes": hypernodes}


def places_with(inputs, ref, task_name, replicas):
    """What ``predict`` (the public entry, with its replays) says about ``replicas``."""
    resized = apply_changes(inputs, [change("set_replicas", job=ref, task=task_name, replicas=replicas)])
    result = predict(**resized, baseline=False)
    name = ref.split("/")[1]
    got = by_name(result, name)
    return got["feasible"] and not got["pending"], got


def test_seed_can_decode_scale_from_12_to_20_and_stay_on_infiniband(seed_inputs):
    out = headroom(seed_inputs, job=DECODE, task="decode-worker", replicas=20)
    check = out["check"]
    assert check["places"] and check["placed"] == 20 and check["switch_types"] == ["ib"]
    assert check["tier"] == 1 and check["hypernode"] in {"ib-switch0", "ib-switch1"}
    (decode,) = out["jobs"]
    # 6 RTX 4090 nodes of 8 GPUs on each IB leaf, one GPU per pod, both leaves under ib-switch4
    assert decode["replicas"] == 12 and decode["max_replicas"] == 96 and decode["confirmed"]
    assert decode["at_max"]["pods_per_leaf"] == {"ib-switch0": 48, "ib-switch1": 48}
    assert decode["at_max"]["switch_types"] == ["ib"] and not decode["above_max"]["places"]
    # 96 is every free RTX 4090 GPU its pods may use: 97 is proven by the bound, not simulated ...
    assert decode["bound"] == 96 and decode["probes"] == 2
    assert decode["above_max"]["reasons"] == [
        "97 pods need more than the 96 that the free resources of every node they may use can hold"
    ]
    # ... and the simulation agrees
    assert places_with(seed_inputs, DECODE, "decode-worker", 96)[0]
    assert not places_with(seed_inputs, DECODE, "decode-worker", 97)[0]


def test_seed_capacity_per_hypernode_and_gpu_model(seed_inputs):
    out = headroom(seed_inputs)
    rows = {(h["hypernode"], s["role"]): s for h in out["hypernodes"] for s in h["shapes"]}
    tiers = {h["hypernode"]: h["tier"] for h in out["hypernodes"]}
    assert tiers == {
        "ib-switch0": 1,
        "ib-switch1": 1,
        "eth-switch2": 1,
        "eth-switch3": 1,
        "ib-switch4": 2,
        "eth-switch5": 2,
    }
    # today both PD jobs sit in one IB leaf (12 of its 48 H100 and 48 RTX 4090 GPUs each)
    used = [leaf for leaf in ("ib-switch0", "ib-switch1") if rows[(leaf, "decode")]["fit"] == 36]
    assert len(used) == 1
    other = ({"ib-switch0", "ib-switch1"} - set(used)).pop()
    assert rows[(other, "decode")]["by_gpu_model"] == {"rtx4090": 48}
    assert rows[(other, "prefill")]["by_gpu_model"] == {"h100": 48}
    assert rows[("ib-switch4", "prefill")]["fit"] == 84 and rows[("eth-switch5", "decode")]["fit"] == 0
    assert {j["job"] for j in out["jobs"]} == {DECODE, "default/pd-prefill-service"}


def small_cluster():
    """Two leaves of 3 nodes (8 GPUs each) under a spine; a running 4-GPU pod on a0."""
    nodes = [node(f"{side}{i}") for side in "ab" for i in range(3)]
    hns = [
        leaf("leaf-a", ["a0", "a1", "a2"]),
        leaf("leaf-b", ["b0", "b1", "b2"]),
        parent("spine", ["leaf-a", "leaf-b"]),
    ]
    pod = {
        "kind": "Pod",
        "metadata": {"name": "busy", "namespace": "x"},
        "spec": {
            "nodeName": "a0",
            "containers": [
                {
                    "name": "c",
                    "resources": {"requests": {"nvidia.com/gpu": 4}, "limits": {"nvidia.com/gpu": 4}},
                }
            ],
        },
        "status": {"phase": "Running"},
    }
    return nodes, hns, [pod]


def test_hard_tier_bounds_the_maximum_below_the_cluster_bound():
    nodes, hns, pods = small_cluster()
    inputs = {
        "jobs": [job("j", [task("w", 2, template(gpus=2))], topology=hard(1))],
        "nodes": nodes,
        "hypernodes": hns,
        "pods": pods,
        "scheduler_conf": conf(),
    }
    (got,) = headroom(inputs)["jobs"]
    # 48 GPUs, 4 taken by the running pod: room for 22 two-GPU pods (the bound), but a leaf has 24
    # GPUs and leaf-a 4 of them taken: 12 two-GPU pods in leaf-b at most
    assert got["bound"] == 22 and got["max_replicas"] == 12 and got["confirmed"]
    assert got["at_max"]["hypernode"] == "leaf-b" and got["probes"] >= 3
    assert places_with(inputs, "default/j", "w", 12)[0]
    ok, above = places_with(inputs, "default/j", "w", 13)
    assert not ok and above["reasons"]
    # without the tier bound the whole spine is allowed: 10 + 12 pods
    soft = dict(inputs, jobs=[job("j", [task("w", 2, template(gpus=2))])])
    assert headroom(soft)["jobs"][0]["max_replicas"] == 22


def test_displaced_jobs_are_named():
    nodes, hns, _pods = small_cluster()
    first = job("first", [task("w", 1, template(gpus=8))])
    second = job("second", [task("w", 1, template(gpus=8))])
    inputs = {"jobs": [first, second], "nodes": nodes, "hypernodes": hns, "scheduler_conf": conf()}
    out = headroom(inputs, job="default/first")
    (got,) = out["jobs"]
    assert got["max_replicas"] == 6 and got["displaces"] == ["default/second"]
    assert out["check"] is None


def test_deployment_headroom_and_bad_input():
    nodes, hns, _pods = small_cluster()
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "ns"},
        "spec": {"replicas": 2, "template": {**template(gpus=4), "metadata": {}}},
    }
    dep["spec"]["template"]["spec"]["schedulerName"] = "volcano"
    inputs = {"jobs": [dep], "nodes": nodes, "hypernodes": hns, "scheduler_conf": conf()}
    (got,) = headroom(inputs)["jobs"]
    assert got["task"] is None and got["max_replicas"] == 12 and got["confirmed"]
    with pytest.raises(PlacementInputError, match=r"job: no job ns/zz \(jobs: ns/d\)"):
        headroom(inputs, job="ns/zz")
    with pytest.raises(PlacementInputError, match=r"task: Deployment ns/d has no tasks"):
        headroom(inputs, job="ns/d", task="w")
    with pytest.raises(PlacementInputError, match=r"replicas: give the job"):
        headroom(inputs, replicas=3)
    with pytest.raises(PlacementInputError, match=r"task: job default/pd-decode-service has no task 'x'"):
        headroom({"jobs": seed_pd_jobs(), "nodes": nodes, "hypernodes": hns}, job=DECODE, task="x")


def test_up_to_caps_the_search_and_says_so(seed_inputs):
    (got,) = headroom(seed_inputs, job=DECODE, task="decode-worker", up_to=40)["jobs"]
    assert got["max_replicas"] == 40 and got["limited"] and got["confirmed"] is None
    assert got["above_max"] is None and got["at_max"]["places"]
    (full,) = headroom(seed_inputs, job=DECODE, task="decode-worker", up_to=500)["jobs"]
    assert full["max_replicas"] == 96 and not full["limited"] and full["confirmed"]


def test_a_partitioned_task_grows_by_whole_partitions():
    """Replicas of a task with a partitionPolicy are totalPartitions x partitionSize (the webhook
    refuses others): the search steps by partitionSize, and minPartitions follows minAvailable."""
    nodes, hns, _pods = small_cluster()
    part = {"totalPartitions": 1, "partitionSize": 4, "minPartitions": 1}
    inputs = {
        "jobs": [job("j", [task("w", 4, template(gpus=2), partitionPolicy=part, minAvailable=4)])],
        "nodes": nodes,
        "hypernodes": hns,
        "scheduler_conf": conf(),
    }
    (got,) = headroom(inputs)["jobs"]
    assert got["step"] == 4 and got["max_replicas"] % 4 == 0 and got["confirmed"]
    assert places_with(inputs, "default/j", "w", got["max_replicas"])[0]
    assert not places_with(inputs, "default/j", "w", got["max_replicas"] + 4)[0]
    resized = apply_changes(inputs, [change("set_replicas", job="default/j", task="w", replicas=8)])
    (spec,) = resized["jobs"][0]["spec"]["tasks"]
    assert spec["minAvailable"] == 8
    assert spec["partitionPolicy"] == {"totalPartitions": 2, "partitionSize": 4, "minPartitions": 2}


def test_the_maximum_places_in_every_random_task_order():
    """Generated scenario a010 (vc-scheduler bound 6 of 10 pods at the engine-order maximum 8 in
    the explain/headroom agreement run): with 8 prefill pods, an order that puts decode-1 before
    prefill-1 fills the A100 node with it, and only 4 prefill pods fit. The maximum is the count
    that places in every order (4); up to 8 places in some orders only, and says so."""
    from tests.agreement.generator import scenario
    from tests.agreement.run_explain import offline_inputs

    inputs = offline_inputs(scenario(10))
    out = headroom(inputs, job="agr/j2", task="prefill")
    prefill = next(j for j in out["jobs"] if j["task"] == "prefill")
    assert prefill["max_replicas"] == 4 and prefill["every_order"] and prefill["confirmed"]
    assert prefill["places_in_some_orders_up_to"] == 8
    # the engine's own order places 8, and another listed outcome binds 6 of the 10 pods
    ok, got = places_with(inputs, "agr/j2", "prefill", 8)
    assert ok
    (tie,) = [t for t in got["ties"] if t["level"] == "task-order"]
    assert sorted(sum(o["leaves"].values()) for o in tie["outcomes"]) == [6, 10]


def test_an_overcommitted_node_takes_nothing_from_the_bound():
    """Generated scenario a015: a running pod requests 48.5 CPUs on a 32-CPU node. Its negative
    idle CPU once lowered the resource bound of the other nodes (9 instead of 14), and the count
    above that bound was then reported as proven not to place while 10 did (vc-scheduler placed it)."""
    from tests.agreement.generator import scenario
    from tests.agreement.run_explain import offline_inputs

    inputs = offline_inputs(scenario(15))
    (prefill,) = [j for j in headroom(inputs, job="agr/j2", task="prefill")["jobs"] if j["task"] == "prefill"]
    assert prefill["bound"] == 14 and prefill["max_replicas"] >= 10
    assert places_with(inputs, "agr/j2", "prefill", 10)[0]
    above = prefill["max_replicas"] + 1
    assert prefill["confirmed"] and not places_with(inputs, "agr/j2", "prefill", above)[0]
