"""Unit tests of the node-label planner (hypertopo.rollout.node_labels): pure, no cluster."""

from __future__ import annotations

import pytest

from hypertopo.rollout.node_labels import (
    VANISHED,
    LabelPlanError,
    labels_after,
    overlay_node_labels,
    patch_failures,
    plan_node_labels,
)
from hypertopo.topology.labels import (
    GPU_RESOURCE,
    LABEL_GPU_TYPE,
    LABEL_MANAGED,
    LABEL_SWITCH,
    LABEL_SWITCH_TYPE,
    MANAGED_LABEL_KEYS,
)

SW, ST, GPU, MARK = LABEL_SWITCH, LABEL_SWITCH_TYPE, LABEL_GPU_TYPE, LABEL_MANAGED


def want(leaf: str, kind: str = "ib", gpu: str = "h100") -> dict[str, str]:
    return {SW: leaf, ST: kind, GPU: gpu, MARK: "true"}


def node(name: str, labels: dict[str, str] | None = None, gpus: str | None = "8") -> dict:
    obj: dict = {"metadata": {"name": name, "labels": dict(labels or {})}, "status": {"allocatable": {}}}
    if gpus is not None:
        obj["status"]["allocatable"][GPU_RESOURCE] = gpus
    return obj


def test_fresh_nodes_get_all_our_keys_and_nothing_else():
    plan = plan_node_labels({"n1": want("leaf-a")}, [node("n1", {"kubernetes.io/hostname": "n1"})])
    assert plan["patches"] == [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "labels": want("leaf-a")}}
    ]
    assert plan["changes"]["n1"]["remove"] == []


def test_correct_nodes_get_no_patch():
    plan = plan_node_labels({"n1": want("leaf-a")}, [node("n1", {**want("leaf-a"), "x": "y"})])
    assert plan["patches"] == [] and plan["unchanged"] == 1


def test_only_differing_keys_are_sent():
    current = {**want("leaf-a"), "example.com/rack": "r1"}
    plan = plan_node_labels({"n1": want("leaf-b")}, [node("n1", current)])
    assert plan["patches"][0]["metadata"]["labels"] == {SW: "leaf-b"}


def test_foreign_keys_are_never_written_or_removed():
    current = {SW: "old", "example.com/rack": "r1", "kubernetes.io/hostname": "n1"}
    plan = plan_node_labels({"n1": want("leaf-a")}, [node("n1", current)])
    labels = plan["patches"][0]["metadata"]["labels"]
    assert "example.com/rack" not in labels and "kubernetes.io/hostname" not in labels


def test_desired_labels_outside_the_managed_keys_are_rejected():
    with pytest.raises(LabelPlanError, match="does not own"):
        plan_node_labels({"n1": {**want("a"), "team": "x"}}, [node("n1")])


def test_marked_node_that_left_the_inventory_loses_only_our_keys():
    current = {**want("leaf-a"), "example.com/rack": "r1"}
    plan = plan_node_labels({}, [node("gone", current)])
    assert plan["pruned"] == ["gone"]
    assert plan["patches"][0]["metadata"]["labels"] == {SW: None, ST: None, GPU: None, MARK: None}


def test_unmarked_node_outside_the_inventory_is_left_alone():
    plan = plan_node_labels({}, [node("hand", {GPU: "a100"})])
    assert plan["patches"] == [] and plan["pruned"] == []


def test_prune_off_keeps_everything():
    plan = plan_node_labels(
        {"n1": {SW: "a", MARK: "true"}}, [node("n1", want("a")), node("gone", want("b"))], prune=False
    )
    assert plan["patches"] == []


def test_prune_removes_a_managed_key_the_inventory_no_longer_wants():
    plan = plan_node_labels({"n1": {SW: "a", ST: "ib", MARK: "true"}}, [node("n1", want("a"))])
    assert plan["patches"][0]["metadata"]["labels"] == {GPU: None}


