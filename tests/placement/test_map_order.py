"""The job's pick among equal job scores: Go map iteration order over spec.members order
(:func:`hypertopo.placement.util.job_tie_chances`), three random rotations: the session's copy of
each parent's children, the gradient's BFS over them, the score map; and before them the float
scores' last bit, a sum in Go map order (:meth:`.NetworkTopologyAware.binpack_law`)."""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import pytest

from hypertopo.placement import predict
from hypertopo.placement.conf import NtaConf
from hypertopo.placement.index import NodeIndex
from hypertopo.placement.objects import parse_hypernode, parse_node
from hypertopo.placement.plugins.network_topology_aware import NetworkTopologyAware
from hypertopo.placement.tree import Tree
from hypertopo.placement.util import children_rotation_chances, job_tie_chances, map_first_chances

from .helpers import GPU, hard, job, leaf, node, parent, task, template


def build(leaves: list[str], spines: dict[str, list[str]]) -> Tree:
    """Leaves of one node each; ``spines``: parent -> its children in spec.members order."""
    nodes = [parse_node(node(f"{name}-n"), i) for i, name in enumerate(leaves)]
    hns = [leaf(name, [f"{name}-n"]) for name in leaves]
    hns += [
        parent(name, kids, tier=2 if all(k in leaves for k in kids) else 3) for name, kids in spines.items()
    ]
    return Tree([parse_hypernode(h, i) for i, h in enumerate(hns)], nodes, NodeIndex(nodes))


def exact(chances: dict[str, float] | None) -> dict[str, Fraction]:
    assert chances is not None
    return {hn: Fraction(p) for hn, p in chances.items()}


def test_the_score_map_step_is_the_slot_gap_law():
    # of two filled in order, the first is met first unless the start is slot 1: 7/8, 1/8
    assert map_first_chances(["a", "b"], ["a", "b"]) == {"a": 0.875, "b": 0.125}
    # only the tied count, but every entry holds its slot: b after a 3-slot gap, a after 5
    assert map_first_chances(["a", "x", "y", "b"], ["a", "b"]) == {"a": 5 / 8, "b": 3 / 8}
    assert map_first_chances([f"h{i}" for i in range(9)], ["h0", "h1"]) is None


def test_children_rotations_compose_two_steps():
    # one step of two: 7/8 kept, 1/8 swapped; two steps: kept 49/64 + 1/64
    assert children_rotation_chances(2) == [50 / 64, 14 / 64]
    # three: one step 6/8, 1/8, 1/8; two steps: r=0 36/64 + 2/64 (1+2), r=1 12/64 + 1/64 (2+2)
    assert children_rotation_chances(3) == [38 / 64, 13 / 64, 13 / 64]
    assert children_rotation_chances(1) == [1.0]
    assert children_rotation_chances(9) is None


def test_two_leaves_of_one_spine_first_listed_wins_91_of_128():
    tree = build(["l0", "l1"], {"spine": ["l0", "l1"]})
    # 1/2 + 1/2 x (3/4)^3: three rotations, each swapping two with chance 1/8
    assert job_tie_chances(tree, ["l0", "l1"], ["l0", "l1"]) == {"l0": 0.7109375, "l1": 0.2890625}
    # the spec.members order counts, not the names nor the order the engine tries them in
    tree = build(["l0", "l1"], {"spine": ["l1", "l0"]})
    assert job_tie_chances(tree, ["l0", "l1"], ["l0", "l1"]) == {"l0": 0.2890625, "l1": 0.7109375}


def test_three_leaves_hand_computed():
    tree = build(["a", "b", "c"], {"spine": ["a", "b", "c"]})
    # rotation R of the members (38, 13, 13 in 64ths), then the map's first of the three (6/8 for
    # the first inserted, 1/8 each for the others): a is first in R=0, third in R=1, second in R=2
    assert exact(job_tie_chances(tree, ["a", "b", "c"], ["a", "b", "c"])) == {
        "a": Fraction(38 * 6 + 13 + 13, 512),
        "b": Fraction(38 + 13 * 6 + 13, 512),
        "c": Fraction(38 + 13 + 13 * 6, 512),
    }
    # c scores lower but has a solution: it still holds a slot of the score map
    chances = exact(job_tie_chances(tree, ["a", "b", "c"], ["a", "b"]))
    # R=0 [a b c]: a 7/8 (a start at c's slot wraps to a); R=1 [b c a]: b 6/8, a 2/8; R=2 [c a b]:
    # a 7/8
    assert chances == {
        "a": Fraction(38 * 7 + 13 * 2 + 13 * 7, 512),
        "b": Fraction(38 * 1 + 13 * 6 + 13 * 1, 512),
    }
    assert sum(chances.values()) == 1
    # a HyperNode without a solution is not in the map, but it is one of the parent's children:
    # the map is [a c] (R=0), [c a] (R=1 and R=2)
    chances = exact(job_tie_chances(tree, ["a", "c"], ["a", "c"]))
    assert chances == {"a": Fraction(38 * 7 + 13 + 13, 512), "c": Fraction(38 + 13 * 7 + 13 * 7, 512)}


def test_more_than_8_is_not_computable():
    many = [f"l{i}" for i in range(9)]
    tree = build(many, {"spine": list(many)})
    assert job_tie_chances(tree, list(many), list(many)) is None  # a score map of 9
    # two in the map, but their parent's children set holds 9
    assert job_tie_chances(tree, ["l0", "l1"], ["l0", "l1"]) is None


