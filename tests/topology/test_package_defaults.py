"""The GPU model facts ship with the package (issue #17): an inventory of known models needs no
group_vars/all.yml, the inventory overrides them, and a missing fact is one line, not one per host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hypertopo.topology import TopologyError, load_topology
from hypertopo.topology.gpus import BUILTIN_GPU_MODELS, DEFAULT_GPU_COUNT

from .invgen import own_tree, write_inventory


def _write(tmp_path: Path, tree: dict[str, Any], all_vars: dict[str, Any] | None = None) -> Path:
    if all_vars is not None:
        tree["all"] = all_vars
    return write_inventory(tmp_path, tree)


def test_known_models_validate_without_all_yml(tmp_path):
    inv = _write(tmp_path, own_tree())
    assert not (inv / "group_vars" / "all.yml").exists()
    topo = load_topology(str(inv))
    assert len(topo.hosts) == 8
    for host in topo.hosts.values():
        model = BUILTIN_GPU_MODELS[host.gpu_model]
        assert (host.gpu_count, host.cpu, host.memory, host.pods) == (8, model.cpu, model.memory, 110)
    assert topo.hosts["gpu-a1"].cpu == "220" and topo.hosts["gpu-b1"].memory == "980Gi"
    nodes = {n["metadata"]["name"]: n for n in topo.node_objects()}
    assert nodes["gpu-b2"]["status"]["allocatable"]["nvidia.com/gpu"] == "8"
    assert nodes["gpu-a3"]["metadata"]["labels"]["gpu-type"] == "h200"


def test_every_builtin_model_has_its_server_facts():
    assert DEFAULT_GPU_COUNT == 8
    assert {"h100", "h200", "a100", "l40s", "rtx4090", "rtx5090"} <= set(BUILTIN_GPU_MODELS)
    for model in BUILTIN_GPU_MODELS.values():
        assert model.gpu_count == 8 and model.cpu and model.memory, model
        assert model.nvlink_domain in (None, 8)
    assert BUILTIN_GPU_MODELS["h200"].gpudirect_rdma and BUILTIN_GPU_MODELS["h200"].nvlink_domain == 8
    assert BUILTIN_GPU_MODELS["l40s"].nvlink_domain is None
    assert not BUILTIN_GPU_MODELS["rtx4090"].gpudirect_rdma


def test_the_inventory_overrides_the_package_facts(tmp_path):
    tree = own_tree()
    tree["hosts"]["leaf-a"]["gpu-a1"].update(node_cpu="96", gpu_count=4)
    inv = _write(
        tmp_path,
        tree,
        {
            "topology_node_resources": {"h200": {"cpu": "200"}},
            "topology_gpu_models": {"l40s": {"gpudirect_rdma": False, "gpu_count": 4}},
        },
    )
    topo = load_topology(str(inv))
    a1, a2, b1 = topo.hosts["gpu-a1"], topo.hosts["gpu-a2"], topo.hosts["gpu-b1"]
    assert (a1.cpu, a1.memory, a1.gpu_count) == ("96", "1950Gi", 4)  # host beats everything
    assert (a2.cpu, a2.memory, a2.gpu_count) == ("200", "1950Gi", 8)  # cpu from the inventory's map
    assert (b1.cpu, b1.gpu_count) == ("124", 4)  # the model's gpu_count from topology_gpu_models
    l40s = topo.gpu_models["l40s"]
    assert (l40s.label, l40s.gpudirect_rdma) == ("l40s", False)  # other fields kept from the package


def _problems(inv: Path) -> list[str]:
    with pytest.raises(TopologyError) as err:
        load_topology(str(inv))
    return [str(p) for p in err.value.problems]


def test_a_missing_model_entry_is_one_line(tmp_path):
    tree = own_tree()
    for host in tree["hosts"]["leaf-a"].values():
        host["gpu_model"] = "mi300x"
    inv = _write(tmp_path, tree, {"topology_gpu_models": {"mi300x": {"gpudirect_rdma": True}}})
    problems = _problems(inv)
    assert len(problems) == 1, problems
    assert (
        "topology_node_resources has no entry for mi300x (4 hosts: gpu-a1, gpu-a2, gpu-a3, gpu-a4)"
        in (problems[0])
    )
    assert "add mi300x: {cpu: " in problems[0] and "group_vars/all.yml" in problems[0]


def test_a_partial_model_entry_is_one_line_naming_what_is_missing(tmp_path):
    tree = own_tree()
    for host in [*tree["hosts"]["leaf-a"].values(), *tree["hosts"]["leaf-b"].values()]:
        host["gpu_model"] = "mi300x"
    inv = _write(
        tmp_path,
        tree,
        {"topology_gpu_models": {"mi300x": {}}, "topology_node_resources": {"mi300x": {"cpu": "200"}}},
    )
    problems = _problems(inv)
    assert len(problems) == 1, problems
    assert "topology_node_resources.mi300x has no memory (8 hosts: gpu-a1, " in problems[0]
    assert "and 3 more)" in problems[0]


def test_hosts_without_gpu_model_are_one_line(tmp_path):
    tree = own_tree()
    for host in tree["hosts"]["leaf-b"].values():
        del host["gpu_model"]
    problems = _problems(_write(tmp_path, tree))
    assert len(problems) == 1, problems
    assert "has no gpu_model (4 hosts: gpu-b1, gpu-b2, gpu-b3, gpu-b4)" in problems[0]


def test_a_broken_override_of_a_builtin_model_is_one_line(tmp_path):
    inv = _write(tmp_path, own_tree(), {"topology_gpu_models": {"h200": {"gpu_count": "eight"}}})
    problems = _problems(inv)
    assert len(problems) == 1, problems
    assert "topology_gpu_models.h200.gpu_count must be a positive integer" in problems[0]
