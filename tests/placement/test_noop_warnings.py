"""Warnings for constraints Volcano v1.15.1 silently does not apply (issue #13 item 5), each
shown next to the placement the engine predicts under them."""

from __future__ import annotations

from hypertopo.placement import preflight

from .helpers import by_name, hard, job, leaf, node, parent, run, task, template, two_leaves


def test_unknown_highest_tier_name_applies_no_tier_and_says_which_names_exist():
    nodes, hns = two_leaves()
    hns[2]["spec"]["tierName"] = "spine"
    three = [task("w", 3, template(gpus=8))]
    result = run([job("j", three, topology={"mode": "hard", "highestTierName": "leaf"})], nodes, hns)
    j = by_name(result, "j")
    # no tier constraint: the 3 pods span both leaves, which "leaf" (tier 1) would forbid
    assert j["feasible"] and j["hypernode"] == "spine"
    warning = next(w for w in j["warnings"] if "highestTierName 'leaf'" in w)
    assert "matches no HyperNode spec.tierName (known: spine)" in warning
    assert "applies no tier constraint" in warning
    assert "session.go, translateHighestTierNameToAllowed" in warning


def test_unknown_highest_tier_name_of_a_partition_is_named():
    nodes, hns = two_leaves()
    tasks = [
        task(
            "w",
            2,
            template(gpus=8),
            partitionPolicy={
                "totalPartitions": 1,
                "partitionSize": 2,
                "networkTopology": {"mode": "hard", "highestTierName": "rack"},
            },
        )
    ]
    j = by_name(run([job("j", tasks, topology=hard(2))], nodes, hns), "j")
    assert any(
        w.startswith("partition w: highestTierName 'rack' matches no HyperNode") for w in j["warnings"]
    )


def test_soft_partition_is_bounded_only_by_the_job_tier():
    nodes, hns = two_leaves()
    tasks = [
        task(
            "w",
            2,
            template(gpus=8),
            partitionPolicy={
                "totalPartitions": 1,
                "partitionSize": 2,
                "networkTopology": {"mode": "soft", "highestTierAllowed": 1},
            },
        )
    ]
    j = by_name(run([job("j", tasks, topology=hard(2))], nodes, hns), "j")
    warning = next(w for w in j["warnings"] if w.startswith("partition w: networkTopology mode soft"))
    assert "hard with the job's tier 2 as the limit" in warning and "convertSoftToHardTopology" in warning


def test_soft_job_warning_cites_the_conversion():
    nodes, hns = two_leaves()
    soft = {"mode": "soft", "highestTierAllowed": 1}
    j = by_name(run([job("j", [task("w", 3, template(gpus=8))], topology=soft)], nodes, hns), "j")
    # soft with tier 1 does not keep the three pods in one leaf: they span the spine
    assert j["feasible"] and j["hypernode"] == "spine"
    warning = next(w for w in j["warnings"] if "mode soft (highestTierAllowed 1) does not bound" in w)
    assert "adjustNetworkTopologySpec -> convertSoftToHardTopology" in warning


def test_mixed_depth_tree_warns_about_skipped_tiers_high_leaves_and_bare_nodes():
    nodes = [node("a0"), node("a1"), node("b0"), node("c0"), node("x0")]
    hns = [
        leaf("leaf-a", ["a0", "a1"]),
        leaf("leaf-b", ["b0"]),
        parent("spine", ["leaf-a"], tier=2),
        # leaf-b hangs directly under the tier-3 core; c0 is only in a tier-2 HyperNode
        leaf("rack-c", ["c0"], tier=2),
        parent("core", ["spine", "leaf-b", "rack-c"], tier=3),
    ]
    result = run([job("j", [task("w", 1, template(gpus=8))], topology=hard(2))], nodes, hns)
    text = "\n".join(result["warnings"])
    assert "HyperNode tree of mixed depth: branches skip a tier (leaf-b (tier 1) under core (tier 3))" in text
    assert "hyperNodeGradientFn" in text
    assert "nodes whose lowest HyperNode is above tier 1: c0" in text and "FindHyperNodeForNode" in text
    assert "nodes in no HyperNode: x0" in text


def test_a_regular_tree_has_none_of_these_warnings():
    nodes, hns = two_leaves()
    result = run([job("j", [task("w", 1, template(gpus=8))], topology=hard(1))], nodes, hns)
    assert not any("mixed depth" in w or "no HyperNode" in w for w in result["warnings"])
    _ok, table, _reasons = preflight(result)
    assert "j" in table


def test_the_preflight_table_shows_the_warnings():
    nodes, hns = two_leaves()
    hns[2]["spec"]["tierName"] = "spine"
    result = run(
        [job("j", [task("w", 3, template(gpus=8))], topology={"mode": "hard", "highestTierName": "leaf"})],
        nodes,
        hns,
    )
    _ok, table, _reasons = preflight(result)
    assert "warning: j: highestTierName 'leaf' matches no HyperNode spec.tierName" in table
