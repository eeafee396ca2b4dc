"""verify(): predicted vs actual placement, each failure rule, and what is only a difference."""

from __future__ import annotations

import copy

import pytest

from hypertopo.report.verify import outcome_words, requires_ib, verify

from .conftest import DECODE_NODES, PREFILL_NODES, make_pod, pods_from


def job_spec(name: str, mode: str, tier: int) -> dict:
    return {
        "apiVersion": "batch.volcano.sh/v1alpha1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"networkTopology": {"mode": mode, "highestTierAllowed": tier}},
    }


def move(pods: list[dict], pod_name: str, node: str | None) -> list[dict]:
    out = copy.deepcopy(pods)
    for pod in out:
        if pod["metadata"]["name"] == pod_name:
            pod["spec"]["nodeName"] = node
            return out
    raise AssertionError(pod_name)


PREFILL_0 = "pd-prefill-service-prefill-worker-0"
DECODE_0 = "pd-decode-service-decode-worker-0"


def test_exact_match_is_ok_with_hypernode_tier_and_leaves(seed_model, predicted, pods):
    result = verify(predicted, pods, seed_model)
    assert result["ok"], result["failures"]
    assert result["failures"] == [] and result["differences"] == []
    assert result["summary"] == {"pods": 24, "bound": 24, "matching_nodes": 24, "running_ready": 24}
    for job in result["jobs"]:
        assert job["predicted"]["hypernode"] == job["actual"]["hypernode"] == "ib-switch4"
        assert job["predicted"]["tier"] == job["actual"]["tier"] == 2
        assert job["actual"]["pods_per_leaf"] == {"ib-switch0": 6, "ib-switch1": 6}
        assert job["predicted"]["pods_per_leaf"] == job["actual"]["pods_per_leaf"]
        assert all(p["match"] for p in job["pods"])
    prefill = result["jobs"][0]["pods"]
    assert [p["actual_node"] for p in prefill] == PREFILL_NODES
    assert {p["role"] for p in prefill} == {"prefill"}
    assert {p["role"] for p in result["jobs"][1]["pods"]} == {"decode"}


def test_pair_classes_achieved(seed_model, predicted, pods):
    net = verify(predicted, pods, seed_model)["network"]["actual"]
    # 6 + 6 pods per role on two IB leaves: C(6,2)*2 = 30 same-leaf pairs, 6*6 = 36 across leaves.
    assert net["prefill-internal"]["pairs"] == 66
    assert net["prefill-internal"]["classes"] == {"same_ib_leaf": 30, "same_ib_aggregation": 36}
    assert net["decode-internal"]["classes"] == {"same_ib_leaf": 30, "same_ib_aggregation": 36}
    assert net["prefill-decode"]["pairs"] == 144
    assert net["prefill-decode"]["classes"] == {"same_ib_leaf": 72, "same_ib_aggregation": 72}
    assert net["prefill-decode"]["bandwidth_gbps"]["min"] == 200
    kv = net["prefill-decode"]["kv_ms"]
    # 1.25 GiB over 200 Gbit/s = 53.7 ms, plus one host copy into the RTX 4090 (no GPUDirect RDMA)
    assert 107 < kv["mean"] <= kv["worst"] < 108
    assert net["prefill-decode"]["host_staged_pairs"] == 144
    assert net["prefill-decode"]["latency_us"]["max"] == 5  # the seed table's range, not a made-up value


def test_a_pod_in_its_predicted_group_matches_and_is_no_difference(seed_model, predicted, pods):
    # the engine predicts node0 for pod 0, interchangeable with node4 (equal scores: Volcano picks at random)
    predicted["jobs"][0]["placements"][0]["candidates"] = ["node0", "node4"]
    result = verify(predicted, move(pods, PREFILL_0, "node4"), seed_model)
    assert result["ok"] and result["differences"] == []
    row = result["jobs"][0]["pods"][0]
    assert (row["predicted_node"], row["actual_node"], row["match"]) == ("node0", "node4", True)
    assert row["candidates"] == ["node0", "node4"]
    assert result["summary"]["matching_nodes"] == 24
    # a node outside the group is a difference (the prediction was deterministic there)
    result = verify(predicted, move(pods, PREFILL_0, "node7"), seed_model)
    assert result["ok"] and result["jobs"][0]["pods"][0]["match"] is False
    assert result["differences"] == [f"pod {PREFILL_0}: predicted one of node0, node4, actual node7"]