def test_reports_missing_hosts_and_unmanaged_gpu_nodes():
    nodes = [
        node("n1", want("a")),
        node("cpu-only", gpus=None),
        node("gpu-x", gpus="4"),
        node("zero", gpus="0"),
    ]
    plan = plan_node_labels({"n1": want("a"), "n2": want("a"), "n10": want("a")}, nodes)
    assert plan["missing"] == ["n2", "n10"]  # natural order
    assert plan["unmanaged_gpu_nodes"] == ["gpu-x"]
    assert plan["nodes_total"] == 4


def test_natural_order_of_patches():
    nodes = [node(f"n{i}") for i in (10, 2, 1)]
    plan = plan_node_labels({f"n{i}": want("a") for i in (1, 2, 10)}, nodes)
    assert [p["metadata"]["name"] for p in plan["patches"]] == ["n1", "n2", "n10"]


def test_malformed_listing_is_a_clear_error():
    with pytest.raises(LabelPlanError, match=r"metadata\.name"):
        plan_node_labels({}, [{"metadata": {}}])


def test_marker_must_be_managed():
    with pytest.raises(LabelPlanError, match="marker"):
        plan_node_labels({}, [], managed_keys=[SW], marker=MARK)


def test_overlay_sees_labels_as_they_will_be():
    nodes = [
        {"metadata": {"name": "n0", "labels": {SW: "old", "x": "1"}}},
        {"metadata": {"name": "gone", "labels": {SW: "leaf-a", MARK: "true"}}},
    ]
    keys = [SW, ST, MARK]
    out = overlay_node_labels(nodes, {"n0": {SW: "leaf-b"}, "new": {SW: "leaf-a"}}, keys, marker=MARK)
    assert out["n0"] == {"x": "1", SW: "leaf-b"}
    assert out["gone"] == {}
    assert out["new"] == {SW: "leaf-a"}


def test_patches_are_the_difference_with_the_labels_after_labelling():
    """The patches and the overlay the other roles check against come from one definition."""
    nodes = [
        node("n1", {SW: "old", ST: "ib", "x": "1"}),
        node("n2", want("a")),
        node("gone", {**want("a"), "keep": "me"}),
        node("hand", {GPU: "a100"}),
    ]
    desired = {"n1": {SW: "a", ST: "ib", MARK: "true"}, "n2": want("b"), "new": want("c")}
    for prune in (True, False):
        plan = plan_node_labels(desired, nodes, prune=prune)
        after = overlay_node_labels(nodes, desired, MANAGED_LABEL_KEYS, prune=prune, marker=MARK)
        patched = {
            n["metadata"]["name"]: {
                k: v
                for k, v in {**n["metadata"]["labels"], **plan_patch(plan, n["metadata"]["name"])}.items()
                if v is not None
            }
            for n in nodes
        }
        assert patched == {name: after[name] for name in patched}
        assert after["new"] == desired["new"]
    assert labels_after({GPU: "a100"}, None, MANAGED_LABEL_KEYS, marker=MARK) == {GPU: "a100"}


def plan_patch(plan: dict, name: str) -> dict:
    return next((p["metadata"]["labels"] for p in plan["patches"] if p["metadata"]["name"] == name), {})


def test_patch_failures_from_a_list_run():
    patches = [{"metadata": {"name": n}} for n in ("a", "b", "c")]
    result = {
        "changed": True,
        "result": {
            "results": [
                {"changed": True, "method": "update"},
                {
                    "changed": False,
                    "warnings": ["resource 'kind=Node,name=b' was not found but will not be created"],
                },
                {"changed": False, "error": {"msg": "Failed to patch object: 500 boom"}},
            ]
        },
    }
    assert patch_failures(result, patches) == [
        {"node": "b", "reason": VANISHED},
        {"node": "c", "reason": "Failed to patch object: 500 boom"},
    ]


def test_patch_failures_from_a_single_definition_run():
    result = {"changed": False, "warnings": ["resource 'kind=Node,name=a' was not found but ..."]}
    assert patch_failures(result, [{"metadata": {"name": "a"}}]) == [{"node": "a", "reason": VANISHED}]
    assert patch_failures({"changed": True, "method": "update"}, [{"metadata": {"name": "a"}}]) == []
