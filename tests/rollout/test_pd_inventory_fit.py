"""The PD settings against the inventory (issue #17): the GPU models the roles ask for must exist in
enough quantity under one HyperNode the topology bound allows, else one clear message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hypertopo.rollout.pd_services import RoleAsk, inventory_misfits
from hypertopo.topology import load_topology

from ..topology.invgen import own_tree, write_inventory


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One IB spine over leaf-a (4 x 8 H200) and leaf-b (4 x 8 L40S)."""
    inv: Path = write_inventory(tmp_path_factory.mktemp("own"), own_tree())
    return load_topology(str(inv)).as_dict()


def _misfits(
    model: dict[str, Any], prefill: tuple[Any, ...], decode: tuple[Any, ...], **kw: Any
) -> list[str]:
    settings: dict[str, Any] = {"layout": "seed", "switch_types": ["ib"], "mode": "soft", "highest_tier": 2}
    settings.update(kw)
    return inventory_misfits(
        model, prefill=RoleAsk("prefill", *prefill), decode=RoleAsk("decode", *decode), **settings
    )


def test_the_seed_defaults_on_an_h200_l40s_cluster_name_both_variables(model):
    lines = _misfits(model, (("h100",), 12, 1), (("rtx4090",), 12, 1))
    assert len(lines) == 3, lines
    assert (
        "pd_services_prefill_gpu_models ['h100'] asks for 12 pods (pd_services_prefill_replicas)" in lines[0]
    )
    assert "at most 0 prefill pods" in lines[0] and "Fix: set pd_services_prefill_gpu_models" in lines[0]
    assert "pd_services_decode_gpu_models ['rtx4090']" in lines[1]
    assert lines[2] == (
        "GPU models in the inventory: h200, l40s; per leaf: "
        "leaf-a (ib, under spine): h200 32 GPUs on 4 nodes; leaf-b (ib, under spine): l40s 32 GPUs on 4 nodes"
    )


def test_models_the_inventory_has_fit(model):
    assert _misfits(model, (("h200",), 12, 1), (("l40s",), 12, 1)) == []
    assert _misfits(model, (("h200",), 32, 1), (("l40s",), 16, 2)) == []
    assert _misfits(model, (("h200", "l40s"), 64, 1), (("l40s",), 1, 0)) == []


def test_counts_are_per_node_gpus_divided_by_the_gpus_of_a_pod(model):
    lines = _misfits(model, (("h200",), 9, 3), (("l40s",), 33, 1))
    assert len(lines) == 3, lines
    assert "at most 8 prefill pods" in lines[0]  # 4 nodes x (8 // 3)
    assert "at most 32 decode pods" in lines[1]


def test_the_switch_type_counts(model):
    lines = _misfits(model, (("h200",), 1, 1), (("l40s",), 1, 1), switch_types=["ethernet"])
    assert len(lines) == 3 and "on ethernet leaves (pd_services_switch_types)" in lines[0]


def test_hard_mode_bounds_the_hypernode_and_joint_needs_both_roles_under_one(model):
    hard_leaf = {"mode": "hard", "highest_tier": 1}
    assert _misfits(model, (("h200",), 32, 1), (("l40s",), 32, 1), **hard_leaf) == []
    # joint at tier 1: each role fits one leaf, but not both under the same leaf
    joint = {"layout": "joint", "joint_mode": "hard", "joint_highest_tier": 1}
    lines = _misfits(model, (("h200",), 12, 1), (("l40s",), 12, 1), **joint)
    assert len(lines) == 2, lines
    assert (
        "pd_services_prefill_gpu_models ['h200']" in lines[0] and "pd_services_decode_gpu_models" in lines[0]
    )
    assert (
        ", together, under one HyperNode of tier <= 1 (pd_services_joint_highest_tier, mode hard)" in lines[0]
    )
    assert _misfits(model, (("h200",), 12, 1), (("l40s",), 12, 1), **{**joint, "joint_highest_tier": 2}) == []


def test_joint_roles_sharing_a_model_share_its_gpus(model):
    joint = {"layout": "joint", "joint_mode": "hard", "joint_highest_tier": 2}
    assert _misfits(model, (("h200",), 16, 1), (("h200",), 16, 1), **joint) == []
    lines = _misfits(model, (("h200",), 20, 1), (("h200",), 20, 1), **joint)
    assert len(lines) == 2 and "together" in lines[0]


def test_a_partition_policy_needs_each_role_under_one_partition_switch(model):
    joint = {"layout": "joint", "joint_mode": "hard", "joint_highest_tier": 2, "partition_tier": 1}
    both = (("h200", "l40s"), 40, 1)
    assert _misfits(model, both, (("l40s",), 1, 1), **{**joint, "partition_tier": None}) == []
    lines = _misfits(model, both, (("l40s",), 1, 1), **joint)
    assert "within one tier-1 switch each (pd_services_partition_policy)" in lines[0]
    assert "at most 32 prefill pods" in lines[0]
