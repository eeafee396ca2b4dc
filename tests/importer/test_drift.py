"""Drift: inventory against saved Nodes/HyperNodes and a fabric file (CLI and the filter)."""

from __future__ import annotations

import copy
import importlib.util
import json

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from hypertopo.rollout.hypernodes import OWNER_LABELS
from hypertopo.topology import load_topology
from hypertopo.topology.objects import model_hypernode_objects

from .conftest import ROOT, SEED
from .gen import PRODUCTS, ibnetdiscover

PLUGIN = ROOT / "filter_plugins" / "hypertopo_drift.py"
_spec = importlib.util.spec_from_file_location("_filters_hypertopo_drift", PLUGIN)
assert _spec and _spec.loader
_filters = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_filters)
hypertopo_drift = _filters.FilterModule().filters()["hypertopo_drift"]


def cluster_of(model: dict) -> tuple[list[dict], list[dict]]:
    """Nodes and HyperNodes exactly as a rollout of ``model`` leaves them (with GPU products)."""
    topo = load_topology(str(SEED))
    nodes = topo.node_objects()
    for node in nodes:
        node["metadata"]["labels"]["nvidia.com/gpu.product"] = PRODUCTS[
            model["hosts"][node["metadata"]["name"]]["gpu_model"]
        ]
    return nodes, model_hypernode_objects(model, labels=OWNER_LABELS)


@pytest.fixture(scope="module")
def seed() -> dict:
    return load_topology(str(SEED)).as_dict()


def _discovered(name: str, tier: int, *nodes: str, hypernodes: tuple[str, ...] = ()) -> dict:
    """A HyperNode not ours (as Volcano's discovery would create), by exact names."""
    members = [{"type": "Node", "selector": {"exactMatch": {"name": n}}} for n in nodes]
    members += [{"type": "HyperNode", "selector": {"exactMatch": {"name": h}}} for h in hypernodes]
    return {
        "apiVersion": "topology.volcano.sh/v1alpha1",
        "kind": "HyperNode",
        "metadata": {"name": name},
        "spec": {"tier": tier, "members": members},
    }


def _write(tmp_path, nodes, hypernodes):
    (tmp_path / "nodes.json").write_text(json.dumps({"kind": "List", "items": nodes}))
    (tmp_path / "hn.json").write_text(json.dumps({"kind": "List", "items": hypernodes}))
    return ["--nodes", tmp_path / "nodes.json", "--hypernodes", tmp_path / "hn.json"]


def test_no_drift(tmp_path, run_import, seed):
    code, out, err = run_import("drift", "-i", SEED, *_write(tmp_path, *cluster_of(seed)))
    assert (code, out.strip()) == (0, "no drift"), err


def test_every_kind_of_cluster_drift(tmp_path, run_import, seed):
    nodes, hns = cluster_of(seed)
    by = {n["metadata"]["name"]: n for n in nodes}
    by["node3"]["metadata"]["labels"]["gpu-type"] = "h100"  # our label changed by hand
    del by["node4"]["metadata"]["labels"]["topology.kubernetes.io/switch"]
    by["node5"]["metadata"]["labels"]["nvidia.com/gpu.product"] = "NVIDIA-H200"  # inventory says h100
    nodes.remove(by["node7"])  # gone from the cluster
    extra = copy.deepcopy(by["node8"])
    extra["metadata"]["name"] = "node999"
    extra["status"] = {"allocatable": {"nvidia.com/gpu": "8"}}
    nodes.append(extra)  # a GPU node the inventory lacks
    control = {"metadata": {"name": "cp-0", "labels": {}}, "status": {"allocatable": {"cpu": "4"}}}
    nodes.append(control)  # no GPUs, not ours: not drift
    hbn = {h["metadata"]["name"]: h for h in hns}
    hbn["ib-switch0"]["spec"]["tier"] = 2
    hns.remove(hbn["eth-switch3"])
    stale = copy.deepcopy(hbn["ib-switch1"])
    stale["metadata"]["name"] = "old-leaf"
    hns.append(stale)
    # a discovered HyperNode (not ours) that puts node1 and node70 (different tier-1 leaves) in one
    # tier-1; one that agrees (both on ib-switch0); a tier-2 one over both, which agrees with the
    # inventory's tier 2 (ib-switch4 holds node1, node2 and node70)
    hns += [
        _discovered("disc-1", 1, "node1", "node70"),
        _discovered("disc-2", 1, "node1", "node2"),
        _discovered("disc-3", 2, hypernodes=("disc-1", "disc-2")),
    ]
    code, out, err = run_import("drift", "-i", SEED, *_write(tmp_path, nodes, hns), "--json")
    assert code == 1, err
    got = {(i["kind"], i["name"]) for i in json.loads(out)["items"]}
    assert got == {
        ("node-missing", "node7"),
        ("node-unknown", "node999"),
        ("label", "node3"),
        ("label", "node4"),
        ("gpu-model", "node5"),
        ("hypernode-differs", "ib-switch0"),
        ("hypernode-missing", "eth-switch3"),
        ("hypernode-extra", "old-leaf"),
        ("hypernode-foreign", "disc-1"),
    }
    code, table, _ = run_import("drift", "-i", SEED, *_write(tmp_path, nodes, hns))
    assert code == 1
    assert table.splitlines()[0].split() == ["KIND", "NAME", "INVENTORY", "CLUSTER/FABRIC", "DETAIL"]
    assert "gpu-type=rtx4090" in table and "gpu-type=h100" in table