def test_a_group_listed_in_part_matches_under_its_leaves(seed_model, predicted, pods):
    placement = predicted["jobs"][0]["placements"][0]
    placement.update(candidates=["node0", "node4"], candidates_count=9, candidate_leaves=["ib-switch0"])
    result = verify(predicted, move(pods, PREFILL_0, "node7"), seed_model)
    assert result["differences"] == [] and result["jobs"][0]["pods"][0]["match"]
    pods = move(pods, "pd-decode-service-decode-worker-3", "node2")  # no group for this pod: a difference
    result = verify(predicted, pods, seed_model)
    assert result["differences"] == ["pod pd-decode-service-decode-worker-3: predicted node11, actual node2"]


def test_other_leaf_changes_counts_and_hypernode_as_differences(seed_model, predicted, pods):
    # All prefill pods on ib-switch0 in the prediction, but one landed on ib-switch1.
    job = predicted["jobs"][0]
    job["placements"] = [dict(p, node=f"node{i}") for i, p in enumerate(job["placements"])]
    job["hypernode"], job["tier"] = "ib-switch0", 1
    pods = pods_from(predicted)
    pods = move(pods, PREFILL_0, "node64")
    result = verify(predicted, pods, seed_model)
    assert result["ok"]
    text = "\n".join(result["differences"])
    assert "predicted HyperNode ib-switch0 (tier 1), actual ib-switch4 (tier 2)" in text
    assert "pods per leaf predicted ib-switch0: 12, actual ib-switch0: 11, ib-switch1: 1" in text


@pytest.mark.parametrize("source", ["jobs", "engine"])
def test_hard_constraint_violated_fails(seed_model, predicted, pods, source):
    pods = move(pods, PREFILL_0, "node64")  # prefill now spans both IB leaves... and tier 1 is the limit
    kwargs = {}
    if source == "jobs":
        kwargs["jobs"] = [job_spec("pd-prefill-service", "hard", 1)]
    else:
        predicted["jobs"][0].update(
            hard=True,
            mode="hard, highestTierAllowed 1",
            constraint={"mode": "hard", "highest_tier_allowed": 1},
        )
    result = verify(predicted, pods, seed_model, **kwargs)
    assert not result["ok"]
    assert result["failures"] == [
        "job pd-prefill-service: mode hard, highestTierAllowed 1, but its pods are only together "
        "under ib-switch4 (tier 2)"
    ]
    assert result["jobs"][0]["constraint"] == {"mode": "hard", "highest_tier_allowed": 1}


def test_hard_constraint_met_and_soft_never_fails(seed_model, predicted, pods):
    jobs = [job_spec("pd-prefill-service", "hard", 2), job_spec("pd-decode-service", "soft", 1)]
    assert verify(predicted, pods, seed_model, jobs=jobs)["ok"]
    # soft at tier 1 with pods across leaves: reported, not failed
    spread = move(pods, DECODE_0, "node130")
    result = verify(predicted, spread, seed_model, jobs=jobs, ib_required_roles=())
    assert all("highestTierAllowed" not in f for f in result["failures"])


def test_ethernet_landing_of_ib_required_pod_fails(seed_model, predicted, pods):
    pods = move(pods, DECODE_0, "node129")  # RTX 4090 under eth-switch2
    result = verify(predicted, pods, seed_model)
    assert not result["ok"]
    assert result["failures"] == [
        f"pod {DECODE_0}: on node129 under Ethernet leaf eth-switch2, but its pod requires switch-type ib"
    ]
    decode = result["jobs"][1]
    assert decode["actual"]["hypernode"] == "eth-switch6" and decode["actual"]["tier"] == 3


