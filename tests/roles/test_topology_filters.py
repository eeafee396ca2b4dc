"""The filters that hand the package's one definitions to the roles (no cluster)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from ansible.errors import AnsibleFilterError

from hypertopo.rollout.hypernodes import OWNER_LABELS
from hypertopo.topology.labels import GPU_RESOURCE, MANAGED_LABEL_KEYS, label_keys
from hypertopo.topology.objects import model_hypernode_objects

PLUGINS = Path(__file__).resolve().parents[2] / "filter_plugins"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_filters_{name}", PLUGINS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hypertopo_key_is_the_package_definition():
    key = load("hypertopo_topology").FilterModule().filters()["hypertopo_key"]
    assert {name: key(name) for name in label_keys()} == label_keys()
    assert [key(n) for n in ("switch", "switch_type", "gpu_type", "managed")] == list(MANAGED_LABEL_KEYS)
    assert key("gpu_resource") == GPU_RESOURCE
    with pytest.raises(AnsibleFilterError, match="unknown name 'rack'"):
        key("rack")


SWITCHES = [
    {"name": "leaf-e", "tier": 1, "type": "ethernet", "children": [], "leaf": True},
    {"name": "leaf-i", "tier": 1, "type": "ib", "children": [], "leaf": True},
    {"name": "agg", "tier": 2, "type": "ib", "children": ["leaf-e", "leaf-i"], "leaf": False},
]


def test_hypernodes_objects_are_the_package_rendering_with_our_owner_labels():
    objects = load("hypertopo_hypernodes").FilterModule().filters()["hypernodes_objects"]
    model = {"switches": SWITCHES}
    assert objects(SWITCHES) == model_hypernode_objects(model, labels=OWNER_LABELS)
    ib = objects(SWITCHES, switch_types=["ib"], owner_labels={"o": "x"}, tier_names={2: "spine"})
    expected = model_hypernode_objects(model, switch_types=["ib"], labels={"o": "x"}, tier_names={2: "spine"})
    assert ib == expected
    assert [h["metadata"]["name"] for h in ib] == ["leaf-i", "agg"]
    assert ib[1]["spec"]["tierName"] == "spine"
