"""explain: the diagnosis per tier and candidate HyperNode, the job's status, bad input."""

import pytest

from hypertopo.placement.explain import JobNotFoundError, explain

from .helpers import conf, hard, job, leaf, node, parent, task, template
from .synthetic import pod_template, seed_cluster, volcano_job
from .synthetic import task as seed_task

GPU = "nvidia.com/gpu"


def seed_big_prefill(replicas=64, tier=1):
    """The seed with a hard tier-1 prefill Job asking for more H100 GPUs than any IB leaf has (48)."""
    nodes, hypernodes = seed_cluster()
    big = volcano_job(
        "big-prefill",
        [seed_task("prefill-worker", replicas, pod_template(["h100"], switch_types=["ib"]))],
        min_available=replicas,
        topology={"mode": "hard", "highestTierAllowed": tier},
        namespace="pd",
    )
    return {"jobs": [big], "nodes": nodes, "hypernodes": hypernodes}


def candidates(result, tier):
    rows = next(t for t in result["tiers"] if t["tier"] == tier)["candidates"]
    return {row["hypernode"]: row for row in rows}


def test_seed_h100_shortfall_per_leaf():
    result = explain(seed_big_prefill(), "pd/big-prefill", suggest=False)
    assert result["status"] == "infeasible" and result["feasible"] is False
    assert [t["tier"] for t in result["tiers"]] == [1]  # up to the allowed tier only
    rows = candidates(result, 1)
    assert set(rows) == {"ib-switch0", "ib-switch1", "eth-switch2", "eth-switch3"}
    for ib in ("ib-switch0", "ib-switch1"):
        row = rows[ib]
        assert not row["eligible"]
        assert row["need"]["gpus"] == {"h100": 64}
        assert row["need"]["tasks"]["prefill-worker"]["pods"] == 64
        assert row["free"]["gpus"]["h100"] == 48  # 6 H100 nodes x 8
        assert row["free"]["tasks"]["prefill-worker"] == {"pods": 48, "nodes": 6, "gpus": 48}
        assert row["short"]["gpus"] == {"h100": 16}
        assert row["excluded"] == {"required affinity gpu-type In [h100]": 58}
    for eth in ("eth-switch2", "eth-switch3"):
        row = rows[eth]
        assert row["short"]["gpus"] == {"h100": 64}
        # its 6 H100 nodes fail the switch-type requirement, the other 58 the GPU model
        assert row["excluded"]["required affinity topology.kubernetes.io/switch-type In [ib]"] == 6
        assert row["excluded"]["required affinity gpu-type In [h100]"] == 58
    # the IB leaves (short of the fewest pods) come first
    tier1 = result["tiers"][0]["candidates"]
    assert {tier1[0]["hypernode"], tier1[1]["hypernode"]} == {"ib-switch0", "ib-switch1"}


def test_soft_job_is_explained_up_to_the_virtual_root():
    inputs = seed_big_prefill(replicas=200)
    inputs["jobs"][0]["spec"]["networkTopology"] = {"mode": "soft", "highestTierAllowed": 1}
    result = explain(inputs, "pd/big-prefill", suggest=False)
    assert result["status"] == "infeasible"
    assert [t["tier"] for t in result["tiers"]] == [1, 2, 3, 4]
    root = result["tiers"][-1]["candidates"][0]
    # 24 H100 nodes in the cluster, 12 of them on IB: room for 96 of 200
    assert root["free"]["tasks"]["prefill-worker"]["pods"] == 96
    assert root["short"]["tasks"]["prefill-worker"]["pods"] == 104


def bound(name, node_name, gpus, priority=0):
    requests = {GPU: gpus}
    return {
        "metadata": {"name": name, "namespace": "other"},
        "spec": {
            "nodeName": node_name,
            "priority": priority,
            "containers": [{"name": "c", "resources": {"requests": requests, "limits": requests}}],
        },
        "status": {"phase": "Running"},
    }