def test_an_order_of_the_cluster_tops_children_is_not_computable():
    # two spines, one leaf each: which leaf the BFS meets first is the cluster-top HyperNode's
    # children order, filled from the session's map of every HyperNode (not known)
    tree = build(["a", "b"], {"s1": ["a"], "s2": ["b"]})
    assert job_tie_chances(tree, ["a", "b"], ["a", "b"]) is None
    # the cluster top has two children, but both tied leaves are under one of them
    tree = build(["a", "b", "c"], {"s1": ["a", "b"], "s2": ["c"]})
    assert job_tie_chances(tree, ["a", "b"], ["a", "b"]) == {"a": 0.7109375, "b": 0.2890625}
    # tied leaves at one depth under two spines of one aggregation: its children order counts
    tree = build(["a", "b"], {"s1": ["a"], "s2": ["b"], "agg": ["s1", "s2"]})
    assert job_tie_chances(tree, ["a", "b"], ["a", "b"]) == {"a": 0.7109375, "b": 0.2890625}


def predict_one_job_on_two_leaves(parents: list) -> dict:
    """A hard tier-1 job of two 4-GPU pods over leaf-a (node a0) and leaf-b (node b0) under ``parents``."""
    result = predict(
        jobs=[job("j", [task("w", 2, template(gpus=4))], topology=hard(1))],
        nodes=[node("a0"), node("b0")],
        hypernodes=[leaf("leaf-a", ["a0"]), leaf("leaf-b", ["b0"]), *parents],
        baseline=False,
    )
    (res,) = result["jobs"]
    return res


@pytest.mark.parametrize("members", [["leaf-a", "leaf-b"], ["leaf-b", "leaf-a"]])
def test_predict_follows_the_members_order(members):
    res = predict_one_job_on_two_leaves([parent("spine", members)])
    chances = {o["hypernode"]: o["probability"] for o in res["outcomes"]}
    assert chances == {members[0]: 0.710938, members[1]: 0.289062}
    assert "Go map iteration order over spec.members order" in res["probability_basis"]
    assert "not a uniform draw" in res["probability_basis"]


def test_predict_says_not_computable_where_the_cluster_tops_order_counts():
    res = predict_one_job_on_two_leaves([parent("s1", ["leaf-a"]), parent("s2", ["leaf-b"])])
    assert [o["hypernode"] for o in res["outcomes"]] == ["leaf-a", "leaf-b"]
    assert [o["probability"] for o in res["outcomes"]] == [None, None]
    assert res["probability_note"].startswith("not computable (Go map iteration order)")


def test_float_scores_equal_in_reals_can_differ_in_the_last_bit():
    tree = build(["l0", "l1"], {"spine": ["l0", "l1"]})
    laws = {hn: {861.1111111111112: 0.75, 861.1111111111111: 0.25} for hn in ("l0", "l1")}
    # a strictly higher score wins whatever the map order (3/16 each way); equal (5/8): 91/128
    assert exact(job_tie_chances(tree, ["l0", "l1"], ["l0", "l1"], laws)) == {
        "l0": Fraction(3, 16) + Fraction(5, 8) * Fraction(91, 128),
        "l1": Fraction(3, 16) + Fraction(5, 8) * Fraction(37, 128),
    }


def _tie_inputs(members: list[str]) -> dict:
    """tests/agreement/run_explain.py's tie scenario: two leaves of two 8-GPU nodes (96 CPUs,
    768Gi), eight pods of 2 GPUs, 4 CPUs, 32Gi that fill either leaf."""
    nodes = [node(f"n{i}", gpus=8, cpu="96", memory="768Gi") for i in range(4)]
    hns = [leaf("leaf0", ["n0", "n1"]), leaf("leaf1", ["n2", "n3"]), parent("spine", members)]
    tmpl = template(gpus=2, cpu="4")
    tmpl["spec"]["containers"][0]["resources"]["requests"]["memory"] = "32Gi"
    jobs = [job("j", [task("w", 8, tmpl)], topology=hard(1))]
    return {"jobs": jobs, "nodes": nodes, "hypernodes": hns}


def test_the_binpack_sum_follows_the_resource_maps_order():
    # cpu 1 x 32/192, memory 1 x 256Gi/1536Gi, GPU 10 x 16/16, over 12, times 100 x 10:
    # (1/6 + 1/6) + 10 (the insertion order, 6 of the 8 start slots) is one bit above the two other
    # rotations' sums, as vc-scheduler logs them at --v=4
    tree = build(["l0"], {})
    gib = 2**30
    cluster = SimpleNamespace(
        hn_alloc={"l0": {"cpu": 192000, "memory": 1536 * gib, GPU: 16000}}, hn_used={"l0": {}}
    )
    nta = NetworkTopologyAware(
        NtaConf(enabled=True, weight=10, binpack={"cpu": 1, "memory": 1, GPU: 10}), cluster, tree
    )
    law = nta.binpack_law({"cpu": 32000, "memory": 256 * gib, GPU: 16000}, "l0")
    assert {v * nta.nta_scale: p for v, p in law.items()} == {
        861.1111111111112: 0.75,
        861.1111111111111: 0.25,
    }
    # two weighted resources: 0 + a + b is exact in either order
    assert len(nta.binpack_law({"cpu": 32000, GPU: 16000}, "l0")) == 1


@pytest.mark.parametrize("members", [["leaf0", "leaf1"], ["leaf1", "leaf0"]])
def test_predict_the_tie_scenario(members):
    (res,) = predict(**_tie_inputs(members), baseline=False)["jobs"]
    chances = {o["hypernode"]: o["probability"] for o in res["outcomes"]}
    # 3/16 + 5/8 x 91/128 = 0.6318359375 for the leaf listed first
    assert chances == {members[0]: 0.631836, members[1]: 0.368164}
