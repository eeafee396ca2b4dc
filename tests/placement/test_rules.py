"""Each rule of the Volcano v1.15.1 reference on small hand-made topologies."""

from hypertopo.placement.world import NTA_DISABLED

from .helpers import (
    GPU_BINPACK,
    by_name,
    conf,
    hard,
    job,
    leaf,
    node,
    nodes_of,
    parent,
    run,
    task,
    template,
    two_leaves,
)


def leaves_of(result, name):
    return by_name(result, name)["leaves"]


# --------------------------------------------------------------------------- topology modes


def test_soft_is_converted_to_hard_at_the_virtual_root():
    nodes, hns = two_leaves(per_leaf=2)
    big = [task("w", 3, template(gpus=8))]
    soft = run([job("j", big, topology={"mode": "soft", "highestTierAllowed": 1})], nodes, hns)
    j = by_name(soft, "j")
    assert j["feasible"] and j["hypernode"] == "spine" and j["tier"] == 2  # tier 1 does not bound a soft job
    assert "soft -> hard, highestTierAllowed 3" in j["mode"]
    assert any("does not bound the tier in Volcano >= 1.14.3" in w for w in j["warnings"])
    hard1 = by_name(run([job("j", big, topology=hard(1))], nodes, hns), "j")
    assert not hard1["feasible"] and hard1["placements"] == []
    assert any("tier <= 1" in r for r in hard1["reasons"])
    hard2 = by_name(run([job("j", big, topology=hard(2))], nodes, hns), "j")
    assert hard2["feasible"] and hard2["hypernode"] == "spine"


def test_soft_job_lands_in_the_lowest_tier_that_fits():
    nodes, hns = two_leaves(per_leaf=2)
    j = by_name(run([job("j", [task("w", 2, template(gpus=8))], topology={"mode": "soft"})], nodes, hns), "j")
    assert j["tier"] == 1 and j["hypernode"] == "leaf-a"
    assert {"level": "hypernode", "chosen": "leaf-a", "candidates": ["leaf-a", "leaf-b"]}.items() <= j[
        "ties"
    ][0].items()


def test_hard_without_tier_is_unconstrained_with_warning():
    nodes = [node("a0"), node("b0")]
    hns = [leaf("la", ["a0"]), leaf("lb", ["b0"]), parent("spine", ["la", "lb"])]
    two = [task("w", 2, template(gpus=8))]
    assert not by_name(run([job("j", two, topology=hard(1))], nodes, hns), "j")["feasible"]
    j = by_name(run([job("j", two, topology={"mode": "hard"})], nodes, hns), "j")
    assert j["feasible"] and j["tier"] == 2
    assert any("without highestTierAllowed/highestTierName is unconstrained" in w for w in j["warnings"])


def test_highest_tier_allowed_one_vs_two():
    nodes, hns = two_leaves(per_leaf=2)
    three = [task("w", 3, template(gpus=8))]
    assert not by_name(run([job("j", three, topology=hard(1))], nodes, hns), "j")["feasible"]
    assert by_name(run([job("j", three, topology=hard(2))], nodes, hns), "j")["tier"] == 2


def test_highest_tier_name_translation():
    nodes = [node("a0"), node("a1"), node("b0"), node("b1")]
    hns = [
        leaf("leaf-a", ["a0", "a1"], tier_name="leaf"),
        leaf("leaf-b", ["b0", "b1"], tier_name="leaf"),
        parent("spine", ["leaf-a", "leaf-b"], tier_name="spine"),
    ]
    three = [task("w", 3, template(gpus=8))]
    named = by_name(
        run([job("j", three, topology={"mode": "hard", "highestTierName": "leaf"})], nodes, hns), "j"
    )
    assert not named["feasible"] and named["mode"] == "hard, highestTierAllowed 1"
    assert by_name(
        run([job("j", three, topology={"mode": "hard", "highestTierName": "spine"})], nodes, hns), "j"
    )["feasible"]
    unknown = by_name(
        run([job("j", three, topology={"mode": "hard", "highestTierName": "rack"})], nodes, hns), "j"
    )
    assert unknown["feasible"]
    assert any("matches no HyperNode spec.tierName" in w for w in unknown["warnings"])


# --------------------------------------------------------------------------- gradients and pre-filter