def test_each_predicate_is_named_with_its_node_count():
    nodes = [
        node("ok", gpus=8),
        node("tainted", gpus=8, taints=[{"key": "dedicated", "value": "infer", "effect": "NoSchedule"}]),
        node("cordoned", gpus=8, unschedulable=True),
        node("busy", gpus=8),
        node("wrong-model", gpus=8, labels={"gpu-type": "a100"}),
    ]
    for n in nodes[:4]:
        n["metadata"]["labels"]["gpu-type"] = "h100"
    hypernodes = [leaf("leaf0", [n["metadata"]["name"] for n in nodes])]
    tmpl = template(gpus=4, selector={"gpu-type": "h100"})
    inputs = {
        "jobs": [job("j", [task("w", 4, tmpl)], min_available=4, topology=hard(1))],
        "nodes": nodes,
        "hypernodes": hypernodes,
        "pods": [bound("hog", "busy", 6)],
        "scheduler_conf": conf(),
    }
    result = explain(inputs, "default/j", suggest=False)
    assert result["status"] == "infeasible"
    row = candidates(result, 1)["leaf0"]
    assert row["excluded"] == {
        "untolerated taint dedicated=infer:NoSchedule": 1,
        "node unschedulable": 1,
        f"insufficient {GPU}": 1,
        "nodeSelector gpu-type=h100": 1,
    }
    assert row["free"]["tasks"]["w"] == {"pods": 2, "nodes": 1, "gpus": 8}
    assert row["short"]["tasks"]["w"] == {"pods": 2, "gpus": 8, "gpu_model": "h100"}
    # free GPUs by model over every node of the HyperNode, used or not by this task
    assert row["free"]["gpus"] == {"a100": 8, "h100": 26}


def test_a_running_job_is_shown_with_its_placement():
    nodes = [node("n0"), node("n1")]
    hypernodes = [leaf("leaf0", ["n0", "n1"])]
    running = job("j", [task("w", 2, template(gpus=8))], min_available=2, topology=hard(1))
    pods = []
    for i, n in enumerate(("n0", "n1")):
        pod = bound(f"j-w-{i}", n, 8)
        pod["metadata"]["namespace"] = "default"
        pods.append(pod)
    inputs = {
        "jobs": [running],
        "nodes": nodes,
        "hypernodes": hypernodes,
        "pods": pods,
        "scheduler_conf": conf(),
    }
    result = explain(inputs, "default/j")
    assert result["status"] == "running"
    assert result["placements"] == {"j-w-0": "n0", "j-w-1": "n1"}
    assert result["tiers"] == [] and result["suggestions"] == []


def test_a_placeable_job_says_where():
    nodes = [node("n0"), node("n1")]
    hypernodes = [leaf("la", ["n0"]), leaf("lb", ["n1"]), parent("spine", ["la", "lb"])]
    inputs = {
        "jobs": [job("j", [task("w", 2, template(gpus=8))], min_available=2, topology=hard(2))],
        "nodes": nodes,
        "hypernodes": hypernodes,
        "scheduler_conf": conf(),
    }
    result = explain(inputs, "j")  # a bare name is in namespace default
    assert result["status"] == "placeable" and result["hypernode"] == "spine"
    assert sorted(result["placements"].values()) == ["n0", "n1"]


def test_unknown_job_lists_the_jobs_that_exist():
    with pytest.raises(JobNotFoundError, match=r"job pd/nope not found; jobs: pd/big-prefill \(Job\)"):
        explain(seed_big_prefill(), "pd/nope")


# --------------------------------------------------------------------------- suggestions