def test_ethernet_landing_of_configured_ib_role_fails(seed_model, predicted):
    pods = [
        make_pod(p["pod"], job["name"], p["task"], p["node"], ib=False)
        for job in predicted["jobs"]
        for p in job["placements"]
    ]
    pods = move(pods, DECODE_0, "node129")
    assert verify(predicted, pods, seed_model)["ok"]  # nothing asks for IB: only a difference
    result = verify(predicted, pods, seed_model, ib_required_roles=["decode"])
    assert result["failures"] == [
        f"pod {DECODE_0}: on node129 under Ethernet leaf eth-switch2, but role decode is IB-required"
    ]


def test_unbound_missing_and_unknown_node_fail(seed_model, predicted, pods):
    pods = move(pods, PREFILL_0, None)
    pods = move(pods, DECODE_0, "gpu-node-999")
    pods = [p for p in pods if p["metadata"]["name"] != "pd-decode-service-decode-worker-11"]
    result = verify(predicted, pods, seed_model)
    assert not result["ok"]
    assert result["failures"] == [
        f"pod {PREFILL_0}: not bound to a node (spec.nodeName is empty)",
        f"pod {DECODE_0}: bound to gpu-node-999, which is not in the inventory",
        "pod pd-decode-service-decode-worker-11: predicted on node86 but no such pod exists",
    ]
    assert result["summary"]["bound"] == 22  # 24 - unbound - missing; the unknown node is bound


def test_extra_pod_is_a_difference_and_foreign_pods_are_ignored(seed_model, predicted, pods):
    pods = [
        *pods,
        make_pod("pd-decode-service-decode-worker-12", "pd-decode-service", "decode-worker", "node91"),
        make_pod("someone-else-0", "someone-else", "worker", "node130", ib=False),
    ]
    result = verify(predicted, pods, seed_model)
    assert result["ok"]
    assert result["differences"] == [
        "pod pd-decode-service-decode-worker-12: bound to node91 but not in the prediction",
        "job pd-decode-service: pods per leaf predicted ib-switch0: 6, ib-switch1: 6, "
        "actual ib-switch0: 6, ib-switch1: 7",
    ]
    assert all("someone-else" not in p["pod"] for j in result["jobs"] for p in j["pods"])


def test_predicted_infeasible_but_bound_is_a_difference(seed_model, predicted, pods):
    predicted["jobs"][1]["feasible"] = False
    result = verify(predicted, pods, seed_model)
    assert result["ok"]
    assert result["differences"] == ["job pd-decode-service: predicted infeasible, but 12 pod(s) were bound"]


def test_role_keywords_and_podgroup_pods(seed_model):
    predicted = {
        "jobs": [
            {
                "kind": "PodGroup",
                "name": "llm",
                "namespace": "serving",
                "feasible": True,
                "hypernode": "ib-switch0",
                "tier": 1,
                "placements": [
                    {"pod": "llm-ctx-0", "task": "ctx", "node": "node0"},
                    {"pod": "llm-gen-0", "task": "gen", "node": "node2"},
                ],
            }
        ],
        "warnings": [],
    }
    pods = []
    for name, node in (("llm-ctx-0", "node0"), ("llm-gen-0", "node2")):
        pod = make_pod(name, "", "", node)
        pod["metadata"]["namespace"] = "serving"
        pod["metadata"]["labels"] = {}
        pod["metadata"]["annotations"] = {"scheduling.k8s.io/group-name": "llm"}
        pods.append(pod)
    result = verify(predicted, pods, seed_model, role_keywords={"prefill": "ctx", "decode": "gen"})
    assert result["ok"] and not result["differences"]
    assert [p["role"] for p in result["jobs"][0]["pods"]] == ["prefill", "decode"]
    assert result["network"]["actual"]["prefill-decode"]["classes"] == {"same_ib_leaf": 1}


