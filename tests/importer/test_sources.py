"""UFM, LLDP and node-label sources: fixtures in the real formats and generated round trips."""

from __future__ import annotations

import json

import pytest

from hypertopo.importer.gpumap import product_model
from hypertopo.topology import load_topology

from .conftest import FIXTURES, SEED, shape
from .gen import PRODUCTS, fat_tree, lldp_files, nodes_json, ufm_files


def test_ufm_fixture(tmp_path, run_import):
    code, _, err = run_import(
        "ufm",
        FIXTURES / "ufm-systems.json",
        FIXTURES / "ufm-links.json",
        "--gpu-model",
        "h100",
        "--out",
        tmp_path / "inv",
    )
    assert code == 0, err
    assert shape(tmp_path / "inv")["switches"] == {
        "ufm-spine-1": (2, "ib", None, []),
        "ufm-leaf-1": (1, "ib", "ufm-spine-1", ["gpu-u1"]),
    }


@pytest.mark.parametrize("spines", [1, 3])
def test_ufm_round_trip(tmp_path, run_import, spines):
    model = fat_tree(96, leaves=6, spine_groups=2)
    files = ufm_files(model, tmp_path / "ufm", spines=spines)
    code, _, err = run_import("ufm", *files, "--gpu-model", "h100", "--out", tmp_path / "inv")
    assert code == 0, err
    got = shape(tmp_path / "inv")
    assert {n: v[:3] for n, v in got["switches"].items()} == {
        s["name"]: (s["tier"], s["type"], s["parent"]) for s in model["switches"]
    }


def test_ufm_links_without_systems(tmp_path, run_import):
    links = FIXTURES / "ufm-links.json"
    code, _, err = run_import("ufm", links, "--gpu-model", "h100", "--out", tmp_path / "inv")
    assert code == 2
    assert f"{links}:2: link end 0c42a10300a1b2c6 is in no systems file (and 2 more)" in err
    assert "1 problem(s)" in err


def test_ufm_not_a_list(tmp_path, run_import):
    bad = tmp_path / "links.json"
    bad.write_text('{"links": []}')
    code, _, err = run_import("ufm", bad, "--gpu-model", "h100", "--out", tmp_path / "inv")
    assert code == 2 and "not a UFM resource list" in err


def test_lldp_fixture_with_uplinks(tmp_path, run_import):
    code, _, err = run_import(
        "lldp",
        FIXTURES / "host-gpu-c1.json",
        "--uplinks",
        FIXTURES / "uplinks.yml",
        "--gpu-model",
        "l40s",
        "--out",
        tmp_path / "inv",
    )
    assert code == 0, err
    assert shape(tmp_path / "inv")["switches"] == {
        "roce-spine": (2, "ethernet", None, []),
        "roce-leaf-1": (1, "ethernet", "roce-spine", ["host-gpu-c1"]),
    }
    assert "uplinks.yml:3" in (tmp_path / "inv" / "hosts.yml").read_text()


def test_lldp_round_trip_fat_tree_and_multi_rail(tmp_path, run_import):
    model = fat_tree(64, leaves=4, spine_groups=2, kind="ethernet")
    files = lldp_files(
        model, tmp_path / "lldp", spines=2, rails={"gpu3": ["leaf1"], "gpu40": ["leaf0", "leaf3"]}
    )
    code, _, err = run_import("lldp", *files, "--gpu-model", "h100", "--out", tmp_path / "inv")
    assert code == 0, err
    got = shape(tmp_path / "inv")
    assert {n: v[:3] for n, v in got["switches"].items()} == {
        s["name"]: (s["tier"], s["type"], s["parent"]) for s in model["switches"]
    }
    assert got["hosts"]["gpu3"][0] == "leaf0"  # tie: the first adapter's leaf
    assert got["hosts"]["gpu40"][0] == "leaf2"
    assert err.count("multi-rail host") == 2


def test_lldp_not_json0(tmp_path, run_import):
    bad = tmp_path / "node1.json"
    bad.write_text(json.dumps({"interfaces": []}))
    code, _, err = run_import("lldp", bad, "--gpu-model", "h100", "--out", tmp_path / "inv")
    assert code == 2 and "not `lldpctl -f json0` output" in err