def test_seed_suggests_raising_the_tier_to_2_first():
    result = explain(seed_big_prefill(), "pd/big-prefill")
    first = result["suggestions"][0]
    assert first["change"] == {"set_tier": {"job": "pd/big-prefill", "tier": 2}}
    assert first["predicted_feasible"] is True and first["hypernode"] == "ib-switch4"
    assert first["text"].startswith("raise the tier:") and "highestTierAllowed 2" in first["text"]
    assert result["no_single_change"] is False
    verdicts = [s["predicted_feasible"] for s in result["suggestions"]]
    assert verdicts == sorted(verdicts, reverse=True)  # the changes that place the job come first
    kinds = {next(iter(s["change"])): s for s in result["suggestions"]}
    # 2 H100 hosts (16 GPUs) under an IB leaf, or 48 replicas, also place it
    hosts = kinds["add_hosts"]
    assert hosts["change"]["add_hosts"]["count"] == 2 and hosts["predicted_feasible"]
    assert kinds["set_replicas"]["change"]["set_replicas"]["replicas"] == 48
    assert kinds["set_replicas"]["predicted_feasible"]
    # the Ethernet leaves hold 48 H100 GPUs each too: dropping switch-type alone is not enough
    relax = [s for s in result["suggestions"] if "relax_affinity" in s["change"]]
    switch = next(s for s in relax if s["change"]["relax_affinity"]["key"].endswith("switch-type"))
    assert switch["predicted_feasible"] is False


def test_suggests_evicting_the_lowest_priority_pods():
    nodes = [node("n0", labels={"gpu-type": "h100"}), node("n1", labels={"gpu-type": "h100"})]
    nodes.append(node("n2", labels={"gpu-type": "h100"}))
    hypernodes = [leaf("leaf0", ["n0", "n1"]), leaf("leaf1", ["n2"]), parent("spine", ["leaf0", "leaf1"])]
    pods = [bound("low", "n0", 4, priority=0), bound("high", "n1", 4, priority=100)]
    pods.append(bound("other-leaf", "n2", 8, priority=0))
    tmpl = template(gpus=4, selector={"gpu-type": "h100"})
    inputs = {
        "jobs": [job("j", [task("w", 3, tmpl)], min_available=3, topology=hard(1))],
        "nodes": nodes,
        "hypernodes": hypernodes,
        "pods": pods,
        "scheduler_conf": conf(),
    }
    result = explain(inputs, "default/j")
    row = candidates(result, 1)["leaf0"]
    assert row["short"]["tasks"]["w"] == {"pods": 1, "gpus": 4, "gpu_model": "h100"}
    evict = [s for s in result["suggestions"] if "remove_pods" in s["change"]]
    leaf0 = next(s for s in evict if s["hypernode"] == "leaf0")
    assert leaf0["change"] == {"remove_pods": {"pods": ["other/low"]}}  # not the priority-100 pod
    assert leaf0["predicted_feasible"] is True and leaf0["size"] == 1


def test_says_when_no_single_change_suffices():
    nodes = [node("h0", labels={"gpu-type": "h100"}), node("r0", labels={"gpu-type": "rtx4090"})]
    hypernodes = [leaf("la", ["h0"]), leaf("lb", ["r0"]), parent("spine", ["la", "lb"])]
    tasks = [
        task("prefill", 2, template(gpus=8, selector={"gpu-type": "h100"})),
        task("decode", 2, template(gpus=8, selector={"gpu-type": "rtx4090"})),
    ]
    inputs = {
        "jobs": [job("pd", tasks, min_available=4, topology=hard(1))],
        "nodes": nodes,
        "hypernodes": hypernodes,
        "scheduler_conf": conf(),
    }
    result = explain(inputs, "default/pd")
    assert result["status"] == "infeasible"
    assert result["suggestions"], "candidate changes are still listed, each with its verdict"
    assert not any(s["predicted_feasible"] for s in result["suggestions"])
    assert result["no_single_change"] is True
    kinds = {next(iter(s["change"])) for s in result["suggestions"]}
    assert {"set_tier", "add_hosts", "set_replicas"} <= kinds


def test_workers_do_not_change_the_result():
    inputs = seed_big_prefill()
    assert explain(inputs, "pd/big-prefill", workers=2) == explain(inputs, "pd/big-prefill", workers=1)