def test_requires_ib_reads_affinity_and_node_selector():
    assert requires_ib(make_pod("a", "j", "t", None)["spec"])
    assert not requires_ib(make_pod("a", "j", "t", None, ib=False)["spec"])
    assert requires_ib({"nodeSelector": {"topology.kubernetes.io/switch-type": "ib"}})
    either = {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "topology.kubernetes.io/switch-type",
                                    "operator": "In",
                                    "values": ["ib"],
                                }
                            ]
                        },
                        {"matchExpressions": [{"key": "gpu-type", "operator": "In", "values": ["h100"]}]},
                    ]
                }
            }
        }
    }
    assert not requires_ib(either)  # terms are ORed: the second allows Ethernet nodes


def test_decode_nodes_fixture_is_the_articles(seed_model):
    assert {seed_model["hosts"][n]["gpu_model"] for n in DECODE_NODES} == {"rtx4090"}
    assert {seed_model["hosts"][n]["gpu_model"] for n in PREFILL_NODES} == {"h100"}


def _leaf_tie_prediction(predicted: dict) -> dict:
    """Prefill predicted on ib-switch0 or ib-switch1 (1/2 each), as the engine reports the seed."""
    job = predicted["jobs"][0]
    ib0 = [f"node{i}" for i in (0, 1, 5, 10, 15, 20)]
    ib1 = [f"node{i}" for i in (64, 65, 70, 75, 80, 85)]
    job["placements"] = [dict(p, node=ib0[i % 6], candidates=ib0) for i, p in enumerate(job["placements"])]
    job["hypernode"], job["tier"], job["leaves"] = "ib-switch0", 1, {"ib-switch0": 12}
    job["outcomes"] = [
        {
            "feasible": True,
            "hypernode": leaf,
            "tier": 1,
            "pods_per_leaf": {leaf: 12},
            "probability": 0.5,
            "candidates": {p["pod"]: nodes for p in job["placements"]},
        }
        for leaf, nodes in (("ib-switch0", ib0), ("ib-switch1", ib1))
    ]
    return predicted


def test_outcome_2_of_2_is_as_predicted_without_differences(seed_model, predicted, pods):
    assert {j["outcome"] for j in verify(predicted, pods, seed_model)["jobs"]} == {"predicted"}
    predicted = _leaf_tie_prediction(predicted)
    ib1 = [f"node{i}" for i in (85, 80, 75, 70, 65, 64)] * 2  # any order within the group
    for i in range(12):
        pods = move(pods, f"pd-prefill-service-prefill-worker-{i}", ib1[i])
    result = verify(predicted, pods, seed_model)
    prefill = result["jobs"][0]
    assert result["ok"] and prefill["outcome"] == "predicted"
    assert (prefill["outcome_index"], prefill["outcome_count"]) == (2, 2)
    assert outcome_words(prefill) == "as predicted: outcome 2 of 2"
    assert prefill["actual"]["hypernode"] == "ib-switch1"
    assert result["differences"] == [] and all(p["match"] for p in prefill["pods"])
    assert prefill["predicted"]["outcomes"] == (
        "ib-switch0 or ib-switch1 (Volcano picks at random, 1/2 each)"
    )
    # half on each leaf is no outcome the engine reported: a difference
    for i in range(6):
        pods = move(pods, f"pd-prefill-service-prefill-worker-{i}", f"node{(0, 1, 5, 10, 15, 20)[i]}")
    result = verify(predicted, pods, seed_model)
    prefill = result["jobs"][0]
    assert prefill["outcome"] == "other" and prefill["actual"]["hypernode"] == "ib-switch4"
    assert outcome_words(prefill) == "NO"
    assert any(
        d.startswith("job pd-prefill-service: predicted HyperNode ib-switch0 or ib-switch1")
        for d in result["differences"]
    )


