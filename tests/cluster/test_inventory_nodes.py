"""`hypertopo-cluster up/nodes --inventory` leave the cluster with that inventory's simulated nodes
(issue #17, `make run INVENTORY=path`): an earlier inventory's nodes go, nodes created any other
way stay."""

from __future__ import annotations

import pytest

from hypertopo.cluster.nodes import INVENTORY_RECORD, NodeSpec, delete_nodes, sync_inventory_nodes
from hypertopo.cluster.rest import ApiError

from ..topology.invgen import own_tree, write_inventory

pytestmark = pytest.mark.cluster


def _exists(rest, name: str) -> bool:
    try:
        rest.get(f"/api/v1/nodes/{name}")
    except ApiError as exc:
        assert exc.status == 404
        return False
    return True


def test_a_second_inventory_replaces_the_first_ones_nodes(cluster, cluster_ws, tmp_path) -> None:
    p = cluster_ws.prefix
    first = own_tree()
    first["hosts"] = {
        leaf: {f"{p}-{name}": v for name, v in hosts.items()} for leaf, hosts in first["hosts"].items()
    }
    second = {
        **first,
        "hosts": {"leaf-a": first["hosts"]["leaf-a"], "leaf-b": {f"{p}-new": {"gpu_model": "a100"}}},
    }
    inv1 = write_inventory(tmp_path / "one", first)
    inv2 = write_inventory(tmp_path / "two", second)
    (other,) = cluster_ws.create_nodes([NodeSpec("other", gpu=8)])  # not from an inventory
    record = tmp_path / INVENTORY_RECORD
    everything = [*first["hosts"]["leaf-a"], *first["hosts"]["leaf-b"], f"{p}-new"]
    try:
        applied, gone = sync_inventory_nodes(cluster.kubeconfig, inv1, record)
        assert (applied.created, gone) == (8, [])
        node = cluster.rest.get(f"/api/v1/nodes/{p}-gpu-a1")
        assert node["status"]["allocatable"]["cpu"] == "220"  # h200 from the package's catalogue
        assert node["status"]["allocatable"]["nvidia.com/gpu"] == "8"

        applied, gone = sync_inventory_nodes(cluster.kubeconfig, inv2, record)
        assert (applied.created, applied.updated) == (1, 4)
        assert gone == sorted(first["hosts"]["leaf-b"])
        assert [n for n in everything if _exists(cluster.rest, n)] == [*first["hosts"]["leaf-a"], f"{p}-new"]
        assert _exists(cluster.rest, other)
    finally:
        delete_nodes(cluster.rest, everything)