def test_partitions_that_fit_nowhere_are_short_even_where_the_pods_fit():
    nodes = [node(n) for n in ("a0", "a1", "b0", "b1")]
    hypernodes = [leaf("la", ["a0", "a1"]), leaf("lb", ["b0", "b1"]), parent("spine", ["la", "lb"])]
    partition = {"totalPartitions": 1, "partitionSize": 4, "networkTopology": hard(1)}
    tasks = [task("w", 4, template(gpus=8), partitionPolicy=partition)]
    inputs = {
        "jobs": [job("j", tasks, min_available=4, topology=hard(2))],
        "nodes": nodes,
        "hypernodes": hypernodes,
        "scheduler_conf": conf(),
    }
    result = explain(inputs, "default/j", suggest=False)
    assert result["status"] == "infeasible"
    spine = candidates(result, 2)["spine"]
    assert spine["need"]["tasks"]["w"]["partitions"] == {"count": 1, "size": 4, "tier": 1}
    assert spine["free"]["tasks"]["w"]["pods"] == 4  # the pods fit under the spine ...
    assert spine["free"]["tasks"]["w"]["partitions"] == 0  # ... but no leaf holds a partition of 4
    assert spine["short"]["tasks"]["w"] == {"pods": 0, "gpus": 0, "gpu_model": None, "partitions": 1}
    assert not spine["eligible"]
    leaf_a = candidates(result, 1)["la"]
    assert leaf_a["short"]["tasks"]["w"]["pods"] == 2 and leaf_a["short"]["tasks"]["w"]["partitions"] == 1


def deployment(name, replicas, *, volcano=True, min_member=None):
    tmpl = template(gpus=8)
    if volcano:
        tmpl["spec"]["schedulerName"] = "volcano"
        tmpl["metadata"] = {
            "annotations": {
                "volcano.sh/network-topology-mode": "hard",
                "volcano.sh/network-topology-highest-tier": "1",
            }
        }
    meta = {"name": name, "namespace": "ns"}
    if min_member is not None:
        meta["annotations"] = {"scheduling.volcano.sh/group-min-member": str(min_member)}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {"replicas": replicas, "template": tmpl},
    }


def test_a_deployment_gets_its_replica_suggestion():
    inputs = {
        "jobs": [deployment("d", 3, min_member=3)],
        "nodes": [node("a0"), node("a1")],
        "hypernodes": [leaf("la", ["a0", "a1"])],
        "scheduler_conf": conf(),
    }
    result = explain(inputs, "ns/d")
    assert result["status"] == "infeasible" and result["kind"] == "Deployment"
    assert candidates(result, 1)["la"]["short"]["tasks"]["d"]["pods"] == 1
    first = result["suggestions"][0]
    assert first["change"] == {"set_replicas": {"job": "ns/d", "replicas": 2}} and first["predicted_feasible"]


def test_a_workload_volcano_does_not_schedule_says_so():
    inputs = {"jobs": [deployment("e", 1, volcano=False)], "nodes": [node("a0")], "hypernodes": []}
    result = explain(inputs, "ns/e")
    assert result["status"] == "not_scheduled_by_volcano"
    assert result["tiers"] == [] and result["suggestions"] == []
    assert result["reasons"] == ["not scheduled by Volcano (schedulerName is not volcano)"]


def test_hosts_are_added_under_a_real_leaf_when_the_job_may_span_the_cluster():
    inputs = seed_big_prefill(replicas=200)
    inputs["jobs"][0]["spec"]["networkTopology"] = {"mode": "soft", "highestTierAllowed": 1}
    result = explain(inputs, "pd/big-prefill")
    hosts = next(s for s in result["suggestions"] if "add_hosts" in s["change"])
    params = hosts["change"]["add_hosts"]
    # 104 pods short: 13 H100 hosts, under an IB leaf (the Ethernet ones fail switch-type)
    assert params["gpu_model"] == "h100" and params["count"] == 13
    assert params["leaf"] in {"ib-switch0", "ib-switch1"} and hosts["predicted_feasible"] is True