def test_outcome_node_tie_across_leaves(seed_model, predicted, pods):
    # the engine reported pod 0's node as a tie between a node of ib-switch0 and one of ib-switch1
    job = predicted["jobs"][0]
    job["ties"] = [
        {
            "level": "node",
            "pod": PREFILL_0,
            "chosen": "node0",
            "candidates": ["node0", "node64"],
            "count": 2,
            "leaves": ["ib-switch0", "ib-switch1"],
        }
    ]
    job["placements"][0]["candidates"] = ["node0", "node64"]
    job["hypernode"], job["tier"] = "ib-switch0", 1
    prefill = verify(predicted, move(pods, PREFILL_0, "node64"), seed_model)["jobs"][0]
    assert prefill["actual"]["hypernode"] == "ib-switch4"
    assert prefill["outcome"] == "other"  # the predicted HyperNode was ib-switch0: not this one
    job["hypernode"], job["tier"] = "ib-switch4", 2
    prefill = verify(predicted, move(pods, PREFILL_0, "node64"), seed_model)["jobs"][0]
    assert prefill["outcome"] == "predicted" and prefill["pods"][0]["match"]


def set_status(pods: list[dict], pod_name: str, status: dict) -> list[dict]:
    out = copy.deepcopy(pods)
    for pod in out:
        if pod["metadata"]["name"] == pod_name:
            pod["status"] = status
            return out
    raise AssertionError(pod_name)


def test_bound_pod_pending_or_not_ready_fails_naming_it(seed_model, predicted, pods):
    pods = set_status(pods, PREFILL_0, {"phase": "Pending"})
    pods = set_status(
        pods, DECODE_0, {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}
    )
    result = verify(predicted, pods, seed_model)
    assert not result["ok"]
    assert result["failures"] == [
        f"pod {PREFILL_0}: phase Pending on node0, not Running",
        f"pod {DECODE_0}: Running on node2 but not Ready",
    ]
    assert result["summary"]["running_ready"] == 22
    row = result["jobs"][0]["pods"][0]
    assert (row["pod"], row["phase"], row["ready"]) == (PREFILL_0, "Pending", False)
    # without the requirement (a cluster without kubelets) a bound pod is enough
    assert verify(predicted, pods, seed_model, require_running=False)["ok"]


def vcjob(name: str, phase: str | None, running: int = 12) -> dict:
    status = {"state": {"phase": phase}, "running": running} if phase else {}
    return {
        "apiVersion": "batch.volcano.sh/v1alpha1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"minAvailable": 12},
        "status": status,
    }


def test_volcano_job_not_running_fails_naming_it(seed_model, predicted, pods):
    running = [vcjob("pd-prefill-service", "Running"), vcjob("pd-decode-service", "Running")]
    result = verify(predicted, pods, seed_model, workloads=running)
    assert result["ok"], result["failures"]
    assert [j["state"] for j in result["jobs"]] == [
        {"kind": "Job", "phase": "Running", "ok": True, "detail": "phase Running, 12 pod(s) running"}
    ] * 2
    pending = [vcjob("pd-prefill-service", "Pending", 0), running[1]]
    result = verify(predicted, pods, seed_model, workloads=pending)
    assert result["failures"] == [
        "Job default/pd-prefill-service: not Running: phase Pending, 0 pod(s) running"
    ]
    result = verify(predicted, pods, seed_model, workloads=running[1:])
    assert result["failures"] == ["Job default/pd-prefill-service: not found in the cluster"]
    # no listing given: the workloads' state is not checked
    assert verify(predicted, pods, seed_model)["jobs"][0]["state"] is None