def test_idle_prefilter_skips_small_hypernodes():
    nodes = [node("a0", gpus=4), node("a1", gpus=4), node("b0"), node("b1")]
    hns = [leaf("leaf-a", ["a0", "a1"]), leaf("leaf-b", ["b0", "b1"]), parent("spine", ["leaf-a", "leaf-b"])]
    fits_b = by_name(run([job("j", [task("w", 3, template(gpus=4))], topology=hard(1))], nodes, hns), "j")
    assert fits_b["hypernode"] == "leaf-b" and not any(t["level"] == "hypernode" for t in fits_b["ties"])
    too_big = by_name(run([job("j", [task("w", 5, template(gpus=4))], topology=hard(1))], nodes, hns), "j")
    assert not too_big["feasible"]
    assert any(
        "idle-resource pre-filter" in r and "leaf-a" in r and "leaf-b" in r for r in too_big["reasons"]
    )


def test_gpu_models_are_invisible_to_the_prefilter():
    nodes = [
        node("a0", labels={"gpu-type": "a100"}),
        node("a1", labels={"gpu-type": "a100"}),
        node("b0", labels={"gpu-type": "h100"}),
    ]
    hns = [leaf("leaf-a", ["a0", "a1"]), leaf("leaf-b", ["b0"]), parent("spine", ["leaf-a", "leaf-b"])]
    h100 = template(gpus=8, selector={"gpu-type": "h100"})
    j = by_name(run([job("j", [task("w", 2, h100)], topology=hard(1))], nodes, hns), "j")
    assert not j["feasible"]
    text = " ".join(j["reasons"])
    assert "GPU model h100 (gpu-type)" in text and "leaf-a: room for 0 on 0 matching nodes" in text
    assert "node affinity/selector mismatch" in text


# --------------------------------------------------------------------------- gang


def test_gang_is_all_or_nothing():
    nodes = [node("n0"), node("n1")]
    three = [task("w", 3, template(gpus=8))]
    j = by_name(run([job("j", three)], nodes), "j")
    assert not j["feasible"] and j["placements"] == [] and len(j["pending"]) == 3
    partial = by_name(run([job("j", three, min_available=2)], nodes), "j")
    assert partial["feasible"] and len(partial["placements"]) == 2 and partial["pending"] == ["j-w-2"]


def test_per_task_min_available():
    nodes = [node("n0"), node("n1"), node("n2", labels={"role": "b"})]
    tasks = [
        task("a", 2, template(gpus=8), minAvailable=2),
        task("b", 2, template(gpus=8, selector={"role": "b"}), minAvailable=2),
    ]
    # job minAvailable below the sum of task minimums: per-task minimums are not checked
    loose = by_name(run([job("j", tasks, min_available=3)], nodes), "j")
    assert loose["feasible"] and sorted(nodes_of(loose)) == ["j-a-0", "j-a-1", "j-b-0"]
    strict = by_name(run([job("j", tasks, min_available=4)], nodes), "j")
    assert not strict["feasible"] and strict["placements"] == []


def test_replicas_above_min_available_extra_pods_one_by_one():
    nodes = [node(f"a{i}") for i in range(3)] + [node(f"b{i}") for i in range(3)]
    hns = [
        leaf("leaf-a", ["a0", "a1", "a2"]),
        leaf("leaf-b", ["b0", "b1", "b2"]),
        parent("spine", ["leaf-a", "leaf-b"]),
    ]
    j = by_name(
        run([job("j", [task("w", 3, template(gpus=8))], min_available=2, topology=hard(1))], nodes, hns), "j"
    )
    assert j["feasible"] and j["leaves"] == {"leaf-a": 3}


def test_replicas_above_min_available_subjob_prefilter_needs_all_replicas():
    """[derived] the default subjob's pre-filter sums every pending replica (reference section 4.4)."""
    nodes, hns = two_leaves(per_leaf=2)
    j = by_name(
        run([job("j", [task("w", 3, template(gpus=8))], min_available=2, topology=hard(1))], nodes, hns), "j"
    )
    assert not j["feasible"]
    spread = by_name(
        run([job("j", [task("w", 3, template(gpus=8))], min_available=2, topology=hard(2))], nodes, hns), "j"
    )
    assert spread["feasible"] and spread["leaves"] == {"leaf-a": 2, "leaf-b": 1}


