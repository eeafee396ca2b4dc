"""Write small Ansible inventories to a temp dir for model tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def good_tree() -> dict[str, Any]:
    """A valid 2-leaf tree: agg (tier 2, ib) over leaf-a (ib) and leaf-b (ib)."""
    return {
        "switches": {
            "agg": {"tier": 2, "type": "ib"},
            "leaf-a": {"tier": 1, "type": "ib", "parent": "agg"},
            "leaf-b": {"tier": 1, "type": "ib", "parent": "agg"},
        },
        "hosts": {
            "leaf-a": {"n0": {"gpu_model": "h100"}, "n1": {"gpu_model": "rtx4090"}},
            "leaf-b": {"n2": {"gpu_model": "a100"}},
        },
        "all": {"gpu_count": 8, "node_cpu": "64", "node_memory": "512Gi"},
    }


def own_tree() -> dict[str, Any]:
    """A new user's inventory (issue #17): one IB spine, two leaves, H200 and L40S hosts, no all vars."""
    return {
        "switches": {
            "spine": {"tier": 2, "type": "ib"},
            "leaf-a": {"tier": 1, "type": "ib", "parent": "spine"},
            "leaf-b": {"tier": 1, "type": "ib", "parent": "spine"},
        },
        "hosts": {
            "leaf-a": {f"gpu-a{i}": {"gpu_model": "h200"} for i in range(1, 5)},
            "leaf-b": {f"gpu-b{i}": {"gpu_model": "l40s"} for i in range(1, 5)},
        },
    }


def write_inventory(root: Path, tree: dict[str, Any]) -> Path:
    """``tree``: switches (group -> topology_switch or None), hosts (group -> host -> vars), all vars
    (no ``all`` key: no group_vars/all.yml is written)."""
    inv = root / "inv"
    (inv / "group_vars").mkdir(parents=True)
    children: dict[str, Any] = {}
    for group in tree["switches"]:
        children[group] = {}
    for group, hosts in tree["hosts"].items():
        children.setdefault(group, {})["hosts"] = hosts
    (inv / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": children}}))
    for group, spec in tree["switches"].items():
        if spec is not None:
            (inv / "group_vars" / f"{group}.yml").write_text(yaml.safe_dump({"topology_switch": spec}))
    if "all" in tree:
        (inv / "group_vars" / "all.yml").write_text(yaml.safe_dump(tree["all"]))
    return inv