def test_fabric_drift(tmp_path, run_import, seed):
    moved = copy.deepcopy(seed)
    moved["hosts"]["node1"]["leaf"] = "ib-switch1"  # recabled
    moved["hosts"]["node500"] = {"leaf": "ib-switch0", "gpu_model": "h100"}  # new in the fabric
    del moved["hosts"]["node2"]  # gone from the fabric
    (tmp_path / "ib.txt").write_text(ibnetdiscover(moved))
    code, out, err = run_import(
        "drift", "-i", SEED, "--fabric", f"ibnetdiscover:{tmp_path / 'ib.txt'}", "--json"
    )
    assert code == 1, err
    items = {(i["kind"], i["name"]): i for i in json.loads(out)["items"]}
    assert set(items) == {
        ("fabric-leaf", "node1"),
        ("fabric-host-unknown", "node500"),
        ("fabric-host-missing", "node2"),
    }
    assert items[("fabric-leaf", "node1")]["cluster"] == "ib-switch1"
    assert items[("fabric-leaf", "node1")]["detail"].startswith(f"{tmp_path / 'ib.txt'}:")


def test_bad_input_exits_2(tmp_path, run_import):
    (tmp_path / "nodes.json").write_text("{not json")
    code, _, err = run_import("drift", "-i", SEED, "--nodes", tmp_path / "nodes.json")
    assert code == 2 and f"{tmp_path / 'nodes.json'}:1: not JSON" in err
    code, _, err = run_import("drift", "-i", tmp_path / "missing", "--nodes", tmp_path / "nodes.json")
    assert code == 2
    code, _, err = run_import("drift", "-i", SEED)
    assert code == 2 and "give --from-cluster" in err


def test_the_filter_matches_the_cli(seed):
    nodes, hns = cluster_of(seed)
    assert hypertopo_drift(seed, nodes, hns)["drift"] is False
    nodes[0]["metadata"]["labels"]["gpu-type"] = "a100"
    result = hypertopo_drift(seed, nodes, hns, switch_types=["ib"])
    # Ethernet switches get no HyperNode with switch_types=[ib]: the cluster's four are extra
    assert result["counts"] == {"label": 1, "hypernode-extra": 4}
    assert result["table"][0].startswith("KIND")
    with pytest.raises(AnsibleFilterError, match="hypertopo_drift"):
        hypertopo_drift(seed, [{"no": "metadata"}], hns)


def test_drift_playbook_is_read_only_and_changed_only_on_drift():
    plays = yaml.safe_load((ROOT / "playbooks" / "drift.yml").read_text())
    modules = {key for task in plays[0]["tasks"] for key in task if "." in key}
    assert modules <= {
        "hypertopo.volcano.hypertopo_k8s_info",
        "ansible.builtin.set_fact",
        "ansible.builtin.debug",
        "ansible.builtin.assert",
    }
    report = next(t for t in plays[0]["tasks"] if "ansible.builtin.debug" in t)
    assert report["changed_when"] == "drift_report.drift | bool"