def test_partition_policy_subgroups_keep_each_partition_in_a_leaf():
    nodes = [node(f"a{i}") for i in range(3)] + [node(f"b{i}") for i in range(3)]
    hns = [
        leaf("leaf-a", ["a0", "a1", "a2"]),
        leaf("leaf-b", ["b0", "b1", "b2"]),
        parent("spine", ["leaf-a", "leaf-b"]),
    ]
    plain = by_name(run([job("j", [task("w", 4, template(gpus=8))], topology=hard(2))], nodes, hns), "j")
    assert plain["leaves"] == {"leaf-a": 3, "leaf-b": 1}
    partition = {"totalPartitions": 2, "partitionSize": 2, "networkTopology": hard(1)}
    parted = by_name(
        run(
            [job("j", [task("w", 4, template(gpus=8), partitionPolicy=partition)], topology=hard(2))],
            nodes,
            hns,
        ),
        "j",
    )
    assert parted["feasible"] and parted["leaves"] == {"leaf-a": 2, "leaf-b": 2}
    leaf_of = {p["pod"]: p["leaf"] for p in parted["placements"]}
    assert leaf_of["j-w-0"] == leaf_of["j-w-1"] and leaf_of["j-w-2"] == leaf_of["j-w-3"] != leaf_of["j-w-0"]
    assert any(t.get("subgroup") == "w-0" for t in parted["ties"])


def test_task_order_interleaves_by_index():
    nodes = [node("n0"), node("n1"), node("n2")]
    tasks = [task("prefill", 2, template(gpus=8)), task("decode", 2, template(gpus=8))]
    j = by_name(run([job("j", tasks, min_available=3)], nodes), "j")
    assert sorted(nodes_of(j)) == ["j-decode-0", "j-prefill-0", "j-prefill-1"]
    assert j["pending"] == ["j-decode-1"]


# --------------------------------------------------------------------------- scores


def test_hypernode_binpack_prefers_the_fuller_leaf():
    nodes, hns = two_leaves(per_leaf=2)
    bound = {
        "metadata": {"name": "busy", "namespace": "other"},
        "spec": {
            "nodeName": "b0",
            "containers": [
                {
                    "name": "c",
                    "resources": {"requests": {"nvidia.com/gpu": 4}, "limits": {"nvidia.com/gpu": 4}},
                }
            ],
        },
        "status": {"phase": "Running"},
    }
    one = [job("j", [task("w", 1, template(gpus=1))], topology=hard(1))]
    packed = by_name(run(one, nodes, hns, pods=[bound], scheduler_conf=conf(GPU_BINPACK)), "j")
    assert packed["hypernode"] == "leaf-b" and not any(t["level"] == "hypernode" for t in packed["ties"])
    # Volcano's default arguments do not binpack GPUs: both leaves score 0 -> a tie
    plain = by_name(run(one, nodes, hns, pods=[bound], scheduler_conf=conf()), "j")
    assert plain["hypernode"] == "leaf-a"
    assert plain["ties"][0]["level"] == "hypernode" and plain["ties"][0]["candidates"] == ["leaf-a", "leaf-b"]


def test_node_score_pulls_later_pods_to_the_first_pods_leaf_and_ties_are_reported():
    nodes, hns = two_leaves(per_leaf=2)
    j = by_name(run([job("j", [task("w", 3, template(gpus=8))], topology=hard(2))], nodes, hns), "j")
    assert j["leaves"] == {"leaf-a": 2, "leaf-b": 1}
    first = next(t for t in j["ties"] if t["pod"] == "j-w-0")
    assert first["candidates"] == ["a0", "a1", "b0", "b1"] and first["leaves"] == ["leaf-a", "leaf-b"]
    assert first["chosen"] == "a0"


def test_non_integer_weight_is_ignored_like_volcano():
    nodes, hns = two_leaves()
    result = run([job("j", [task("w", 1)])], nodes, hns, scheduler_conf=conf({"weight": "10"}))
    assert any("weight='10' is not an integer" in w for w in result["warnings"])


# --------------------------------------------------------------------------- cluster-wide effects


def test_two_parents_skip_topology_jobs_only():
    nodes = [node("a0"), node("a1")]
    hns = [leaf("la", ["a0"]), leaf("lb", ["a1"]), parent("p1", ["la"]), parent("p2", ["la", "lb"])]
    result = run([job("topo", [task("w", 1)], topology=hard(2)), job("plain", [task("w", 1)])], nodes, hns)
    topo = by_name(result, "topo")
    assert not topo["feasible"] and "HyperNodes are not ready for scheduling" in topo["reasons"][0]
    assert by_name(result, "plain")["feasible"]
    assert any("2 parents" in w for w in result["warnings"])


