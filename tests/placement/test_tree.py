import pytest

from hypertopo.placement import PlacementInputError
from hypertopo.placement.index import NodeIndex
from hypertopo.placement.objects import parse_hypernode, parse_node
from hypertopo.placement.tree import VIRTUAL_ROOT, Tree
from hypertopo.topology.labels import natural_key

from .helpers import leaf, node, parent


def build(nodes, hns):
    parsed = [parse_node(n, i) for i, n in enumerate(nodes)]
    return Tree([parse_hypernode(h, i) for i, h in enumerate(hns)], parsed, NodeIndex(parsed)), parsed


def names(tree, parsed, hn):
    return sorted((parsed[i].name for i in tree.hypernodes[hn].nodes), key=natural_key)


def test_virtual_root_tier_and_children():
    tree, parsed = build(
        [node("a0"), node("b0"), node("c0")],
        [leaf("la", ["a0"]), leaf("lb", ["b0"]), parent("spine", ["la"], tier=3)],
    )
    root = tree.hypernodes[VIRTUAL_ROOT]
    assert root.tier == 4  # highest real tier + 1
    assert root.children == ["lb", "spine"]  # every parentless HyperNode
    assert names(tree, parsed, VIRTUAL_ROOT) == [
        "a0",
        "b0",
        "c0",
    ]  # holds every node, even c0 in no HyperNode
    assert tree.tiers == [1, 3, 4]
    assert tree.node_leaf == ["la", "lb", None]
    assert tree.lca("la", "lb") == VIRTUAL_ROOT
    assert tree.lca("la", None) == "la"


def test_no_hypernodes_root_is_tier_one():
    tree, _ = build([node("a0")], [])
    assert tree.tiers == [1]
    assert tree.node_leaf == [VIRTUAL_ROOT]


def test_member_selectors():
    nodes = [
        node("gpu-1", labels={"rack": "r1"}),
        node("gpu-2", labels={"rack": "r2"}),
        node("cpu-1", labels={"rack": "r1"}),
    ]
    hns = [
        {
            "kind": "HyperNode",
            "metadata": {"name": "by-regex"},
            "spec": {
                "tier": 1,
                "members": [{"type": "Node", "selector": {"regexMatch": {"pattern": "^gpu-"}}}],
            },
        },
        {
            "kind": "HyperNode",
            "metadata": {"name": "by-label"},
            "spec": {
                "tier": 1,
                "members": [{"type": "Node", "selector": {"labelMatch": {"matchLabels": {"rack": "r1"}}}}],
            },
        },
        {
            "kind": "HyperNode",
            "metadata": {"name": "by-name"},
            "spec": {
                "tier": 1,
                "members": [
                    {"type": "Node", "selector": {"exactMatch": {"name": "cpu-1"}}},
                    {"type": "Node", "selector": {"exactMatch": {"name": "ghost"}}},
                ],
            },
        },
    ]
    tree, parsed = build(nodes, hns)
    assert names(tree, parsed, "by-regex") == ["gpu-1", "gpu-2"]
    assert names(tree, parsed, "by-label") == ["cpu-1", "gpu-1"]
    assert names(tree, parsed, "by-name") == ["cpu-1"]
    assert any("ghost" in w for w in tree.warnings)
    # nodes in two leaves: warned, the first by natural name order is used
    assert tree.node_leaf[0] == "by-label"
    assert any("nodes in two HyperNodes of the lowest tier" in w for w in tree.warnings)


def test_hypernode_member_only_exact_match_is_used():
    hns = [
        leaf("la", ["a0"]),
        {
            "kind": "HyperNode",
            "metadata": {"name": "spine"},
            "spec": {
                "tier": 2,
                "members": [
                    {"type": "HyperNode", "selector": {"regexMatch": {"pattern": "l.*"}}},
                    {"type": "HyperNode", "selector": {"exactMatch": {"name": "la"}}},
                ],
            },
        },
    ]
    tree, _ = build([node("a0")], hns)
    assert tree.hypernodes["la"].parent == "spine"
    assert any("ignored by Volcano (only exactMatch is used)" in w for w in tree.warnings)


def test_empty_label_match_references_nothing_and_the_hypernode_stays_empty():
    """Volcano keeps a HyperNode whose members match no Node with an empty node set
    (api/hyper_node_info.go BuildHyperNodeCache), e.g. a leaf whose only Node was deleted."""
    hns = [
        {
            "kind": "HyperNode",
            "metadata": {"name": "empty"},
            "spec": {"tier": 1, "members": [{"type": "Node", "selector": {"labelMatch": {}}}]},
        },
        leaf("la", ["a0"]),
        leaf("gone", ["a1"]),
        parent("spine", ["la", "gone", "empty"]),
    ]
    tree, _ = build([node("a0")], hns)
    assert any(
        "HyperNode empty: spec.members: no member references an existing node or HyperNode" in w
        for w in tree.warnings
    )
    assert "gone" in tree.hypernodes and tree.hypernodes["gone"].parent == "spine"


def test_missing_child_is_warned_not_fatal():
    tree, _ = build([node("a0")], [leaf("la", ["a0"]), parent("spine", ["la", "lx"])])
    assert any("'lx' does not exist" in w for w in tree.warnings)
    assert tree.ready


def test_two_parents_disable_topology():
    tree, _ = build([node("a0")], [leaf("la", ["a0"]), parent("p1", ["la"]), parent("p2", ["la"])])
    assert not tree.ready
    assert any("la has 2 parents (p1, p2)" in w and "disabled cluster-wide" in w for w in tree.warnings)
    assert tree.hypernodes["la"].parent == "p1"


def test_cycle_disables_topology():
    tree, _ = build(
        [node("a0")], [leaf("la", ["a0"]), parent("x", ["la", "y"], tier=2), parent("y", ["x"], tier=3)]
    )
    assert not tree.ready
    assert any("cycle" in w for w in tree.warnings)


def test_duplicate_hypernode_name():
    with pytest.raises(PlacementInputError, match="duplicate HyperNode name 'la'"):
        build([node("a0")], [leaf("la", ["a0"]), leaf("la", ["a0"])])


def test_highest_allowed_and_tier_names():
    tree, _ = build(
        [node("a0"), node("b0")],
        [
            leaf("la", ["a0"], tier_name="leaf"),
            leaf("lb", ["b0"], tier_name="leaf"),
            parent("spine", ["la", "lb"], tier_name="spine"),
        ],
    )
    assert tree.tier_name_map == {"leaf": 1, "spine": 2}
    assert tree.highest_allowed("la", 1) == "la"
    assert tree.highest_allowed("la", 2) == "spine"
    assert tree.highest_allowed("la", 9) == VIRTUAL_ROOT
    assert tree.highest_allowed("spine", 1) is None
    assert tree.lca_of_nodes([0, 1]) == "spine"
