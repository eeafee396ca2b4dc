"""Unit tests of the HyperNode planner (hypertopo.rollout.hypernodes): pure, no cluster."""

from __future__ import annotations

import pytest

from hypertopo.rollout.hypernodes import (
    HyperNodePlanError,
    check_hypernode_set,
    match_label_selector,
    plan_hypernodes,
)
from hypertopo.rollout.node_labels import overlay_node_labels
from hypertopo.topology.labels import LABEL_SWITCH, LABEL_SWITCH_TYPE

OWN = {"app.kubernetes.io/managed-by": "hypertopo"}
SW, ST = LABEL_SWITCH, LABEL_SWITCH_TYPE


def leaf(name: str, labels: dict | None = None, **selector) -> dict:
    sel = selector or {"labelMatch": {"matchLabels": {SW: name, ST: "ib"}}}
    return {
        "apiVersion": "topology.volcano.sh/v1alpha1",
        "kind": "HyperNode",
        "metadata": {"name": name, "labels": dict(OWN if labels is None else labels)},
        "spec": {"tier": 1, "members": [{"type": "Node", "selector": sel}]},
    }


def parent(name: str, children: list[str], tier: int = 2, labels: dict | None = None) -> dict:
    return {
        "apiVersion": "topology.volcano.sh/v1alpha1",
        "kind": "HyperNode",
        "metadata": {"name": name, "labels": dict(OWN if labels is None else labels)},
        "spec": {
            "tier": tier,
            "members": [{"type": "HyperNode", "selector": {"exactMatch": {"name": c}}} for c in children],
        },
    }


NODES = {f"n{i}": {SW: "leaf-a" if i < 2 else "leaf-b", ST: "ib"} for i in range(4)}
DESIRED = [leaf("leaf-a"), leaf("leaf-b"), parent("agg", ["leaf-a", "leaf-b"])]


def test_clean_set_has_no_problems():
    plan = plan_hypernodes(DESIRED, [], NODES)
    assert plan["problems"] == [] and plan["delete"] == [] and len(plan["apply"]) == 3


def test_owned_hypernodes_no_longer_rendered_are_deleted():
    plan = plan_hypernodes(DESIRED, [*DESIRED, leaf("leaf-old")], NODES)
    assert plan["delete"] == ["leaf-old"]
    assert plan["delete_objects"][0]["metadata"] == {"name": "leaf-old"}


def test_prune_off_keeps_owned_stale_hypernodes():
    plan = plan_hypernodes(DESIRED, [leaf("leaf-old")], NODES, prune=False)
    assert plan["delete"] == [] and "leaf-old" in plan["resulting"]


def test_foreign_hypernodes_are_never_deleted():
    foreign = leaf(
        "ufm-0", labels={"volcano.sh/network-topology-source": "ufm"}, exactMatch={"name": "other"}
    )
    plan = plan_hypernodes(DESIRED, [foreign], NODES)
    assert plan["foreign"] == ["ufm-0"] and plan["delete"] == [] and plan["problems"] == []


def test_a_node_in_two_leaves_is_refused_and_named():
    foreign = leaf(
        "ufm-0", labels={"volcano.sh/network-topology-source": "ufm"}, regexMatch={"pattern": "^n[01]$"}
    )
    plan = plan_hypernodes(DESIRED, [foreign], NODES)
    assert any(
        "node n0 would be a member of 2 leaf HyperNodes: ['leaf-a', 'ufm-0']" in p for p in plan["problems"]
    )
    assert any("node n1" in p for p in plan["problems"])


def test_a_hypernode_with_two_parents_is_refused_and_named():
    foreign = parent("discovered-spine", ["leaf-a"], labels={"volcano.sh/network-topology-source": "x"})
    plan = plan_hypernodes(DESIRED, [foreign], NODES)
    assert any(
        "HyperNode leaf-a would have 2 parents: ['agg', 'discovered-spine']" in p for p in plan["problems"]
    )


def test_a_cycle_is_refused():
    problems = check_hypernode_set([parent("a", ["b"]), parent("b", ["a"], tier=3)], {})
    assert any("cycle" in p for p in problems)


def test_a_name_taken_by_a_foreign_hypernode_is_refused():
    plan = plan_hypernodes(DESIRED, [leaf("leaf-a", labels={})], NODES)
    assert any("leaf-a already exists and is not ours" in p for p in plan["problems"])


def test_rendered_objects_must_carry_the_owner_label_and_members():
    bad = leaf("x", labels={})
    empty = parent("y", [])
    problems = plan_hypernodes([bad, empty], [], {})["problems"]
    assert any("lacks the ownership labels" in p for p in problems)
    assert any("y has no members" in p for p in problems)


def test_label_selector_semantics():
    labels = {"a": "1", "b": "2"}
    assert match_label_selector({"matchLabels": {"a": "1"}}, labels)
    assert not match_label_selector({}, labels)  # empty selector matches nothing (Volcano)
    assert match_label_selector(
        {"matchExpressions": [{"key": "b", "operator": "In", "values": ["2", "3"]}]}, labels
    )
    assert not match_label_selector(
        {"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, labels
    )
    assert match_label_selector({"matchExpressions": [{"key": "c", "operator": "DoesNotExist"}]}, labels)
    assert not match_label_selector({"matchExpressions": [{"key": "c", "operator": "Exists"}]}, labels)


def test_moving_a_node_changes_membership_without_conflict():
    moved = overlay_node_labels(
        [{"metadata": {"name": n, "labels": lab}} for n, lab in NODES.items()],
        {"n0": {SW: "leaf-b", ST: "ib"}},
        [SW, ST],
    )
    assert plan_hypernodes(DESIRED, DESIRED, moved)["problems"] == []


def test_malformed_input_is_a_clear_error():
    with pytest.raises(HyperNodePlanError, match=r"metadata\.name"):
        plan_hypernodes([{"spec": {}}], [], {})
