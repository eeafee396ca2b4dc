import pytest

from hypertopo.placement import PlacementInputError
from hypertopo.placement.index import NodeIndex
from hypertopo.placement.netcost import (
    ETH_ETH,
    IB_ETH,
    SAME_IB_AGG,
    SAME_IB_LEAF,
    KvModel,
    PairClassifier,
    kv_model_from,
    kv_transfer_ms,
    network_model_from,
    pair_summary,
    pd_role,
)
from hypertopo.placement.objects import parse_hypernode, parse_node
from hypertopo.placement.tree import Tree

from .synthetic import gpu_node, leaf_hypernode, parent_hypernode, seed_cluster

GIB_1_25 = 1342177280


def classifier(nodes, hns, network=None):
    parsed = [parse_node(n, i) for i, n in enumerate(nodes)]
    tree = Tree([parse_hypernode(h, i) for i, h in enumerate(hns)], parsed, NodeIndex(parsed))
    return PairClassifier(tree, parsed, network_model_from(network, None))


def test_kv_cache_size_of_the_default_model():
    kv = KvModel()
    assert kv.bytes_per_token == 320 * 1024
    assert kv.bytes_per_request == GIB_1_25
    assert kv_model_from({"dtype": "fp8"}).bytes_per_token == 160 * 1024
    assert (
        kv_model_from({"layers": 32, "kv_heads": 8, "head_dim": 128, "prompt_tokens": 1024}).bytes_per_request
        == 2 * 32 * 8 * 128 * 2 * 1024
    )


def test_transfer_times_per_class():
    model = network_model_from(None, None)
    wire = GIB_1_25 * 8 / 200e9 * 1000
    assert kv_transfer_ms(model, SAME_IB_LEAF, 0) == pytest.approx(0.0015 + wire)
    assert kv_transfer_ms(model, SAME_IB_AGG, 0) == pytest.approx(0.0035 + wire)
    assert kv_transfer_ms(model, IB_ETH, 0) == pytest.approx(0.0075 + 2 * wire)
    assert kv_transfer_ms(model, ETH_ETH, 0) == pytest.approx(0.012 + GIB_1_25 * 8 / 55e9 * 1000)
    # one end without GPUDirect RDMA: one host-memory copy at 200 Gbit/s + 10 us
    assert kv_transfer_ms(model, SAME_IB_LEAF, 1) == pytest.approx(0.0015 + wire + wire + 0.01)


def test_seed_pair_classes():
    nodes, hns = seed_cluster()
    c = classifier(nodes, hns)
    assert c.classify(0, 1) == (SAME_IB_LEAF, 1)
    assert c.classify(0, 0)[0] == SAME_IB_LEAF
    assert c.classify(0, 64) == (SAME_IB_AGG, 2)
    assert c.classify(0, 128) == (IB_ETH, 3)
    assert c.classify(128, 129) == (ETH_ETH, 1)
    assert c.classify(128, 192) == (ETH_ETH, 2)
    assert c.gpudirect(0) and not c.gpudirect(2)  # node0 h100, node2 rtx4090


def test_ib_islands_joined_by_ethernet_are_ib_ethernet():
    nodes = [
        gpu_node("i0", "h100", "ia", "ib"),
        gpu_node("j0", "h100", "ib2", "ib"),
        gpu_node("e0", "a100", "ea", "ethernet"),
    ]
    hns = [
        leaf_hypernode("ia", "ib"),
        leaf_hypernode("ib2", "ib"),
        leaf_hypernode("ea", "ethernet"),
        parent_hypernode("core", 2, ["ia", "ib2", "ea"]),
    ]
    assert classifier(nodes, hns).classify(0, 1)[0] == IB_ETH


def test_unlabelled_nodes_count_as_ethernet():
    nodes = [{"metadata": {"name": "x"}}, {"metadata": {"name": "y"}}]
    c = classifier(nodes, [])
    assert c.classify(0, 1)[0] == ETH_ETH and c.unlabelled == {"x", "y"}


def test_pair_summary_counts_and_overrides():
    nodes, hns = seed_cluster()
    c = classifier(nodes, hns, {"classes": {SAME_IB_LEAF: {"bandwidth_gbps": 400}}})
    within = pair_summary(c, [0, 0, 1, 64], None, kv=False)
    assert within["pairs"] == 6 and within["classes"] == {SAME_IB_LEAF: 3, SAME_IB_AGG: 3}
    assert within["bandwidth_gbps"] == {"mean": 300.0, "worst": 200.0}
    cross = pair_summary(c, [0], [1, 2], kv=True)  # node2 is an RTX 4090: staged
    assert cross["pairs"] == 2 and cross["host_staged_pairs"] == 1
    assert cross["kv_transfer_ms"]["worst"] > cross["kv_transfer_ms"]["mean"]


@pytest.mark.parametrize(
    ("network", "message"),
    [
        ({"classes": {"same_rack": {}}}, r"network.classes.same_rack: unknown class"),
        (
            {"classes": {SAME_IB_LEAF: {"bandwidth_gbps": -1}}},
            r"network.classes.same_ib_leaf.bandwidth_gbps: must be a positive number",
        ),
        ({"classes": {SAME_IB_LEAF: {"jitter": 1}}}, r"network.classes.same_ib_leaf.jitter: unknown field"),
        ({"no_gpudirect": "rtx4090"}, r"network.no_gpudirect: must be a list"),
        ({"kv_model": {"dtype": "fp4"}}, r"kv_model.dtype: unknown dtype"),
        ({"kv_model": {"layers": 0}}, r"kv_model.layers: must be a positive integer"),
    ],
)
def test_bad_network_input(network, message):
    with pytest.raises(PlacementInputError, match=message):
        network_model_from(network, None)


def test_roles():
    model = network_model_from(None, None)
    assert pd_role(model.roles, "prefill-worker") == "prefill"
    assert pd_role(model.roles, "worker", "pd-decode-service") == "decode"
    assert pd_role(model.roles, "worker", "llm") is None