def test_nta_disabled_ignores_constraints():
    nodes, hns = two_leaves(per_leaf=2)
    result = run(
        [job("j", [task("w", 3, template(gpus=8))], topology=hard(1))],
        nodes,
        hns,
        scheduler_conf=conf(enabled=False),
    )
    assert NTA_DISABLED in result["warnings"]
    j = by_name(result, "j")
    assert j["feasible"] and j["tier"] == 2
    assert any(NTA_DISABLED in w for w in j["warnings"])


def test_pods_without_requests_are_best_effort():
    nodes, hns = two_leaves()
    empty = {"spec": {"containers": [{"name": "c", "image": "x"}]}}
    j = by_name(run([job("j", [task("w", 2, empty)], topology=hard(1))], nodes, hns), "j")
    assert j["feasible"] and len(j["placements"]) == 2
    assert any("no resource requests" in w and "BestEffort" in w for w in j["warnings"])


def test_bound_pods_consume_resources():
    nodes, hns = two_leaves(per_leaf=2)
    pods = [
        {
            "metadata": {"name": f"old{i}", "namespace": "x"},
            "spec": {
                "nodeName": f"a{i}",
                "containers": [{"name": "c", "resources": {"limits": {"nvidia.com/gpu": 8}}}],
            },
            "status": {"phase": "Running"},
        }
        for i in range(2)
    ]
    j = by_name(
        run([job("j", [task("w", 2, template(gpus=8))], topology=hard(1))], nodes, hns, pods=pods), "j"
    )
    assert j["hypernode"] == "leaf-b"


def test_later_jobs_see_earlier_placements():
    nodes, hns = two_leaves(per_leaf=2)
    jobs = [job(name, [task("w", 2, template(gpus=8))], topology=hard(1)) for name in ("first", "second")]
    result = run(jobs, nodes, hns)
    assert by_name(result, "first")["hypernode"] == "leaf-a"
    assert by_name(result, "second")["hypernode"] == "leaf-b"


def test_bare_podgroup_with_pending_pods():
    nodes, hns = two_leaves(per_leaf=2)
    pg = {
        "apiVersion": "scheduling.volcano.sh/v1beta1",
        "kind": "PodGroup",
        "metadata": {"name": "pg", "namespace": "ns"},
        "spec": {"minMember": 2, "networkTopology": hard(1)},
    }
    pods = [
        {
            "metadata": {
                "name": f"p-{i}",
                "namespace": "ns",
                "annotations": {"scheduling.k8s.io/group-name": "pg"},
            },
            "spec": {
                "schedulerName": "volcano",
                "containers": [
                    {
                        "name": "c",
                        "resources": {"requests": {"nvidia.com/gpu": 8}, "limits": {"nvidia.com/gpu": 8}},
                    }
                ],
            },
            "status": {"phase": "Pending"},
        }
        for i in range(2)
    ]
    j = by_name(run([pg], nodes, hns, pods=pods), "pg")
    assert j["feasible"] and j["tier"] == 1 and sorted(nodes_of(j)) == ["p-0", "p-1"]


def test_deployment_annotations_and_scheduler_name():
    nodes, hns = two_leaves(per_leaf=2)
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "decode",
            "namespace": "default",
            "annotations": {"scheduling.volcano.sh/group-min-member": "2"},
        },
        "spec": {
            "replicas": 2,
            "template": {
                "metadata": {
                    "annotations": {
                        "volcano.sh/network-topology-mode": "hard",
                        "volcano.sh/network-topology-highest-tier": "1",
                    }
                },
                "spec": {
                    "schedulerName": "volcano",
                    "containers": [{"name": "c", "resources": {"limits": {"nvidia.com/gpu": 8}}}],
                },
            },
        },
    }
    j = by_name(run([deploy], nodes, hns), "decode")
    assert j["feasible"] and j["tier"] == 1 and j["mode"] == "hard, highestTierAllowed 1"
    deploy["spec"]["template"]["spec"].pop("schedulerName")
    other = by_name(run([deploy], nodes, hns), "decode")
    assert not other["feasible"] and any("not volcano" in w for w in other["warnings"])