def test_labels_eks_fixture_and_unknown_product(tmp_path, run_import):
    code, _, err = run_import(
        "labels", FIXTURES / "nodes-eks.json", "--preset", "eks", "--out", tmp_path / "inv"
    )
    assert code == 0, err
    got = shape(tmp_path / "inv")
    # layer-1 is the top of AWS's hierarchy, layer-3 the layer nodes connect to
    assert got["switches"]["nn-1a2b3c4d5e6f70001"][:3] == (3, "ethernet", None)
    assert got["switches"]["nn-1a2b3c4d5e6f70003"][:3] == (1, "ethernet", "nn-1a2b3c4d5e6f70002")
    assert got["hosts"]["ip-10-0-1-11.ec2.internal"][1] == "h100"
    assert got["hosts"]["ip-10-0-1-12.ec2.internal"][1] == "amd-instinct-mi300x"
    assert "'AMD-Instinct-MI300X' is not a known model" in err and "--gpu-map FILE" in err
    assert "nodes-eks.json:39: node ip-10-0-0-5.ec2.internal has none of the topology labels" in err
    model = load_topology(str(tmp_path / "inv"))
    assert model.hosts["ip-10-0-1-12.ec2.internal"].cpu == "191450m"


def test_labels_gpu_map_file(tmp_path, run_import):
    gmap = tmp_path / "map.yml"
    gmap.write_text("AMD-Instinct-MI300X: h200\n")
    code, _, err = run_import(
        "labels", FIXTURES / "nodes-eks.json", "--preset", "eks", "--gpu-map", gmap, "--out", tmp_path / "inv"
    )
    assert code == 0, err
    assert shape(tmp_path / "inv")["hosts"]["ip-10-0-1-12.ec2.internal"][1] == "h200"
    assert not (tmp_path / "inv" / "group_vars" / "all.yml").exists()


def test_labels_gke_preset_round_trip(tmp_path, run_import):
    model = fat_tree(32, leaves=4, spine_groups=2, gpu="a100")
    keys = (
        "cloud.google.com/gce-topology-block",
        "cloud.google.com/gce-topology-subblock",
        "cloud.google.com/gce-topology-host",
    )
    path = tmp_path / "nodes.json"
    path.write_text(nodes_json(model, keys=keys))
    code, _, err = run_import(
        "labels", path, "--preset", "gke", "--switch-type", "ib", "--out", tmp_path / "inv"
    )
    assert code == 0, err
    got = shape(tmp_path / "inv")
    assert {n: v[:3] for n, v in got["switches"].items()} == {
        s["name"]: (s["tier"], s["type"], s["parent"]) for s in model["switches"]
    }


def test_labels_value_under_two_parents(tmp_path, run_import):
    model = fat_tree(8, leaves=2, spine_groups=2)
    keys = ("k/top", "k/mid", "k/leaf")
    path = tmp_path / "nodes.json"
    path.write_text(nodes_json(model, keys=keys, extra={"gpu7": {"k/mid": "spine0"}}))
    code, _, err = run_import("labels", path, "--label-keys", ",".join(keys), "--out", tmp_path / "inv")
    assert code == 2
    assert "leaf1 is under spine0 here but under spine1 at" in err


@pytest.mark.parametrize(
    ("product", "model"),
    [
        ("NVIDIA-H100-80GB-HBM3", "h100"),
        ("NVIDIA-H200", "h200"),
        ("NVIDIA-A100-SXM4-80GB", "a100"),
        ("NVIDIA-L40S", "l40s"),
        ("NVIDIA-GeForce-RTX-4090", "rtx4090"),
        ("NVIDIA-GeForce-RTX-5090", "rtx5090"),
        ("AMD-Instinct-MI300X", None),
    ],
)
def test_gpu_products(product, model):
    assert product_model(product) == model
    assert PRODUCTS.get(model or "", product) == product


def test_seed_from_labels_alone(tmp_path, run_import):
    """The seed's tree is regular enough for labels: three keys, top-down."""
    seed = load_topology(str(SEED)).as_dict()
    keys = ("t/core", "t/spine", "t/leaf")
    path = tmp_path / "nodes.json"
    path.write_text(nodes_json(seed, keys=keys))
    code, _, err = run_import("labels", path, "--label-keys", ",".join(keys), "--out", tmp_path / "inv")
    assert code == 0, err
    got, want = shape(tmp_path / "inv"), shape(SEED)
    assert got["hosts"] == want["hosts"]
    assert {n: v[0] for n, v in got["switches"].items()} == {n: v[0] for n, v in want["switches"].items()}