def deployment_case(available: int, condition: str) -> tuple[dict, list[dict], dict]:
    """A 3-replica Deployment predicted on node0, node1, node5 and its live replicas and object."""
    predicted = {
        "jobs": [
            {
                "kind": "Deployment",
                "name": "pd-prefill-service",
                "namespace": "default",
                "feasible": True,
                "hypernode": "ib-switch0",
                "tier": 1,
                "placements": [
                    {"pod": f"pd-prefill-service-{i}", "task": "", "node": n}
                    for i, n in enumerate(("node0", "node1", "node5"))
                ],
                "ties": [{"level": "node", "pod": "pd-prefill-service-2", "candidates": ["node5", "node10"]}],
                "outcomes": [
                    {
                        "feasible": True,
                        "hypernode": "ib-switch0",
                        "tier": 1,
                        "pods_per_leaf": {"ib-switch0": 3},
                        "probability": 1.0,
                        "candidates": {
                            "pd-prefill-service-0": ["node0"],
                            "pd-prefill-service-1": ["node1"],
                            "pd-prefill-service-2": ["node5", "node10"],
                        },
                    }
                ],
            }
        ],
        "warnings": [],
    }
    pods = []
    for suffix, node in (("x7k2p", "node10"), ("a1b2c", "node1"), ("zz9q8", "node0")):
        pod = make_pod(f"pd-prefill-service-5d8f9c7b6-{suffix}", "", "", node)
        meta = pod["metadata"]
        meta["labels"] = {"app.kubernetes.io/name": "pd-prefill-service", "pod-template-hash": "5d8f9c7b6"}
        meta["annotations"] = {
            "scheduling.k8s.io/group-name": "podgroup-0b6c1f5e-7d1a-4a57-9a6e-3c1f0d1e2a3b"
        }
        meta["ownerReferences"] = [
            {"kind": "ReplicaSet", "name": "pd-prefill-service-5d8f9c7b6", "uid": "u1"}
        ]
        pods.append(pod)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "pd-prefill-service", "namespace": "default"},
        "spec": {"replicas": 3},
        "status": {
            "availableReplicas": available,
            "conditions": [{"type": "Available", "status": condition}],
        },
    }
    return predicted, pods, deployment


def test_deployment_replicas_are_paired_with_the_prediction(seed_model):
    predicted, pods, deployment = deployment_case(3, "True")
    result = verify(predicted, pods, seed_model, workloads=[deployment])
    assert result["ok"], result["failures"]
    rows = {p["pod"]: (p["predicted_node"], p["actual_node"]) for p in result["jobs"][0]["pods"]}
    assert rows == {
        "pd-prefill-service-5d8f9c7b6-zz9q8": ("node0", "node0"),
        "pd-prefill-service-5d8f9c7b6-a1b2c": ("node1", "node1"),
        "pd-prefill-service-5d8f9c7b6-x7k2p": ("node5", "node10"),
    }
    # node10 is in the group of pd-prefill-service-2 (tied with node5): a match, no difference
    assert result["differences"] == []
    assert all(p["match"] for p in result["jobs"][0]["pods"])
    assert result["jobs"][0]["state"]["phase"] == "Available"


def test_deployment_not_available_fails_naming_it(seed_model):
    predicted, pods, deployment = deployment_case(2, "False")
    result = verify(predicted, pods, seed_model, workloads=[deployment])
    assert result["failures"] == [
        "Deployment default/pd-prefill-service: not Available: 2/3 replicas available, "
        "condition Available=False"
    ]
    predicted, pods, deployment = deployment_case(2, "True")  # minimum availability is not enough
    assert not verify(predicted, pods, seed_model, workloads=[deployment])["ok"]


def test_predicted_pipelined_then_bound_where_it_waited_is_no_difference(seed_model, predicted, pods):
    """A job predicted pipelined (waiting for terminating pods, docs/live-states.md) binds once they
    are gone: bound on its pipelined nodes, that is the prediction."""
    job = predicted["jobs"][1]
    job["feasible"] = False
    job["pipelined_nodes"] = {p["pod"]: p["node"] for p in job["placements"]}
    job["placements"] = []
    job["waits_for"] = ["default/old-0"]
    result = verify(predicted, pods, seed_model)
    assert result["ok"] and result["differences"] == [], result["differences"]
    (decode,) = [j for j in result["jobs"] if j["name"] == "pd-decode-service"]
    assert decode["waits_for"] == ["default/old-0"] and all(r["match"] for r in decode["pods"])
